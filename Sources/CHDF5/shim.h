// HDF5 for snnc's NIR reader. Used only by Sources/SNNCImport/HDF5.swift.
//
// libhdf5 is not safe on hostile files (the fuzzer finds heap overflows in its global-heap
// reader within seconds), so snnc never calls it in its own process: HDF5.swift forks a child
// that runs snnc_hdf5_dump below — plain C, no Swift runtime — and reads what it writes to a
// pipe. A child that crashes, loops or writes garbage costs the parent a diagnostic, not its
// life. The dump is a flat list of records (all integers little-endian):
//   'G' u32 n, path[n]                                  a group
//   'N' u32 n, path[n], u32 rank, u64 dims[rank], f64 values[Π dims]   a numeric dataset
//   'S' u32 n, path[n], u32 rank, u64 dims[rank], then per element u32 m, bytes[m]
//   'X' u32 n, path[n]                                  a dataset of another type (skipped)
//   'E'                                                 the end (absent: the child failed)
#include <hdf5.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SNNC_H5_MAX_RANK 8
#define SNNC_H5_MAX_ELEMENTS (1u << 28)
#define SNNC_H5_MAX_STRING (1u << 20)

typedef struct { int fd; int failed; } snnc_h5_out;

static inline void snnc_h5_write(snnc_h5_out *o, const void *p, size_t n) {
    const char *c = (const char *)p;
    while (n > 0 && !o->failed) {
        ssize_t w = write(o->fd, c, n);
        if (w <= 0) { o->failed = 1; return; }
        c += w;
        n -= (size_t)w;
    }
}

static inline void snnc_h5_u32(snnc_h5_out *o, uint32_t v) { snnc_h5_write(o, &v, 4); }
static inline void snnc_h5_u64(snnc_h5_out *o, uint64_t v) { snnc_h5_write(o, &v, 8); }

static inline void snnc_h5_head(snnc_h5_out *o, char tag, const char *path) {
    size_t n = strnlen(path, 4096);
    snnc_h5_write(o, &tag, 1);
    snnc_h5_u32(o, (uint32_t)n);
    snnc_h5_write(o, path, n);
}

static inline void snnc_h5_dataset(snnc_h5_out *o, hid_t file, const char *path) {
    hid_t d = H5Dopen2(file, path, H5P_DEFAULT);
    if (d < 0) { snnc_h5_head(o, 'X', path); return; }
    hid_t space = H5Dget_space(d), type = H5Dget_type(d);
    int rank = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
    hsize_t dims[SNNC_H5_MAX_RANK];
    uint64_t count = 1;
    int ok = type >= 0 && rank >= 0 && rank <= SNNC_H5_MAX_RANK && H5Sget_simple_extent_dims(space, dims, NULL) >= 0;
    for (int k = 0; ok && k < rank; k++) {
        if (dims[k] > SNNC_H5_MAX_ELEMENTS || count * dims[k] > SNNC_H5_MAX_ELEMENTS) ok = 0; else count *= dims[k];
    }
    H5T_class_t cls = ok ? H5Tget_class(type) : H5T_NO_CLASS;
    if (ok && (cls == H5T_INTEGER || cls == H5T_FLOAT)) {
        double *v = (double *)malloc((size_t)(count ? count : 1) * sizeof(double));
        if (v && (count == 0 || H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0)) {
            snnc_h5_head(o, 'N', path);
            snnc_h5_u32(o, (uint32_t)rank);
            for (int k = 0; k < rank; k++) snnc_h5_u64(o, dims[k]);
            snnc_h5_write(o, v, (size_t)count * sizeof(double));
        } else {
            snnc_h5_head(o, 'X', path);
        }
        free(v);
    } else if (ok && cls == H5T_STRING) {
        int variable = H5Tis_variable_str(type) > 0;
        size_t size = H5Tget_size(type);
        hid_t mem = H5Tcopy(H5T_C_S1);
        int readable = mem >= 0;
        char **ptrs = NULL;
        char *fixed = NULL;
        if (readable && variable) {
            readable = H5Tset_size(mem, H5T_VARIABLE) >= 0 && H5Tset_cset(mem, H5T_CSET_UTF8) >= 0;
            ptrs = (char **)calloc((size_t)(count ? count : 1), sizeof(char *));
            readable = readable && ptrs && (count == 0 || H5Dread(d, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs) >= 0);
        } else if (readable) {
            readable = size > 0 && size <= SNNC_H5_MAX_STRING && (uint64_t)size * count <= SNNC_H5_MAX_ELEMENTS
                       && H5Tset_size(mem, size) >= 0;
            fixed = readable ? (char *)calloc((size_t)(count ? count : 1), size) : NULL;
            readable = readable && fixed && (count == 0 || H5Dread(d, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, fixed) >= 0);
        }
        if (readable) {
            snnc_h5_head(o, 'S', path);
            snnc_h5_u32(o, (uint32_t)rank);
            for (int k = 0; k < rank; k++) snnc_h5_u64(o, dims[k]);
            for (uint64_t i = 0; i < count; i++) {
                const char *s = variable ? ptrs[i] : fixed + i * size;
                size_t m = s ? strnlen(s, variable ? SNNC_H5_MAX_STRING : size) : 0;
                snnc_h5_u32(o, (uint32_t)m);
                snnc_h5_write(o, s, m);
            }
        } else {
            snnc_h5_head(o, 'X', path);
        }
        free(ptrs);  // the strings themselves die with the child
        free(fixed);
        if (mem >= 0) H5Tclose(mem);
    } else {
        snnc_h5_head(o, 'X', path);
    }
    if (type >= 0) H5Tclose(type);
    if (space >= 0) H5Sclose(space);
    H5Dclose(d);
}

