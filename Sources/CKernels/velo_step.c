// VeLO's per-parameter part (VELO §3.4): the sweeps of lo_step_body.h with the interpolated MLP
// (hidden 4; layer 2 has three outputs, of which d and m are used).
#define LO_H 4
#define LO_W2S 3
#define LO_VELO 1
// One tile per block with all 4 hidden units in registers (simd.h's default). Measured on a 2-core
// Zen 3 (bench lo, 1 thread): two tiles with 2 units per register block, 0-5% slower; the exps of
// 8 blocks run after those blocks' MLPs (independent iterations, not a chain at each block's end),
// no faster. Both give the same bits, so either is free to revisit on another CPU.
#define FN(name) mulo_velo_##name
#include "lo_step_body.h"
#include <stdlib.h>

// ---- the per-tensor statistics of VELO §1.4 ----

typedef double vdn __attribute__((vector_size(VL * 8)));

INLINE vdn widen(const float *x) {
    float f[VL];
    memcpy(f, x, sizeof f);
    vdn d;
    for (int k = 0; k < VL; k++) d[k] = f[k];
    return d;
}

INLINE double vdsum(vdn x) {
    double t = 0;
    for (int k = 0; k < VL; k++) t += x[k];
    return t;
}

void mulo_velo_moments(const float *p, const float *m, const float *v, size_t n, size_t e0, size_t e1,
                       const float shift[4], double out[9]) {
    vdn acc[9] = {{0}};
    double tail[9] = {0};
    const size_t nv = e0 + (e1 - e0) / VL * VL;
    for (size_t e = e0; e < nv; e += VL) {
        const vdn pe = widen(p + e);
        acc[0] += pe * pe;
        for (int i = 0; i < 4; i++) {
            const vdn d = widen(i < 3 ? m + i * n + e : v + e) - (double)shift[i];
            acc[1 + 2 * i] += d;
            acc[2 + 2 * i] += d * d;
        }
    }
    for (size_t e = nv; e < e1; e++) {
        tail[0] += (double)p[e] * p[e];
        for (int i = 0; i < 4; i++) {
            const double d = (double)(i < 3 ? m[i * n + e] : v[e]) - shift[i];
            tail[1 + 2 * i] += d;
            tail[2 + 2 * i] += d * d;
        }
    }
    for (int s = 0; s < 9; s++) out[s] = vdsum(acc[s]) + tail[s];
}

// ---- the per-tensor network's layers ----

typedef double vd4 __attribute__((vector_size(32)));

INLINE vd4 widen_lo(vf8 x) { return __builtin_convertvector(__builtin_shufflevector(x, x, 0, 1, 2, 3), vd4); }
INLINE vd4 widen_hi(vf8 x) { return __builtin_convertvector(__builtin_shufflevector(x, x, 4, 5, 6, 7), vd4); }

// Inputs per panel: each block of 8 outputs takes its strip of the panel (64 × 8 floats, in L1)
// through every block of rows, so W is read from memory once for all rows (8 MB for VeLO-4000's
// LSTM); 64 measured fastest of 16–128 (Zen 3).
#define AFFINE_KC 64

