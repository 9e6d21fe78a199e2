#ifndef MULO_SIMD_H
#define MULO_SIMD_H
// The native vector of the ISA this file is compiled for, and the register blocking of the
// learned-optimizer MLP that fits that ISA's register file (see lo_step_body.h).
//
// JB is the number of hidden units whose accumulators stay in registers while one tile of 16
// lanes (NV = 16 / VL native vectors) streams through a layer: JB·NV accumulators, NV inputs
// and one broadcast weight must fit, or every FMA spills.
//   AVX-512: 32 × 512-bit registers, VL 16, NV 1, JB 16 → 16 + 1 + 1 = 18 registers.
//   AVX2+FMA: 16 × 256-bit,          VL 8,  NV 2, JB 4  → 8 + 2 + 1 = 11 (JB 8 would need 19).
//   NEON:    32 × 128-bit,           VL 4,  NV 4, JB 4  → 16 + 4 + 1 = 21.
//   SSE / anything else: 16 × 128-bit, VL 4, NV 4, JB 2 → 8 + 4 + 1 = 13.
// The accumulation order of every lane does not depend on VL or JB, so all variants with FMA
// give the same bits; targets without FMA round each product separately.
#include <string.h>

#if defined(__AVX512F__)
#define VL 16
#define JB 16
#define MULO_ISA "avx512"
#elif defined(__AVX2__) && defined(__FMA__)
#define VL 8
#define JB 4
#define MULO_ISA "avx2"
#elif defined(__ARM_NEON)
#define VL 4
#define JB 4
#define MULO_ISA "neon"
#elif defined(__SSE2__)
#define VL 4
#define JB 2
#define MULO_ISA "sse2"
#else
#define VL 4
#define JB 2
#define MULO_ISA "generic"
#endif

typedef float vn __attribute__((vector_size(VL * 4)));
typedef int vni __attribute__((vector_size(VL * 4)));

#define INLINE static inline __attribute__((always_inline))

// x − (+0) is exactly x for every x (unlike x + 0 for x = −0), so the compiler folds it to a splat.
INLINE vn bc(float x) { return x - (vn){0}; }
INLINE vn vmax(vn a, vn b) { return __builtin_elementwise_max(a, b); }
INLINE vn vmin(vn a, vn b) { return __builtin_elementwise_min(a, b); }
INLINE vn vsqrt(vn a) { return __builtin_elementwise_sqrt(a); }

/// NaN → +0, then clamp to ±1e18 (METHOD §2.1).
INLINE vn vsanitize(vn g) {
    vn c = vmin(vmax(g, bc(-1e18f)), bc(1e18f));
    return (vn)((vni)c & (vni)(g == g));
}

/// exp(x): Cody–Waite range reduction and the Cephes degree-6 polynomial (≈1 ulp over the
/// clamped range).
INLINE vn vexp(vn x) {
    x = vmin(vmax(x, bc(-87.3f)), bc(88.7f));
    vn n = __builtin_elementwise_floor(x * 1.44269504088896341f + 0.5f);
    x = x - n * 0.693359375f + n * 2.12194440e-4f;
    vn y = bc(1.9875691500e-4f);
    y = y * x + 1.3981999507e-3f;
    y = y * x + 8.3334519073e-3f;
    y = y * x + 4.1665795894e-2f;
    y = y * x + 1.6666665459e-1f;
    y = y * x + 5.0000001201e-1f;
    y = y * x * x + x + 1.0f;
    vni e = (__builtin_convertvector(n, vni) + 127) << 23;
    return y * (vn)e;
}

#endif