typedef struct { snnc_h5_out *out; hid_t file; unsigned long objects; } snnc_h5_walk;

static inline herr_t snnc_h5_visit(hid_t obj, const char *name, const H5O_info_t *info, void *data) {
    (void)obj;
    snnc_h5_walk *w = (snnc_h5_walk *)data;
    if (++w->objects > 100000 || w->out->failed) return -1;
    char path[4200];
    if (strcmp(name, ".") == 0) strcpy(path, "/");
    else { path[0] = '/'; strncpy(path + 1, name, 4097); path[4098] = 0; }
    if (info->type == H5O_TYPE_GROUP) snnc_h5_head(w->out, 'G', path);
    else if (info->type == H5O_TYPE_DATASET) snnc_h5_dataset(w->out, w->file, path);
    return 0;
}

/// Writes the dump of the HDF5 file at `path` to `fd`; 0 on success. Meant for a forked child.
static inline int snnc_hdf5_dump(const char *path, int fd) {
    // A crash here must end the child quietly: no inherited handler (the Swift runtime's
    // backtracer, a sanitizer's) may report it as snnc's own.
    int fatal[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP };
    for (unsigned k = 0; k < sizeof fatal / sizeof fatal[0]; k++) signal(fatal[k], SIG_DFL);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    snnc_h5_out out = { fd, 0 };
    if (H5Fis_hdf5(path) <= 0) return 2;
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) return 3;
    snnc_h5_walk w = { &out, f, 0 };
    herr_t r = H5Ovisit2(f, H5_INDEX_NAME, H5_ITER_INC, snnc_h5_visit, &w, H5O_INFO_BASIC);
    H5Fclose(f);
    if (r < 0 || out.failed) return 4;
    char end = 'E';
    snnc_h5_write(&out, &end, 1);
    return out.failed ? 4 : 0;
}

// Writing (`snnc export-nir`). libhdf5 never runs in snnc's own process (a forked reader would
// inherit its state mid-call), so a forked child writes the file from a buffer of records the
// parent built (all integers little-endian), then exits:
//   'D'|'I' u32 n, path[n], u32 rank, u64 dims[rank], f64|i64 values[Π dims]   a dataset
//   'S'     u32 n, path[n], u32 rank, u64 dims[rank], then per element u32 m, bytes[m]
//   'E'                                                                     the end
// Parent groups are created on first use; objects carry no modification times (the same
// records give the same bytes). Returns 0 on success.
typedef struct { const uint8_t *p; size_t left; } snnc_h5r;

static inline int snnc_h5r_take(snnc_h5r *r, void *out, size_t n) {
    if (r->left < n) return -1;
    memcpy(out, r->p, n);
    r->p += n; r->left -= n;
    return 0;
}

static inline int snnc_h5w_parents(hid_t f, const char *path, hid_t gcpl) {
    char buf[4096];
    size_t n = strlen(path);
    if (n >= sizeof buf) return -1;
    memcpy(buf, path, n + 1);
    for (size_t k = 1; k < n; k++) {
        if (buf[k] != '/') continue;
        buf[k] = 0;
        htri_t e = H5Lexists(f, buf, H5P_DEFAULT);
        if (e < 0) return -1;
        if (e == 0) {
            hid_t g = H5Gcreate2(f, buf, H5P_DEFAULT, gcpl, H5P_DEFAULT);
            if (g < 0) return -1;
            H5Gclose(g);
        }
        buf[k] = '/';
    }
    return 0;
}