/// Rows' outputs o..o+8 over inputs i0..i1 (R = 4 rows or 1): loaded, each adds its products in
/// input order, stored. Named accumulators: with an array the compiler kept them on the stack.
#define AFFINE_BLOCK(R)                                                                             \
    INLINE void affine_block##R(const double *x, size_t n_in, const float *strip, size_t n_out, size_t o, \
                                size_t i0, size_t i1, double *out) {                                \
        vd4 a0, a1, b0 = {0}, b1 = {0}, c0 = {0}, c1 = {0}, d0 = {0}, d1 = {0};                    \
        memcpy(&a0, out + o, 32), memcpy(&a1, out + o + 4, 32);                                    \
        if (R == 4) {                                                                              \
            memcpy(&b0, out + n_out + o, 32), memcpy(&b1, out + n_out + o + 4, 32);                \
            memcpy(&c0, out + 2 * n_out + o, 32), memcpy(&c1, out + 2 * n_out + o + 4, 32);        \
            memcpy(&d0, out + 3 * n_out + o, 32), memcpy(&d1, out + 3 * n_out + o + 4, 32);        \
        }                                                                                          \
        for (size_t i = i0; i < i1; i++) {                                                         \
            const vf8 wf = ld8(strip + (i - i0) * 8);                                              \
            const vd4 w0 = widen_lo(wf), w1 = widen_hi(wf);                                       \
            const double xa = x[i];                                                                \
            a0 += xa * w0, a1 += xa * w1;                                                          \
            if (R == 4) {                                                                          \
                const double xb = x[n_in + i], xc = x[2 * n_in + i], xd = x[3 * n_in + i];         \
                b0 += xb * w0, b1 += xb * w1;                                                      \
                c0 += xc * w0, c1 += xc * w1;                                                      \
                d0 += xd * w0, d1 += xd * w1;                                                      \
            }                                                                                      \
        }                                                                                          \
        memcpy(out + o, &a0, 32), memcpy(out + o + 4, &a1, 32);                                    \
        if (R == 4) {                                                                              \
            memcpy(out + n_out + o, &b0, 32), memcpy(out + n_out + o + 4, &b1, 32);                \
            memcpy(out + 2 * n_out + o, &c0, 32), memcpy(out + 2 * n_out + o + 4, &c1, 32);        \
            memcpy(out + 3 * n_out + o, &d0, 32), memcpy(out + 3 * n_out + o + 4, &d1, 32);        \
        }                                                                                          \
    }
AFFINE_BLOCK(4)
AFFINE_BLOCK(1)

void mulo_velo_affine(const double *x, size_t rows, size_t n_in, const float *w, size_t n_out, size_t o0, size_t o1,
                      double *out) {
    for (size_t r = 0; r < rows; r++)
        for (size_t o = o0; o < o1; o++) out[r * n_out + o] = 0;
    // The panel's blocks of 8 outputs, each a contiguous strip [i][8]: W's rows lie n_out floats
    // apart, a power of two for VeLO-4000 (2048), so a strip read in place, and one packed
    // without padding, had every load in the same few cache sets (a third of the speed).
    // Each thread keeps its buffer for the next call (at most 4.3 MB, for LSTM size 4096); without
    // one, the plain loop below takes every output.
    static _Thread_local float *packed;
    static _Thread_local size_t capacity;
    const size_t stride = AFFINE_KC * 8 + 16;
    size_t blocks = (o1 - o0) / 8;
    if (blocks * stride > capacity) {
        free(packed);
        packed = malloc(blocks * stride * sizeof(float));
        capacity = packed ? blocks * stride : 0;
    }
    if (!packed) blocks = 0;
    for (size_t i0 = 0; i0 < n_in; i0 += AFFINE_KC) {
        const size_t i1 = i0 + AFFINE_KC < n_in ? i0 + AFFINE_KC : n_in;
        for (size_t i = i0; i < i1; i++)
            for (size_t k = 0; k < blocks; k++) memcpy(packed + k * stride + (i - i0) * 8, w + i * n_out + o0 + 8 * k, 32);
        for (size_t k = 0; k < blocks; k++) {
            const size_t o = o0 + 8 * k;
            size_t r = 0;
            for (; r + 4 <= rows; r += 4) affine_block4(x + r * n_in, n_in, packed + k * stride, n_out, o, i0, i1, out + r * n_out);
            for (; r < rows; r++) affine_block1(x + r * n_in, n_in, packed + k * stride, n_out, o, i0, i1, out + r * n_out);
        }
        for (size_t o = o0 + 8 * blocks; o < o1; o++) {
            for (size_t r = 0; r < rows; r++) {
                double acc = out[r * n_out + o];
                for (size_t i = i0; i < i1; i++) acc += x[r * n_in + i] * (double)w[i * n_out + o];
                out[r * n_out + o] = acc;
            }
        }
    }
}
