// The learned-optimizer sweeps (METHOD §8, VELO §3.4) as a template: lo_step.c instantiates it
// for small_fc_lopt (hidden 32, 28 features), velo_step.c for VeLO's per-parameter MLP (hidden 4,
// 30 features). Both architectures keep the same accumulators and the same factored features,
// so they share every sweep; VeLO adds two per-element features (clip(g, ±0.1) and g·rsqrt(V)),
// clips gradients at ±1000 instead of 1e18 and has no ε in the rank-1 facMom (VELO §9 item 5).
//
// Before including: LO_H (hidden width), LO_W2S (layer 2's row stride: outputs per unit),
// LO_VELO (0 or 1), FN(name) (the exported name of each entry point).
#include "mulo_lo.h"
#include "simd.h"
#include <math.h>
#include <string.h>

#define H LO_H
#define T 16         // lanes per tile; termB's layout is built for it
#define NV (T / VL)  // native vectors per tile
// Tiles per block (LO_TB, default 1) and hidden units per register block (LO_JB, default the
// ISA's JB): the MLP runs on TB tiles at once, so each broadcast weight feeds TB·NV FMAs. An
// instantiation may set them (lo_step.c says why); termB is padded to whole blocks.
#ifndef LO_TB
#define LO_TB 1
#endif
#define TB LO_TB
#define BL (TB * T)  // lanes per block
#define NB (TB * NV) // native vectors per block
// Hidden units per register block, or all of them when the MLP is narrower.
#ifndef LO_JB
#define LO_JB JB
#endif
#define JBH (LO_JB < H ? LO_JB : H)

#if LO_VELO
#define CLIP 1000.0f
#define S1 12        // sweep 1's element sums: small_fc_lopt's 10, then clip(g, ±0.1) and g·rsqrt(V)
#define NFM 18       // per-element features of a matrix tile
#define NFV 24       // per-element features of a vector tile
#define FACMOM_EPS 0.0f
#else
#define CLIP 1e18f
#define S1 10
#define NFM 16
#define NFV 22
#define FACMOM_EPS 1e-6f
#endif

typedef float vf8 __attribute__((vector_size(32)));
typedef double vd8 __attribute__((vector_size(64)));

/// NaN → 0, then the clip (METHOD §2.1 for small_fc_lopt; VeLO's ±1000 with MuLO's NaN rule).
static inline float sanitize(float g) { return g != g ? 0.f : fminf(fmaxf(g, -CLIP), CLIP); }
INLINE vn vclean(vn g) {
    vn c = vmin(vmax(g, bc(-CLIP)), bc(CLIP));
    return (vn)((vni)c & (vni)(g == g));
}

// A block is BL lanes held as NB native vectors. Full blocks load and store with the constant
// BL, so they compile to plain vector moves; only a row's last block takes the padded path.
INLINE void ldt(vn out[NB], const float *p, int len) {
    float buf[BL] = {0};
    memcpy(len == BL ? (float *)out : buf, p, (size_t)len * 4);
    if (len != BL) memcpy(out, buf, sizeof buf);
}
INLINE void stt(float *p, const vn x[NB], int len) { memcpy(p, x, (size_t)len * 4); }

/// The MLP on one block: x [nf][NB] feature vectors, pre [32][NB] layer-0 pre-activations
/// before the feature terms. Writes the update Δ·scale of each lane into out. Each layer keeps
/// JBH hidden units' accumulators in registers while the inputs stream past (simd.h).
INLINE void mlp_tile(const vn x[][NB], int nf, const vn pre[][NB], const mulo_lo_mlp *mlp, vn out[NB]) {
    vn z0[H][NB];
    for (int hb = 0; hb < H; hb += JBH) {
        vn acc[JBH][NB];
        for (int j = 0; j < JBH; j++)
            for (int v = 0; v < NB; v++) acc[j][v] = pre[hb + j][v];
        for (int f = 0; f < nf; f++) {
            const float *w = mlp->w0p + f * H + hb;
            for (int j = 0; j < JBH; j++) {
                const vn wj = bc(w[j]);
                for (int v = 0; v < NB; v++) acc[j][v] += x[f][v] * wj;
            }
        }
        for (int j = 0; j < JBH; j++)
            for (int v = 0; v < NB; v++) z0[hb + j][v] = vmax(acc[j][v], bc(0));
    }
    // Layer 2 accumulates each block of layer 1 as it is finished (same order as one pass over
    // the H units): its two dependent FMA chains then overlap the next block's work.
    vn d[NB], mag[NB];
    for (int v = 0; v < NB; v++) d[v] = bc(mlp->b2[0]), mag[v] = bc(mlp->b2[1]);
    for (int hb = 0; hb < H; hb += JBH) {
        vn acc[JBH][NB];
        for (int j = 0; j < JBH; j++)
            for (int v = 0; v < NB; v++) acc[j][v] = bc(mlp->b1[hb + j]);
        for (int i = 0; i < H; i++) {
            const float *w = mlp->w1 + i * H + hb;
            for (int j = 0; j < JBH; j++) {
                const vn wj = bc(w[j]);
                for (int v = 0; v < NB; v++) acc[j][v] += z0[i][v] * wj;
            }
        }
        for (int j = 0; j < JBH; j++)
            for (int v = 0; v < NB; v++) {
                const vn z = vmax(acc[j][v], bc(0));
                d[v] += z * mlp->w2[LO_W2S * (hb + j)];
                mag[v] += z * mlp->w2[LO_W2S * (hb + j) + 1];
            }
    }
    for (int v = 0; v < NB; v++) out[v] = d[v] * vexp(mag[v] * mlp->exp_mult) * mlp->step_mult * mlp->scale;
}

