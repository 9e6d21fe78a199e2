#ifndef MULO_LO_H
#define MULO_LO_H
#include <stddef.h>

// The fast learned-optimizer step (METHOD §8): sweeps over one tensor's elements. Swift does
// the O(rows + cols) vector step in between and splits the rows into fixed blocks, so the
// float64 sums below never depend on the thread count.
//
// Layout: a matrix is row-major [n0][n1] (logical [fan_in, fan_out]); momenta are k-major
// (m + k·n). Gradients are read raw and sanitised here (NaN → 0, clamp to ±1e18).

/// The MLP after normalisation (and small_fc_lopt's time features) have been folded into layer 0.
/// H is 32 for small_fc_lopt (mulo_lo_*) and 4 for VeLO (mulo_velo_*); O is 2 and 3.
typedef struct {
    const float *w0p;   // [nf][H]: layer-0 rows of the per-element features, scaled by n_f
    const float *w1;    // [H][H]
    const float *b1;    // [H]
    const float *w2;    // [H][O]: d and m are outputs 0 and 1
    const float *b2;    // [O]
    float exp_mult, step_mult, scale;
} mulo_lo_mlp;

/// Matrices are [n0, n1] views into a tensor: element (a, b) at offset a·ld + b from the pointers
/// passed (ld = n1 for a whole matrix; larger for one slice of a rank ≥ 3 tensor), M_k at
/// k·n from m, where n is the whole tensor's element count.
///
/// Sweep 1 of a matrix, rows a0..a1: updates M and V; adds Σ(g²+1e-30) per row into
/// row_g2[a], per column into col_g2[b] (this block's own buffer, n1 values, zeroed here), and
/// the 10 element-only sums of squares (g, p, M×3, V, M·rsqrt(V)×3, rsqrt(V)) into sums.
/// `shift` and `moments` serve VeLO only (NULL here; see mulo_velo_sweep1_matrix).
void mulo_lo_sweep1_matrix(const float *g, const float *p, float *m, float *v, size_t n1, size_t ld, size_t n,
                           size_t a0, size_t a1, const float bm[3], float bv,
                           double *row_g2, double *col_g2, double sums[10], const float *shift, double *moments);

/// Sweep 2 of a matrix, rows a0..a1: Σ (g·fa_k[a]·fb_k[b])² and Σ (M_k·fa_k[a]·fb_k[b])², k = 0..2,
/// into sums[0..2] and sums[3..5]. fa: [3][n0], fb: [3][n1].
void mulo_lo_sweep2_matrix(const float *g, const float *m, size_t n0, size_t n1, size_t ld, size_t n,
                           size_t a0, size_t a1, const float *fa, const float *fb, double sums[6]);

/// Sweep 3 of a matrix, rows a0..a1: recompute the 16 per-element features, run the MLP with
/// layer-0 pre-activation termA[a][h] + termB(b, h) + Σ_f x_f·w0p[f][h], update p. termB is
/// tile-major, termB[(b/16)·H·16 + h·16 + b%16], with n1 padded up to a multiple of 16, so
/// that one tile's terms are contiguous.
void mulo_lo_apply_matrix(const float *g, float *p, const float *m, const float *v, size_t n0, size_t n1, size_t ld,
                          size_t n, size_t a0, size_t a1, const float *fa, const float *fb,
                          const float *termA, const float *termB, const mulo_lo_mlp *mlp);

/// Sweep 1 of a vector, elements e0..e1: updates M, V and Vd; 22 sums of squares in the order
/// g, p, M×3, V, M·rsqrt(V)×3, rsqrt(V), facG×3, Vd×3, rsqrt(Vd+1e-8)×3, M·(Vd+1e-6)^-½×3.
void mulo_lo_sweep1_vector(const float *g, const float *p, float *m, float *v, float *vd, size_t n,
                           size_t e0, size_t e1, const float bm[3], float bv, const float ba[3],
                           double sums[22]);

