// OpenSSL's libcrypto from Debian (libssl-dev): SHA-256 through the EVP one-shot digest only.
#include <openssl/evp.h>
