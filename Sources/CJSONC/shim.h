#ifndef SNNC_CJSONC_SHIM_H
#define SNNC_CJSONC_SHIM_H
#include <json-c/json.h>
#endif