static inline int snnc_h5w_record(hid_t f, snnc_h5r *r, char tag, hid_t dcpl, hid_t gcpl) {
    uint32_t n, rank;
    char path[4096];
    if (snnc_h5r_take(r, &n, 4) || n == 0 || n >= sizeof path || snnc_h5r_take(r, path, n)) return -1;
    path[n] = 0;
    if (snnc_h5r_take(r, &rank, 4) || rank > SNNC_H5_MAX_RANK) return -1;
    hsize_t dims[SNNC_H5_MAX_RANK];
    uint64_t count = 1;
    for (uint32_t k = 0; k < rank; k++) {
        uint64_t d;
        if (snnc_h5r_take(r, &d, 8) || d > SNNC_H5_MAX_ELEMENTS) return -1;
        dims[k] = d;
        count *= d;
        if (count > SNNC_H5_MAX_ELEMENTS) return -1;
    }
    if (snnc_h5w_parents(f, path, gcpl)) return -1;
    hid_t s = rank == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple((int)rank, dims, NULL);
    if (s < 0) return -1;
    int rc = -1;
    if (tag == 'S') {
        char **v = calloc(count ? count : 1, sizeof(char *));
        int ok = v != NULL;
        for (uint64_t k = 0; ok && k < count; k++) {
            uint32_t m;
            if (snnc_h5r_take(r, &m, 4) || m > SNNC_H5_MAX_STRING || !(v[k] = malloc(m + 1)) || snnc_h5r_take(r, v[k], m)) { ok = 0; break; }
            v[k][m] = 0;
        }
        hid_t t = H5Tcopy(H5T_C_S1);
        if (ok && t >= 0 && H5Tset_size(t, H5T_VARIABLE) >= 0 && H5Tset_cset(t, H5T_CSET_UTF8) >= 0) {
            hid_t d = H5Dcreate2(f, path, t, s, H5P_DEFAULT, dcpl, H5P_DEFAULT);
            if (d >= 0) { rc = H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0 ? -1 : 0; H5Dclose(d); }
        }
        if (t >= 0) H5Tclose(t);
        for (uint64_t k = 0; v && k < count; k++) free(v[k]);
        free(v);
    } else {
        size_t bytes = (size_t)count * 8;
        if (r->left >= bytes) {
            hid_t ft = tag == 'D' ? H5T_IEEE_F64LE : H5T_STD_I64LE, mt = tag == 'D' ? H5T_IEEE_F64LE : H5T_STD_I64LE;
            hid_t d = H5Dcreate2(f, path, ft, s, H5P_DEFAULT, dcpl, H5P_DEFAULT);
            if (d >= 0) { rc = H5Dwrite(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, r->p) < 0 ? -1 : 0; H5Dclose(d); }
            r->p += bytes; r->left -= bytes;
        }
    }
    H5Sclose(s);
    return rc;
}

/// Writes the records in `buf` as the HDF5 file `path`; 0 on success. Meant for a forked child.
static inline int snnc_hdf5_write(const char *path, const uint8_t *buf, size_t len) {
    int fatal[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP };
    for (unsigned k = 0; k < sizeof fatal / sizeof fatal[0]; k++) signal(fatal[k], SIG_DFL);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t fcpl = H5Pcreate(H5P_FILE_CREATE), gcpl = H5Pcreate(H5P_GROUP_CREATE), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (fcpl < 0 || gcpl < 0 || dcpl < 0) return 3;
    H5Pset_obj_track_times(fcpl, 0);
    H5Pset_obj_track_times(gcpl, 0);
    H5Pset_obj_track_times(dcpl, 0);
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, fcpl, H5P_DEFAULT);
    if (f < 0) return 2;
    snnc_h5r r = { buf, len };
    int rc = 0;
    for (;;) {
        char tag;
        if (snnc_h5r_take(&r, &tag, 1)) { rc = 4; break; }
        if (tag == 'E') break;
        if ((tag != 'D' && tag != 'I' && tag != 'S') || snnc_h5w_record(f, &r, tag, dcpl, gcpl)) { rc = 4; break; }
    }
    if (H5Fclose(f) < 0 && rc == 0) rc = 4;
    return rc;
}
