#include "mulo_lo.h"
#include <math.h>
#include <string.h>

#define H 32
#define L 16  // lanes per tile: one AVX-512 register of floats

typedef float vf __attribute__((vector_size(L * 4)));
typedef int vi __attribute__((vector_size(L * 4)));
typedef double vd8 __attribute__((vector_size(64)));
typedef float vf8 __attribute__((vector_size(32)));

static inline vf bc(float x) { return (vf){0} + x; }
static inline vf vmax(vf a, vf b) { return __builtin_elementwise_max(a, b); }
static inline vf vmin(vf a, vf b) { return __builtin_elementwise_min(a, b); }
static inline vf vsqrt(vf a) { return __builtin_elementwise_sqrt(a); }

// Loads and stores of `len` ≤ 16 lanes (zero-padded). Full tiles call them with the constant
// L, so they compile to plain vector moves; only a row's last tile takes the variable path.
#define INLINE static inline __attribute__((always_inline))
INLINE vf ld(const float *p, int len) {
    vf r = {0};
    if (len == L) memcpy(&r, p, L * 4);
    else for (int i = 0; i < len; i++) r[i] = p[i];
    return r;
}
INLINE void st(float *p, vf x, int len) {
    if (len == L) memcpy(p, &x, L * 4);
    else for (int i = 0; i < len; i++) p[i] = x[i];
}

static inline float sanitize(float g) { return g != g ? 0.f : fminf(fmaxf(g, -1e18f), 1e18f); }
static inline vf vsanitize(vf g) {
    vf c = vmin(vmax(g, bc(-1e18f)), bc(1e18f));
    return (vf)((vi)c & (vi)(g == g));  // NaN lanes → +0
}

/// exp(x) for float vectors: Cody–Waite range reduction and the Cephes degree-6 polynomial
/// (≈1 ulp over the clamped range).
static inline vf vexp(vf x) {
    x = vmin(vmax(x, bc(-87.3f)), bc(88.7f));
    vf n = __builtin_elementwise_floor(x * 1.44269504088896341f + 0.5f);
    x = x - n * 0.693359375f + n * 2.12194440e-4f;
    vf y = bc(1.9875691500e-4f);
    y = y * x + 1.3981999507e-3f;
    y = y * x + 8.3334519073e-3f;
    y = y * x + 4.1665795894e-2f;
    y = y * x + 1.6666665459e-1f;
    y = y * x + 5.0000001201e-1f;
    y = y * x * x + x + 1.0f;
    vi e = (__builtin_convertvector(n, vi) + 127) << 23;
    return y * (vf)e;
}

/// The MLP on one tile: x [nf] feature vectors, pre[32] layer-0 pre-activations before the
/// feature terms. Returns the update Δ·scale for each lane.
INLINE vf mlp_tile(const vf *x, int nf, const vf *pre, const mulo_lo_mlp *mlp) {
    vf z0[H], z1[H];
    for (int hb = 0; hb < H; hb += 16) {
        vf acc[16];
        for (int j = 0; j < 16; j++) acc[j] = pre[hb + j];
        for (int f = 0; f < nf; f++) {
            const vf xf = x[f];
            const float *w = mlp->w0p + f * H + hb;
            for (int j = 0; j < 16; j++) acc[j] += xf * w[j];
        }
        for (int j = 0; j < 16; j++) z0[hb + j] = vmax(acc[j], bc(0));
    }
    for (int hb = 0; hb < H; hb += 16) {
        vf acc[16];
        for (int j = 0; j < 16; j++) acc[j] = bc(mlp->b1[hb + j]);
        for (int i = 0; i < H; i++) {
            const vf zi = z0[i];
            const float *w = mlp->w1 + i * H + hb;
            for (int j = 0; j < 16; j++) acc[j] += zi * w[j];
        }
        for (int j = 0; j < 16; j++) z1[hb + j] = vmax(acc[j], bc(0));
    }
    vf d = bc(mlp->b2[0]), mag = bc(mlp->b2[1]);
    for (int i = 0; i < H; i++) {
        d += z1[i] * mlp->w2[2 * i];
        mag += z1[i] * mlp->w2[2 * i + 1];
    }
    return d * vexp(mag * mlp->exp_mult) * mlp->step_mult * mlp->scale;
}

