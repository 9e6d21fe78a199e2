// small_fc_lopt's fast step (METHOD §8): the sweeps of lo_step_body.h with its MLP (hidden 32).
#define LO_H 32
#define LO_W2S 2
#define LO_VELO 0
// On AVX-512 a tile is one native vector: blocks of two tiles with 8 hidden units per register
// block make each broadcast weight serve two FMAs (16 accumulators, 2 inputs, 1 weight: 19 of 32
// registers). On a Zen 5, 12% faster than one tile with 16 units (bench lo, 1 thread; the loads of
// the broadcasts held it at 65% of the FMA peak). Per-lane arithmetic unchanged, so the same bits.
#define LO_TB (NV == 1 ? 2 : 1)
#define LO_JB (NV == 1 ? JB / 2 : JB)
#define FN(name) mulo_lo_##name
#include "lo_step_body.h"
