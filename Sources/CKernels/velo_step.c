// VeLO's per-parameter part (VELO §3.4): the sweeps of lo_step_body.h with the interpolated MLP
// (hidden 4; layer 2 has three outputs, of which d and m are used).
#define LO_H 4
#define LO_W2S 3
#define LO_VELO 1
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

void mulo_velo_moments1(const float *p, const float *m, const float *v, size_t n, size_t e0, size_t e1, double out[5]) {
    vdn acc[5] = {{0}};
    double tail[5] = {0};
    const size_t nv = e0 + (e1 - e0) / VL * VL;
    for (size_t e = e0; e < nv; e += VL) {
        const vdn pe = widen(p + e);
        acc[0] += pe * pe;
        for (int k = 0; k < 3; k++) acc[1 + k] += widen(m + k * n + e);
        acc[4] += widen(v + e);
    }
    for (size_t e = nv; e < e1; e++) {
        tail[0] += (double)p[e] * p[e];
        for (int k = 0; k < 3; k++) tail[1 + k] += m[k * n + e];
        tail[4] += v[e];
    }
    for (int s = 0; s < 5; s++) out[s] = vdsum(acc[s]) + tail[s];
}

void mulo_velo_moments2(const float *m, const float *v, size_t n, size_t e0, size_t e1, double rho, const double mu[3],
                        double out[6]) {
    vdn acc[6] = {{0}};
    double tail[6] = {0};
    const size_t nv = e0 + (e1 - e0) / VL * VL;
    for (size_t e = e0; e < nv; e += VL) {
        const vdn vh = widen(v + e) * rho;
        for (int k = 0; k < 3; k++) {
            const vdn dm = widen(m + k * n + e) * rho - mu[k], dv = vh - mu[k];
            acc[k] += dm * dm;
            acc[3 + k] += dv * dv;
        }
    }
    for (size_t e = nv; e < e1; e++) {
        const double vh = v[e] * rho;
        for (int k = 0; k < 3; k++) {
            const double dm = m[k * n + e] * rho - mu[k], dv = vh - mu[k];
            tail[k] += dm * dm;
            tail[3 + k] += dv * dv;
        }
    }
    for (int s = 0; s < 6; s++) out[s] = vdsum(acc[s]) + tail[s];
}
