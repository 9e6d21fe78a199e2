#include "CHDF5Shim.h"
#include <hdf5.h>
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
int64_t mulo_h5p_link_create(void) { return H5P_LINK_CREATE; }
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
