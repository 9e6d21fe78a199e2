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
