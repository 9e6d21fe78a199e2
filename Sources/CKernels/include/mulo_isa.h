#ifndef MULO_ISA_H
#define MULO_ISA_H

// Which kernel variant this build holds (simd.h): benchmarks print it, and a test checks it
// against the host CPU so that a silent fall-back to a slower path is caught.

/// "avx512", "avx2", "neon", "sse2" or "generic".
const char *mulo_kernel_isa(void);
/// The -march the kernels were compiled with ("native" unless MULO_MARCH was set).
const char *mulo_kernel_march(void);
/// Floats per native vector, and hidden units per register block of the LO's MLP.
int mulo_kernel_vector_lanes(void);
int mulo_kernel_hidden_block(void);

#endif