// ---- matrices ----

void mulo_lo_sweep1_matrix(const float *g, const float *p, float *m, float *v, size_t n0, size_t n1,
                           size_t a0, size_t a1, const float bm[3], float bv,
                           double *row_g2, double *col_g2, double sums[10]) {
    const size_t n = n0 * n1;
    for (size_t b = 0; b < n1; b++) col_g2[b] = 0;
    vd8 acc[10];
    for (int s = 0; s < 10; s++) acc[s] = (vd8){0};
    double tail[10] = {0};
    for (size_t a = a0; a < a1; a++) {
        const size_t row = a * n1;
        vd8 rowacc = {0};
        double rowtail = 0;
        size_t b = 0;
        for (; b + 8 <= n1; b += 8) {
            const size_t e = row + b;
            vf8 gv, pv, mv[3], vv;
            memcpy(&gv, g + e, 32);
            memcpy(&pv, p + e, 32);
            for (int k = 0; k < 8; k++) gv[k] = sanitize(gv[k]);
            vf8 g2 = gv * gv;
            memcpy(&vv, v + e, 32);
            vv = bv * vv + (1 - bv) * g2;
            memcpy(v + e, &vv, 32);
            vf8 r = 1.0f / __builtin_elementwise_sqrt(vv + 1e-6f);
            vd8 gd = __builtin_convertvector(gv, vd8), pd = __builtin_convertvector(pv, vd8);
            vd8 vdd = __builtin_convertvector(vv, vd8), rd = __builtin_convertvector(r, vd8);
            acc[0] += gd * gd;
            acc[1] += pd * pd;
            acc[5] += vdd * vdd;
            acc[9] += rd * rd;
            for (int k = 0; k < 3; k++) {
                memcpy(&mv[k], m + k * n + e, 32);
                mv[k] = bm[k] * mv[k] + (1 - bm[k]) * gv;
                memcpy(m + k * n + e, &mv[k], 32);
                vd8 md = __builtin_convertvector(mv[k], vd8), mr = __builtin_convertvector(mv[k] * r, vd8);
                acc[2 + k] += md * md;
                acc[6 + k] += mr * mr;
            }
            vd8 g2d = __builtin_convertvector(g2 + 1e-30f, vd8);
            rowacc += g2d;
            for (int k = 0; k < 8; k++) col_g2[b + k] += g2d[k];
        }
        for (; b < n1; b++) {
            const size_t e = row + b;
            float gs = sanitize(g[e]);
            float g2 = gs * gs;
            v[e] = bv * v[e] + (1 - bv) * g2;
            float r = 1.0f / sqrtf(v[e] + 1e-6f);
            tail[0] += (double)gs * gs;
            tail[1] += (double)p[e] * p[e];
            tail[5] += (double)v[e] * v[e];
            tail[9] += (double)r * r;
            for (int k = 0; k < 3; k++) {
                float mk = bm[k] * m[k * n + e] + (1 - bm[k]) * gs;
                m[k * n + e] = mk;
                tail[2 + k] += (double)mk * mk;
                tail[6 + k] += (double)(mk * r) * (mk * r);
            }
            double g2e = (double)(g2 + 1e-30f);
            rowtail += g2e;
            col_g2[b] += g2e;
        }
        double rs = rowtail;
        for (int k = 0; k < 8; k++) rs += rowacc[k];
        row_g2[a] = rs;
    }
    for (int s = 0; s < 10; s++) {
        double t = tail[s];
        for (int k = 0; k < 8; k++) t += acc[s][k];
        sums[s] = t;
    }
}

