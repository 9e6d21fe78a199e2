#ifndef MULO_KERNELS_H
#define MULO_KERNELS_H
#include <stddef.h>

// Fast elementwise optimizer kernels. They live in C because Swift on Linux lowers
// Float.squareRoot() to a libm call with errno semantics, which blocks vectorisation;
// clang with -fno-math-errno turns these loops into AVX code. Plain Swift references of the
// same formulas are in the MuLO target and the tests compare the two.

/// Adam/AdamW/μAdam on n elements:
///   m = b1·m + (1−b1)·g;  v = b2·v + (1−b2)·g²;  p −= step·((m·inv_bc1)/(sqrt(v·inv_bc2)+eps) + wd·p)
void mulo_adam_update(float *restrict p, float *restrict m, float *restrict v, const float *restrict g,
                      size_t n, float b1, float b2, float inv_bc1, float inv_bc2, float eps, float step,
                      float wd);

/// Heavy-ball SGD: vel = mu·vel + g;  p −= lr·vel.
void mulo_sgd_update(float *restrict p, float *restrict vel, const float *restrict g, size_t n,
                     float mu, float lr);

/// The memory-bandwidth probe of `mulo bench`: m = b·m + (1−b)·g (reads 8 B, writes 4 B an
/// element), the access pattern of the optimizers' sweeps.
void mulo_stream_update(float *restrict m, const float *restrict g, size_t n, float b);

#endif
