// small_fc_lopt's fast step (METHOD §8): the sweeps of lo_step_body.h with its MLP (hidden 32).
#define LO_H 32
#define LO_W2S 2
#define LO_VELO 0
// On AVX-512 with full-width FMA units a tile is one native vector: blocks of two tiles with 8 hidden
// units per register block make each broadcast weight serve two FMAs (16 accumulators, 2 inputs,
// 1 weight: 19 of 32 registers). On a Zen 5, 12% faster than one tile with 16 units (bench lo,
// 1 thread; the loads of the broadcasts held it at 65% of the FMA peak). A Zen 4 runs each 512-bit
// FMA on both of its 256-bit units, so the FMAs, not the loads, bound it: there one tile with 16
// units is 7-9% faster (bench lo, 1 thread, 37-40 vs 41-43 ns/param). Per-lane arithmetic is the
// same either way, so the same bits.
#if NV == 1 && !defined(__znver4__)
#define LO_TB 2
#define LO_JB (JB / 2)
#else
#define LO_TB 1
#define LO_JB JB
#endif
#define FN(name) mulo_lo_##name
#include "lo_step_body.h"
