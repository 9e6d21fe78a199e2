#ifndef MULO_TRANSFORMER_H
#define MULO_TRANSFORMER_H
#include <stddef.h>
#include <stdint.h>

/// f = 0.5·u·(1 + tanh(√(2/π)·(u + 0.044715·u³))), the tanh-approximate GELU (TRANSFORMERS §2.1).
void mulo_gelu(const float *u, float *f, size_t n);

/// d ← d·gelu′(u), in place.
void mulo_gelu_backward(float *d, const float *u, size_t n);

/// Inverted-dropout mask: mask[i] = keep if u(first + i) ≥ rate, else 0, where u(j) is
/// `RNGKey(k0, k1).uniform(at: j)` — word 0 of Philox4x32-10 at counter (lo32 j, hi32 j, 0, tag),
/// top 24 bits, · 2⁻²⁴ — bit for bit (the Swift generator is the reference).
void mulo_dropout_mask(float *mask, uint64_t first, size_t n, uint32_t k0, uint32_t k1, uint32_t tag,
                       float rate, float keep);

#endif
