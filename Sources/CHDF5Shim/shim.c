#include "CHDF5Shim.h"
#include <hdf5.h>
#include <stdlib.h>
#include <string.h>

int64_t mulo_h5t_native_float(void) { return H5T_NATIVE_FLOAT; }
int64_t mulo_h5t_native_double(void) { return H5T_NATIVE_DOUBLE; }
int64_t mulo_h5t_native_int32(void) { return H5T_NATIVE_INT32; }
int64_t mulo_h5t_native_int64(void) { return H5T_NATIVE_INT64; }
int64_t mulo_h5t_native_uint8(void) { return H5T_NATIVE_UINT8; }
int64_t mulo_h5t_ieee_f32le(void) { return H5T_IEEE_F32LE; }
int64_t mulo_h5t_ieee_f64le(void) { return H5T_IEEE_F64LE; }
int64_t mulo_h5t_std_i32le(void) { return H5T_STD_I32LE; }
int64_t mulo_h5t_std_i64le(void) { return H5T_STD_I64LE; }
int64_t mulo_h5t_std_u8le(void) { return H5T_STD_U8LE; }
int64_t mulo_h5t_c_s1(void) { return H5T_C_S1; }
int64_t mulo_h5p_dataset_create(void) { return H5P_DATASET_CREATE; }
int64_t mulo_h5p_file_access(void) { return H5P_FILE_ACCESS; }
int64_t mulo_h5p_file_create(void) { return H5P_FILE_CREATE; }
int64_t mulo_h5p_group_create(void) { return H5P_GROUP_CREATE; }
unsigned mulo_h5f_acc_trunc(void) { return H5F_ACC_TRUNC; }
unsigned mulo_h5f_acc_excl(void) { return H5F_ACC_EXCL; }
unsigned mulo_h5f_acc_rdonly(void) { return H5F_ACC_RDONLY; }
unsigned mulo_h5f_acc_rdwr(void) { return H5F_ACC_RDWR; }
uint64_t mulo_h5s_unlimited(void) { return H5S_UNLIMITED; }
size_t mulo_h5t_variable(void) { return H5T_VARIABLE; }

void mulo_h5_silence_errors(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

static herr_t keep_innermost(unsigned n, const H5E_error2_t *err, void *data) {
    char *buf = (char *)((void **)data)[0];
    size_t len = *(size_t *)((void **)data)[1];
    if (n == 0 && err->desc) {
        strncpy(buf, err->desc, len - 1);
        buf[len - 1] = 0;
    }
    return 0;
}

void mulo_h5_last_error(char *buf, size_t len) {
    if (len == 0) return;
    buf[0] = 0;
    void *data[2] = {buf, &len};
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, keep_innermost, data);
}

// ---- mulo_h5_probe: read everything libhdf5 would parse in a file MuLO did not seal ----

typedef struct { size_t max_bytes; } probe_limits;

// Reads n values of `type` from `obj` (a dataset or attribute) if they fit the limit; variable-
// length strings are read and reclaimed too, since their heaps are parsed on read.
static herr_t probe_read(hid_t obj, hid_t type, hid_t space, int is_attr, const probe_limits *lim) {
    hssize_t n = H5Sget_simple_extent_npoints(space);
    size_t size = H5Tget_size(type);
    if (n < 0 || size == 0) return -1;
    if (H5Tis_variable_str(type) > 0) {
        if ((size_t)n > lim->max_bytes / sizeof(char *)) return 0;
        char **buf = calloc((size_t)n + 1, sizeof(char *));
        hid_t mem = H5Tcopy(H5T_C_S1);
        H5Tset_size(mem, H5T_VARIABLE);
        herr_t r = is_attr ? H5Aread(obj, mem, buf) : H5Dread(obj, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
        if (r >= 0) H5Dvlen_reclaim(mem, space, H5P_DEFAULT, buf);
        H5Tclose(mem);
        free(buf);
        return r;
    }
    if ((size_t)n > lim->max_bytes / size) return 0;
    void *buf = malloc((size_t)n * size + 1);
    if (!buf) return -1;
    herr_t r = is_attr ? H5Aread(obj, type, buf) : H5Dread(obj, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
    free(buf);
    return r;
}

static herr_t probe_attribute(hid_t loc, const char *name, const H5A_info_t *info, void *data) {
    (void)info;
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    if (a < 0) return -1;
    hid_t t = H5Aget_type(a), s = H5Aget_space(a);
    herr_t r = (t < 0 || s < 0) ? -1 : probe_read(a, t, s, 1, data);
    if (t >= 0) H5Tclose(t);
    if (s >= 0) H5Sclose(s);
    H5Aclose(a);
    return r < 0 ? -1 : 0;
}

static herr_t probe_object(hid_t loc, const char *name, const H5O_info_t *info, void *data) {
    hid_t o = H5Oopen(loc, name, H5P_DEFAULT);
    if (o < 0) return -1;
    herr_t r = H5Aiterate2(o, H5_INDEX_NAME, H5_ITER_NATIVE, NULL, probe_attribute, data);
    if (r >= 0 && info->type == H5O_TYPE_DATASET) {
        hid_t t = H5Dget_type(o), s = H5Dget_space(o);
        r = (t < 0 || s < 0) ? -1 : probe_read(o, t, s, 0, data);
        if (t >= 0) H5Tclose(t);
        if (s >= 0) H5Sclose(s);
    }
    H5Oclose(o);
    return r < 0 ? -1 : 0;
}

int mulo_h5_probe(const char *path, size_t max_bytes) {
    probe_limits lim = { max_bytes };
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) return -1;
    herr_t r = H5Ovisit2(f, H5_INDEX_NAME, H5_ITER_NATIVE, probe_object, &lim, H5O_INFO_BASIC);
    H5Fclose(f);
    return r < 0 ? -1 : 0;
}