// ---- matrices ----

// Sweeps 1 and 2 sum squares of many features per element. They sum each run of ≤ 64
// elements of a row in float vectors and add those partial sums in double: converting every
// product to double made them compute-bound, and the float error of a 64-element partial is a
// few ulps whatever the tensor's size.
#define RUN 64

INLINE vf8 ld8(const float *p) { vf8 r; memcpy(&r, p, 32); return r; }
INLINE void st8(float *p, vf8 x) { memcpy(p, &x, 32); }
INLINE vf8 sanitize8(vf8 g) {
    typedef int vi8 __attribute__((vector_size(32)));
    vf8 c = __builtin_elementwise_min(__builtin_elementwise_max(g, (vf8){0} - CLIP), (vf8){0} + CLIP);
    return (vf8)((vi8)c & (vi8)(g == g));
}
/// Sweep 1 of one element, as matrices' row tails and vectors do it: updates V and M_k (into
/// mk), adds the S1 element-only sums of squares of sweep 1's order into s, returns the
/// sanitised gradient.
INLINE float sweep1_element(const float *g, const float *p, float *m, float *v, size_t n, size_t e,
                            const float bm[3], float bv, double s[S1], float mk[3]) {
    const float gs = sanitize(g[e]), g2 = gs * gs;
    v[e] = bv * v[e] + (1 - bv) * g2;
    const float r = 1.0f / sqrtf(v[e] + 1e-6f);
    s[0] += (double)gs * gs;
    s[1] += (double)p[e] * p[e];
    s[5] += (double)v[e] * v[e];
    s[9] += (double)r * r;
#if LO_VELO
    const float c = fminf(fmaxf(gs, -0.1f), 0.1f);
    s[10] += (double)c * c;
    s[11] += (double)(gs * r) * (gs * r);
#endif
    for (int k = 0; k < 3; k++) {
        mk[k] = bm[k] * m[k * n + e] + (1 - bm[k]) * gs;
        m[k * n + e] = mk[k];
        s[2 + k] += (double)mk[k] * mk[k];
        s[6 + k] += (double)(mk[k] * r) * (mk[k] * r);
    }
    return gs;
}

INLINE double hsum(vd8 x) {
    double t = 0;
    for (int k = 0; k < 8; k++) t += x[k];
    return t;
}

