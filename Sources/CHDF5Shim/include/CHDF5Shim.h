#ifndef MULO_CHDF5SHIM_H
#define MULO_CHDF5SHIM_H
#include <stddef.h>
#include <stdint.h>

// HDF5 exposes its predefined types, property-list classes and file modes as macros that
// expand to global ids behind H5open(); Swift cannot import those, so these functions return them.
int64_t mulo_h5t_native_float(void);
int64_t mulo_h5t_native_double(void);
int64_t mulo_h5t_native_int32(void);
int64_t mulo_h5t_native_int64(void);
int64_t mulo_h5t_native_uint8(void);
int64_t mulo_h5t_ieee_f32le(void);
int64_t mulo_h5t_ieee_f64le(void);
int64_t mulo_h5t_std_i32le(void);
int64_t mulo_h5t_std_i64le(void);
int64_t mulo_h5t_std_u8le(void);
int64_t mulo_h5t_c_s1(void);
int64_t mulo_h5p_dataset_create(void);
int64_t mulo_h5p_file_access(void);
int64_t mulo_h5p_file_create(void);
int64_t mulo_h5p_group_create(void);
unsigned mulo_h5f_acc_trunc(void);
unsigned mulo_h5f_acc_excl(void);
unsigned mulo_h5f_acc_rdonly(void);
unsigned mulo_h5f_acc_rdwr(void);
uint64_t mulo_h5s_unlimited(void);
size_t mulo_h5t_variable(void);
/// Turns off HDF5's automatic printing of its error stack.
void mulo_h5_silence_errors(void);
/// Writes the innermost message of the current HDF5 error stack into buf (empty if none).
void mulo_h5_last_error(char *buf, size_t len);
/// Opens `path` read-only and reads every object's attributes and every dataset (those of at
/// most `max_bytes`): what libhdf5 parses when MuLO later reads the file. 0 if all of it read,
/// -1 on a library error. Run in a child process for files MuLO did not seal, where a malformed
/// file can make libhdf5 1.10 crash instead of failing.
int mulo_h5_probe(const char *path, size_t max_bytes);

#endif