/// Sweep 3 of a vector: the 22 features in the order of sweep 1 (duplicated columns merged in
/// w0p), layer-0 bias `base` [32], update p.
void mulo_lo_apply_vector(const float *g, float *p, const float *m, const float *v, const float *vd,
                          size_t n, size_t e0, size_t e1, const float *base, const mulo_lo_mlp *mlp);

/// VeLO's sweeps (VELO §3.4): the same contracts with its gradient clip (NaN → 0, ±1000) and
/// its features. Sweep 1 of a matrix adds two element sums (clip(g, ±0.1), g·rsqrt(V)) after
/// the ten, so `sums` holds 12; of a vector, the same two after the 22 (24), with facMom
/// M·Vd^(−½) without ε. Apply appends those two features to each tile's per-element features
/// (18 for matrices, 24 for vectors, in `w0p`'s row order).
/// Sweep 1 of a matrix also takes the LSTM's statistics (VELO §1.4, as the schedule of §3.4 does)
/// from the accumulators before their update: with shift = (c_M0, c_M1, c_M2, c_V), Σ(x − c) and
/// Σ(x − c)² of M_0, M_1, M_2 and V into moments[2i], moments[2i + 1] (Σp² is sums[1]). Shifted
/// by a value of the tensor, E[(x−c)²] − E[x−c]² keeps the variance's digits where the plain
/// one-pass formula would cancel them.
void mulo_velo_sweep1_matrix(const float *g, const float *p, float *m, float *v, size_t n1, size_t ld, size_t n,
                             size_t a0, size_t a1, const float bm[3], float bv,
                             double *row_g2, double *col_g2, double sums[12], const float shift[4], double moments[8]);
void mulo_velo_sweep2_matrix(const float *g, const float *m, size_t n0, size_t n1, size_t ld, size_t n,
                             size_t a0, size_t a1, const float *fa, const float *fb, double sums[6]);
void mulo_velo_apply_matrix(const float *g, float *p, const float *m, const float *v, size_t n0, size_t n1, size_t ld,
                            size_t n, size_t a0, size_t a1, const float *fa, const float *fb,
                            const float *termA, const float *termB, const mulo_lo_mlp *mlp);
void mulo_velo_sweep1_vector(const float *g, const float *p, float *m, float *v, float *vd, size_t n,
                             size_t e0, size_t e1, const float bm[3], float bv, const float ba[3],
                             double sums[24]);
void mulo_velo_apply_vector(const float *g, float *p, const float *m, const float *v, const float *vd,
                            size_t n, size_t e0, size_t e1, const float *base, const mulo_lo_mlp *mlp);

/// VeLO's per-tensor statistics (VELO §1.4) of p and the accumulators before the update, over
/// elements e0..e1 of an n-element tensor, in one pass summed in float64: Σp², then for M_0..M_2
/// and V, with shift c = (c_M0, c_M1, c_M2, c_V), Σ(x − c) and Σ(x − c)² (out[1 + 2i], out[2 + 2i]).
/// Shifted by a value of the tensor, E[(x−c)²] − E[x−c]² keeps the variance's digits where the
/// plain one-pass formula would cancel them (VELO §1.4 allows one pass in float64).
void mulo_velo_moments(const float *p, const float *m, const float *v, size_t n, size_t e0, size_t e1,
                       const float shift[4], double out[9]);

/// VeLO's per-tensor layers (VeLOOptimizer.affine) for outputs o0..o1 of every row:
/// out[r][o] = Σ_i x[r][i]·w[i][o] in float64, in input order: the bits of the plain loop whatever
/// the blocking. x: [rows][n_in] float values held as double, w: [n_in][n_out] float; the product
/// of two floats is exact in float64, so a fused multiply-add gives those bits too.
void mulo_velo_affine(const double *x, size_t rows, size_t n_in, const float *w, size_t n_out, size_t o0, size_t o1,
                      double *out);

#endif