void FN(sweep1_matrix)(const float *g, const float *p, float *m, float *v, size_t n1, size_t ld, size_t n,
                       size_t a0, size_t a1, const float bm[3], float bv,
                       double *row_g2, double *col_g2, double *sums, const float *shift, double *moments) {
    const size_t n8 = n1 / 8 * 8;
    for (size_t b = 0; b < n1; b++) col_g2[b] = 0;
    vd8 acc[S1];
    for (int s = 0; s < S1; s++) acc[s] = (vd8){0};
    double tail[S1] = {0};
#if LO_VELO
    // The LSTM statistics' shifted sums (M_0..2, V: Σd, Σd²), in float per run like the sums above.
    vd8 macc[8];
    for (int s = 0; s < 8; s++) macc[s] = (vd8){0};
    double mtail[8] = {0};
#else
    (void)shift;
    (void)moments;
#endif
    for (size_t a = a0; a < a1; a++) {
        const size_t row = a * ld;
        vd8 rowacc = {0};
        double rowtail = 0;
        for (size_t b0 = 0; b0 < n8; b0 += RUN) {
            const size_t end = b0 + RUN < n8 ? b0 + RUN : n8;
            vf8 part[S1], rowpart = {0};
            for (int s = 0; s < S1; s++) part[s] = (vf8){0};
#if LO_VELO
            // The statistics' sums in their own pass over the run (M and V before their update;
            // the run stays in L1 for the pass below): together with sweep 1's 13 accumulators
            // they spilled out of AVX2's 16 registers on every element.
            vf8 mpart[8];
            for (int s = 0; s < 8; s++) mpart[s] = (vf8){0};
            for (size_t b = b0; b < end; b += 8) {
                for (int i = 0; i < 4; i++) {
                    const vf8 d = ld8((i < 3 ? m + i * n : v) + row + b) - shift[i];
                    mpart[2 * i] += d;
                    mpart[2 * i + 1] += d * d;
                }
            }
#endif
            for (size_t b = b0; b < end; b += 8) {
                const size_t e = row + b;
                const vf8 gv = sanitize8(ld8(g + e)), pv = ld8(p + e), g2 = gv * gv;
                const vf8 vold = ld8(v + e);
                const vf8 vv = bv * vold + (1 - bv) * g2;
                st8(v + e, vv);
                const vf8 r = 1.0f / __builtin_elementwise_sqrt(vv + 1e-6f);
                part[0] += g2;
                part[1] += pv * pv;
                part[5] += vv * vv;
                part[9] += r * r;
#if LO_VELO
                const vf8 c = __builtin_elementwise_min(__builtin_elementwise_max(gv, (vf8){0} - 0.1f), (vf8){0} + 0.1f), gr = gv * r;
                part[10] += c * c;
                part[11] += gr * gr;
#endif
                for (int k = 0; k < 3; k++) {
                    const vf8 mk = bm[k] * ld8(m + k * n + e) + (1 - bm[k]) * gv, mr = mk * r;
                    st8(m + k * n + e, mk);
                    part[2 + k] += mk * mk;
                    part[6 + k] += mr * mr;
                }
                const vf8 g2e = g2 + 1e-30f;
                rowpart += g2e;
                vd8 col;
                memcpy(&col, col_g2 + b, 64);
                col += __builtin_convertvector(g2e, vd8);
                memcpy(col_g2 + b, &col, 64);
            }
            for (int s = 0; s < S1; s++) acc[s] += __builtin_convertvector(part[s], vd8);
            rowacc += __builtin_convertvector(rowpart, vd8);
#if LO_VELO
            for (int s = 0; s < 8; s++) macc[s] += __builtin_convertvector(mpart[s], vd8);
#endif
        }
        for (size_t b = n8; b < n1; b++) {
            float mk[3];
#if LO_VELO
            for (int i = 0; i < 4; i++) {
                const float d = (i < 3 ? m[i * n + row + b] : v[row + b]) - shift[i];
                mtail[2 * i] += d;
                mtail[2 * i + 1] += (double)d * d;
            }
#endif
            const float gs = sweep1_element(g, p, m, v, n, row + b, bm, bv, tail, mk), g2 = gs * gs;
            double g2e = (double)(g2 + 1e-30f);
            rowtail += g2e;
            col_g2[b] += g2e;
        }
        row_g2[a] = rowtail + hsum(rowacc);
    }
    for (int s = 0; s < S1; s++) sums[s] = tail[s] + hsum(acc[s]);
#if LO_VELO
    for (int s = 0; s < 8; s++) moments[s] = mtail[s] + hsum(macc[s]);
#endif
}

// Sweep 2 stays a pass of its own. Folding it into sweep 1 (each finished row's g² and M_k²
// weighed by its factor fa_k, known once the row is done, into per-column sums that fb_k weighs
// afterwards) saves its 16 B per element from memory, but the weighing costs sweep 1 as much:
// VeLO was no faster at 1e6 or 1e7 parameters on a 2-core Zen 3 (bench lo, alternated runs).
void FN(sweep2_matrix)(const float *g, const float *m, size_t n0, size_t n1, size_t ld, size_t n,
                       size_t a0, size_t a1, const float *fa, const float *fb, double sums[6]) {
    const size_t n8 = n1 / 8 * 8;
    double total[6] = {0};
    for (size_t a = a0; a < a1; a++) {
        const size_t row = a * ld;
        vd8 acc[6];
        for (int s = 0; s < 6; s++) acc[s] = (vd8){0};
        double tail[6] = {0};
        for (size_t b0 = 0; b0 < n8; b0 += RUN) {
            const size_t end = b0 + RUN < n8 ? b0 + RUN : n8;
            vf8 part[6];
            for (int s = 0; s < 6; s++) part[s] = (vf8){0};
            for (size_t b = b0; b < end; b += 8) {
                const vf8 gv = sanitize8(ld8(g + row + b)), g2 = gv * gv;
                for (int k = 0; k < 3; k++) {
                    const vf8 fv = ld8(fb + k * n1 + b), mv = ld8(m + k * n + row + b), f2 = fv * fv;
                    part[k] += g2 * f2;
                    part[3 + k] += mv * mv * f2;
                }
            }
            for (int s = 0; s < 6; s++) acc[s] += __builtin_convertvector(part[s], vd8);
        }
        for (size_t b = n8; b < n1; b++) {
            float gs = sanitize(g[row + b]);
            for (int k = 0; k < 3; k++) {
                double f2 = (double)fb[k * n1 + b] * fb[k * n1 + b];
                double mk = m[k * n + row + b];
                tail[k] += (double)gs * gs * f2;
                tail[3 + k] += mk * mk * f2;
            }
        }
        for (int s = 0; s < 6; s++) {
            double fak = fa[(s % 3) * n0 + a];
            total[s] += (tail[s] + hsum(acc[s])) * fak * fak;
        }
    }
    for (int s = 0; s < 6; s++) sums[s] = total[s];
}

INLINE void matrix_tile(const float *g, float *p, const float *m, const float *v, size_t n, size_t n1, size_t ld,
                        size_t a, size_t b, int len, float fa0, float fa1, float fa2, const float *fb,
                        const float *ta, const float *termB, const mulo_lo_mlp *mlp) {
    const size_t e = a * ld + b;
    vn G[NB], P[NB], V[NB], M0[NB], M1[NB], M2[NB], B0[NB], B1[NB], B2[NB];
    ldt(G, g + e, len); ldt(P, p + e, len); ldt(V, v + e, len);
    ldt(M0, m + e, len); ldt(M1, m + n + e, len); ldt(M2, m + 2 * n + e, len);
    ldt(B0, fb + b, len); ldt(B1, fb + n1 + b, len); ldt(B2, fb + 2 * n1 + b, len);
    vn x[NFM][NB], pre[H][NB], out[NB];
    for (int k = 0; k < NB; k++) {
        const vn gs = vclean(G[k]), r = 1.0f / vsqrt(V[k] + 1e-6f);
        const vn f0 = fa0 * B0[k], f1 = fa1 * B1[k], f2 = fa2 * B2[k];
        x[0][k] = gs; x[1][k] = P[k]; x[2][k] = M0[k]; x[3][k] = M1[k]; x[4][k] = M2[k]; x[5][k] = V[k];
        x[6][k] = M0[k] * r; x[7][k] = M1[k] * r; x[8][k] = M2[k] * r; x[9][k] = r;
        x[10][k] = gs * f0; x[11][k] = gs * f1; x[12][k] = gs * f2;
        x[13][k] = M0[k] * f0; x[14][k] = M1[k] * f1; x[15][k] = M2[k] * f2;
#if LO_VELO
        x[16][k] = vmin(vmax(gs, bc(-0.1f)), bc(0.1f)); x[17][k] = gs * r;
#endif
    }
    // termB is tile-major: the H×T block of this tile is contiguous (and padded to T lanes).
    const float *tb = termB + (b / T) * H * T;
    for (int h = 0; h < H; h++) {
        for (int t = 0; t < TB; t++) memcpy(pre[h] + t * NV, tb + (t * H + h) * T, T * 4);
        for (int k = 0; k < NB; k++) pre[h][k] = ta[h] + pre[h][k];
    }
    mlp_tile(x, NFM, pre, mlp, out);
    for (int k = 0; k < NB; k++) out[k] = P[k] - out[k];
    stt(p + e, out, len);
}

