// HDF5's property-list, type and access-flag identifiers are macros over library globals that
// Swift cannot import; these functions hand them over. Used only by Sources/SNNCImport/HDF5.swift.
#include <hdf5.h>

static inline hid_t snnc_h5p_default(void) { return H5P_DEFAULT; }
static inline hid_t snnc_h5s_all(void) { return H5S_ALL; }
static inline hid_t snnc_h5t_native_double(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t snnc_h5t_c_s1(void) { return H5T_C_S1; }
static inline unsigned snnc_h5f_acc_rdonly(void) { return H5F_ACC_RDONLY; }
static inline hid_t snnc_h5e_default(void) { return H5E_DEFAULT; }
/// Silences HDF5's error stack printing (snnc reports its own diagnostics).
static inline void snnc_h5_quiet(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }
