// Elementwise loops of the transformer tasks, vectorised for the ISA the package is built for
// (simd.h). TransformerKernels.swift holds the plain references the tests compare them with.
#include "mulo_transformer.h"
#include "simd.h"

#define GELU_C 0.7978845608028654f  // √(2/π)

/// e^{2z} for z clamped to ±40 (tanh is ±1 in float32 well before): vexp's own clamp would give
/// +∞ at its top, and ∞·0 = NaN in the derivative.
INLINE vn vexp2z(vn z) { return vexp(2.0f * vmin(vmax(z, bc(-40.0f)), bc(40.0f))); }

/// tanh(z) = 1 − 2/(1 + e^{2z}), absolute error ~1e-7.
INLINE vn vtanh(vn z) { return 1.0f - 2.0f / (1.0f + vexp2z(z)); }

INLINE float tanh1(float z) {
    vn t = vtanh(bc(z));
    return t[0];
}

void mulo_gelu(const float *u, float *f, size_t n) {
    size_t i = 0;
    for (; i + VL <= n; i += VL) {
        vn x;
        memcpy(&x, u + i, sizeof x);
        vn y = 0.5f * x * (1.0f + vtanh(GELU_C * (x + 0.044715f * x * x * x)));
        memcpy(f + i, &y, sizeof y);
    }
    for (; i < n; i++) {
        float x = u[i];
        f[i] = 0.5f * x * (1.0f + tanh1(GELU_C * (x + 0.044715f * x * x * x)));
    }
}

void mulo_gelu_backward(float *d, const float *u, size_t n) {
    size_t i = 0;
    for (; i + VL <= n; i += VL) {
        vn x, g;
        memcpy(&x, u + i, sizeof x);
        memcpy(&g, d + i, sizeof g);
        // With e = exp(2z): tanh z = 1 − 2/(1 + e) and 1 − tanh² z = 4e/(1 + e)², free of cancellation.
        vn e = vexp2z(GELU_C * (x + 0.044715f * x * x * x)), q = 1.0f / (1.0f + e);
        vn t = 1.0f - 2.0f * q, sech2 = 4.0f * q * (e * q);  // e·q first: e alone may be ~3e38
        g *= 0.5f * (1.0f + t) + 0.5f * x * sech2 * GELU_C * (1.0f + 3.0f * 0.044715f * x * x);
        memcpy(d + i, &g, sizeof g);
    }
    for (; i < n; i++) {
        vn x = bc(u[i]), e = vexp2z(GELU_C * (x + 0.044715f * x * x * x)), q = 1.0f / (1.0f + e);
        vn t = 1.0f - 2.0f * q, sech2 = 4.0f * q * (e * q);  // e·q first: e alone may be ~3e38
        vn g = 0.5f * (1.0f + t) + 0.5f * x * sech2 * GELU_C * (1.0f + 3.0f * 0.044715f * x * x);
        d[i] *= g[0];
    }
}

// Philox4x32-10's constants (Salmon et al., SC'11), as in Philox.swift.
#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

void mulo_dropout_mask(float *mask, uint64_t first, size_t n, uint32_t k0, uint32_t k1, uint32_t tag,
                       float rate, float keep) {
    // One counter per element with the rounds unrolled over a block of lanes: independent
    // lanes the compiler vectorises (the 32×32→64 products become vpmuludq), where the Swift
    // loop ran one 10-round chain at a time.
    enum { B = 64 };
    for (size_t i0 = 0; i0 < n; i0 += B) {
        size_t lanes = n - i0 < B ? n - i0 : B;
        uint32_t c0[B], c1[B], c2[B], c3[B];
        for (size_t l = 0; l < B; l++) {
            uint64_t j = first + i0 + l;
            c0[l] = (uint32_t)j;
            c1[l] = (uint32_t)(j >> 32);
            c2[l] = 0;
            c3[l] = tag;
        }
        uint32_t a = k0, b = k1;
        for (int r = 0; r < 10; r++) {
            for (size_t l = 0; l < B; l++) {
                uint64_t p0 = (uint64_t)PHILOX_M0 * c0[l], p1 = (uint64_t)PHILOX_M1 * c2[l];
                uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1[l] ^ a, n2 = (uint32_t)(p0 >> 32) ^ c3[l] ^ b;
                c1[l] = (uint32_t)p1;
                c3[l] = (uint32_t)p0;
                c0[l] = n0;
                c2[l] = n2;
            }
            a += PHILOX_W0;
            b += PHILOX_W1;
        }
        for (size_t l = 0; l < lanes; l++) mask[i0 + l] = (float)(c0[l] >> 8) * 0x1p-24f >= rate ? keep : 0.0f;
    }
}