void FN(apply_matrix)(const float *g, float *p, const float *m, const float *v, size_t n0, size_t n1, size_t ld,
                      size_t n, size_t a0, size_t a1, const float *fa, const float *fb,
                      const float *termA, const float *termB, const mulo_lo_mlp *mlp) {
    for (size_t a = a0; a < a1; a++) {
        const float fa0 = fa[a], fa1 = fa[n0 + a], fa2 = fa[2 * n0 + a];
        const float *ta = termA + a * H;
        size_t b = 0;
        for (; b + BL <= n1; b += BL) matrix_tile(g, p, m, v, n, n1, ld, a, b, BL, fa0, fa1, fa2, fb, ta, termB, mlp);
        if (b < n1) matrix_tile(g, p, m, v, n, n1, ld, a, b, (int)(n1 - b), fa0, fa1, fa2, fb, ta, termB, mlp);
    }
}

// ---- vectors (rank ≤ 1) ----

void FN(sweep1_vector)(const float *g, const float *p, float *m, float *v, float *vd, size_t n,
                       size_t e0, size_t e1, const float bm[3], float bv, const float ba[3],
                       double *sums) {
    double el[S1] = {0}, acc[22] = {0};
    for (size_t e = e0; e < e1; e++) {
        float m3[3];
        const float gs = sweep1_element(g, p, m, v, n, e, bm, bv, el, m3), g2 = gs * gs;
        for (int k = 0; k < 3; k++) {
            const float mk = m3[k];
            float d = ba[k] * vd[k * n + e] + (1 - ba[k]) * (g2 + 1e-30f);
            vd[k * n + e] = d;
            float fg = gs * (1.0f / sqrtf(fmaxf(d + 1e-9f, 1e-9f)));
            float rd = 1.0f / sqrtf(d + 1e-8f);
            float fm = mk * (1.0f / sqrtf(d + FACMOM_EPS));
            acc[10 + k] += (double)fg * fg;
            acc[13 + k] += (double)d * d;
            acc[16 + k] += (double)rd * rd;
            acc[19 + k] += (double)fm * fm;
        }
    }
    // Sweep order: the element sums 0–9, the diagonal's 10–21, then VeLO's two extra element sums.
    for (int s = 0; s < 10; s++) sums[s] = el[s];
    for (int s = 10; s < 22; s++) sums[s] = acc[s];
    for (int s = 10; s < S1; s++) sums[12 + s] = el[s];
}

INLINE void vector_tile(const float *g, float *p, const float *m, const float *v, const float *vd, size_t n,
                        size_t e, int len, const vn pre[][NB], const mulo_lo_mlp *mlp) {
    vn G[NB], P[NB], V[NB], M[3][NB], D[3][NB], x[NFV][NB], out[NB];
    ldt(G, g + e, len); ldt(P, p + e, len); ldt(V, v + e, len);
    for (int i = 0; i < 3; i++) {
        ldt(M[i], m + i * n + e, len);
        ldt(D[i], vd + i * n + e, len);
    }
    for (int k = 0; k < NB; k++) {
        const vn gs = vclean(G[k]), r = 1.0f / vsqrt(V[k] + 1e-6f);
        x[0][k] = gs; x[1][k] = P[k]; x[5][k] = V[k]; x[9][k] = r;
#if LO_VELO
        x[22][k] = vmin(vmax(gs, bc(-0.1f)), bc(0.1f)); x[23][k] = gs * r;
#endif
        for (int i = 0; i < 3; i++) {
            const vn mi = M[i][k], d = D[i][k];
            x[2 + i][k] = mi;
            x[6 + i][k] = mi * r;
            x[10 + i][k] = gs * (1.0f / vsqrt(vmax(d + 1e-9f, bc(1e-9f))));
            x[13 + i][k] = d;
            x[16 + i][k] = 1.0f / vsqrt(d + 1e-8f);
            x[19 + i][k] = mi * (1.0f / vsqrt(d + FACMOM_EPS));
        }
    }
    mlp_tile(x, NFV, pre, mlp, out);
    for (int k = 0; k < NB; k++) out[k] = P[k] - out[k];
    stt(p + e, out, len);
}

void FN(apply_vector)(const float *g, float *p, const float *m, const float *v, const float *vd,
                      size_t n, size_t e0, size_t e1, const float *base, const mulo_lo_mlp *mlp) {
    vn pre[H][NB];
    for (int h = 0; h < H; h++)
        for (int k = 0; k < NB; k++) pre[h][k] = bc(base[h]);
    size_t e = e0;
    for (; e + BL <= e1; e += BL) vector_tile(g, p, m, v, vd, n, e, BL, pre, mlp);
    if (e < e1) vector_tile(g, p, m, v, vd, n, e, (int)(e1 - e), pre, mlp);
}
