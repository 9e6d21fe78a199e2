#ifndef MULO_TRANSFORMER_H
#define MULO_TRANSFORMER_H
#include <stddef.h>

/// f = 0.5·u·(1 + tanh(√(2/π)·(u + 0.044715·u³))), the tanh-approximate GELU (TRANSFORMERS §2.1).
void mulo_gelu(const float *u, float *f, size_t n);

/// d ← d·gelu′(u), in place.
void mulo_gelu_backward(float *d, const float *u, size_t n);

#endif
