#include "mulo_kernels.h"
#include <math.h>

void mulo_adam_update(float *restrict p, float *restrict m, float *restrict v, const float *restrict g,
                      size_t n, float b1, float b2, float inv_bc1, float inv_bc2, float eps, float step,
                      float wd) {
    for (size_t i = 0; i < n; i++) {
        float gi = g[i];
        float mi = b1 * m[i] + (1 - b1) * gi;
        float vi = b2 * v[i] + (1 - b2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        p[i] -= step * ((mi * inv_bc1) / (sqrtf(vi * inv_bc2) + eps) + wd * p[i]);
    }
}

void mulo_sgd_update(float *restrict p, float *restrict vel, const float *restrict g, size_t n,
                     float mu, float lr) {
    for (size_t i = 0; i < n; i++) {
        float vi = mu * vel[i] + g[i];
        vel[i] = vi;
        p[i] -= lr * vi;
    }
}

void mulo_stream_update(float *restrict m, const float *restrict g, size_t n, float b) {
    for (size_t i = 0; i < n; i++) m[i] = b * m[i] + (1 - b) * g[i];
}