void mulo_lo_sweep2_matrix(const float *g, const float *m, size_t n0, size_t n1, size_t a0, size_t a1,
                           const float *fa, const float *fb, double sums[6]) {
    const size_t n = n0 * n1;
    double total[6] = {0};
    for (size_t a = a0; a < a1; a++) {
        const size_t row = a * n1;
        vd8 acc[6];
        for (int s = 0; s < 6; s++) acc[s] = (vd8){0};
        double tail[6] = {0};
        size_t b = 0;
        for (; b + 8 <= n1; b += 8) {
            vf8 gv;
            memcpy(&gv, g + row + b, 32);
            for (int k = 0; k < 8; k++) gv[k] = sanitize(gv[k]);
            vd8 g2 = __builtin_convertvector(gv * gv, vd8);
            for (int k = 0; k < 3; k++) {
                vf8 fv, mv;
                memcpy(&fv, fb + k * n1 + b, 32);
                memcpy(&mv, m + k * n + row + b, 32);
                vd8 f2 = __builtin_convertvector(fv * fv, vd8);
                vd8 md = __builtin_convertvector(mv, vd8);
                acc[k] += g2 * f2;
                acc[3 + k] += md * md * f2;
            }
        }
        for (; b < n1; b++) {
            float gs = sanitize(g[row + b]);
            for (int k = 0; k < 3; k++) {
                double f2 = (double)fb[k * n1 + b] * fb[k * n1 + b];
                double mk = m[k * n + row + b];
                tail[k] += (double)gs * gs * f2;
                tail[3 + k] += mk * mk * f2;
            }
        }
        for (int s = 0; s < 6; s++) {
            double r = tail[s];
            for (int k = 0; k < 8; k++) r += acc[s][k];
            double fak = fa[(s % 3) * n0 + a];
            total[s] += r * fak * fak;
        }
    }
    for (int s = 0; s < 6; s++) sums[s] = total[s];
}

INLINE void matrix_tile(const float *g, float *p, const float *m, const float *v, size_t n, size_t n1,
                        size_t a, size_t b, int len, float fa0, float fa1, float fa2, const float *fb,
                        const float *ta, const float *termB, const mulo_lo_mlp *mlp) {
    const size_t e = a * n1 + b;
    vf x[16], pre[H];
    const vf gs = vsanitize(ld(g + e, len)), pv = ld(p + e, len), vv = ld(v + e, len);
    const vf r = 1.0f / vsqrt(vv + 1e-6f);
    const vf m0 = ld(m + e, len), m1 = ld(m + n + e, len), m2 = ld(m + 2 * n + e, len);
    const vf f0 = fa0 * ld(fb + b, len), f1 = fa1 * ld(fb + n1 + b, len), f2 = fa2 * ld(fb + 2 * n1 + b, len);
    x[0] = gs; x[1] = pv; x[2] = m0; x[3] = m1; x[4] = m2; x[5] = vv;
    x[6] = m0 * r; x[7] = m1 * r; x[8] = m2 * r; x[9] = r;
    x[10] = gs * f0; x[11] = gs * f1; x[12] = gs * f2;
    x[13] = m0 * f0; x[14] = m1 * f1; x[15] = m2 * f2;
    // termB is tile-major: the 32×16 block of this tile is contiguous (and padded to 16 lanes).
    const float *tb = termB + (b / L) * H * L;
    for (int h = 0; h < H; h++) pre[h] = ta[h] + ld(tb + h * L, L);
    st(p + e, pv - mlp_tile(x, 16, pre, mlp), len);
}

void mulo_lo_apply_matrix(const float *g, float *p, const float *m, const float *v, size_t n0, size_t n1,
                          size_t a0, size_t a1, const float *fa, const float *fb,
                          const float *termA, const float *termB, const mulo_lo_mlp *mlp) {
    const size_t n = n0 * n1;
    for (size_t a = a0; a < a1; a++) {
        const float fa0 = fa[a], fa1 = fa[n0 + a], fa2 = fa[2 * n0 + a];
        const float *ta = termA + a * H;
        size_t b = 0;
        for (; b + L <= n1; b += L) matrix_tile(g, p, m, v, n, n1, a, b, L, fa0, fa1, fa2, fb, ta, termB, mlp);
        if (b < n1) matrix_tile(g, p, m, v, n, n1, a, b, (int)(n1 - b), fa0, fa1, fa2, fb, ta, termB, mlp);
    }
}

// ---- vectors (rank ≤ 1) ----

void mulo_lo_sweep1_vector(const float *g, const float *p, float *m, float *v, float *vd, size_t n,
                           size_t e0, size_t e1, const float bm[3], float bv, const float ba[3],
                           double sums[22]) {
    double acc[22] = {0};
    for (size_t e = e0; e < e1; e++) {
        float gs = sanitize(g[e]);
        float g2 = gs * gs;
        v[e] = bv * v[e] + (1 - bv) * g2;
        float r = 1.0f / sqrtf(v[e] + 1e-6f);
        acc[0] += (double)gs * gs;
        acc[1] += (double)p[e] * p[e];
        acc[5] += (double)v[e] * v[e];
        acc[9] += (double)r * r;
        for (int k = 0; k < 3; k++) {
            float mk = bm[k] * m[k * n + e] + (1 - bm[k]) * gs;
            m[k * n + e] = mk;
            float d = ba[k] * vd[k * n + e] + (1 - ba[k]) * (g2 + 1e-30f);
            vd[k * n + e] = d;
            float fg = gs * (1.0f / sqrtf(fmaxf(d + 1e-9f, 1e-9f)));
            float rd = 1.0f / sqrtf(d + 1e-8f);
            float fm = mk * (1.0f / sqrtf(d + 1e-6f));
            acc[2 + k] += (double)mk * mk;
            acc[6 + k] += (double)(mk * r) * (mk * r);
            acc[10 + k] += (double)fg * fg;
            acc[13 + k] += (double)d * d;
            acc[16 + k] += (double)rd * rd;
            acc[19 + k] += (double)fm * fm;
        }
    }
    for (int s = 0; s < 22; s++) sums[s] = acc[s];
}

INLINE void vector_tile(const float *g, float *p, const float *m, const float *v, const float *vd, size_t n,
                        size_t e, int len, const vf *pre, const mulo_lo_mlp *mlp) {
    vf x[22];
    const vf gs = vsanitize(ld(g + e, len)), pv = ld(p + e, len), vv = ld(v + e, len);
    const vf r = 1.0f / vsqrt(vv + 1e-6f);
    x[0] = gs; x[1] = pv; x[5] = vv; x[9] = r;
    for (int k = 0; k < 3; k++) {
        const vf mk = ld(m + k * n + e, len), d = ld(vd + k * n + e, len);
        x[2 + k] = mk;
        x[6 + k] = mk * r;
        x[10 + k] = gs * (1.0f / vsqrt(vmax(d + 1e-9f, bc(1e-9f))));
        x[13 + k] = d;
        x[16 + k] = 1.0f / vsqrt(d + 1e-8f);
        x[19 + k] = mk * (1.0f / vsqrt(d + 1e-6f));
    }
    st(p + e, pv - mlp_tile(x, 22, pre, mlp), len);
}

void mulo_lo_apply_vector(const float *g, float *p, const float *m, const float *v, const float *vd,
                          size_t n, size_t e0, size_t e1, const float *base, const mulo_lo_mlp *mlp) {
    vf pre[H];
    for (int h = 0; h < H; h++) pre[h] = bc(base[h]);
    size_t e = e0;
    for (; e + L <= e1; e += L) vector_tile(g, p, m, v, vd, n, e, L, pre, mlp);
    if (e < e1) vector_tile(g, p, m, v, vd, n, e, (int)(e1 - e), pre, mlp);
}
