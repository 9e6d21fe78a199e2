// small_fc_lopt's fast step (METHOD §8): the sweeps of lo_step_body.h with its MLP (hidden 32).
#define LO_H 32
#define LO_W2S 2
#define LO_VELO 0
#define FN(name) mulo_lo_##name
#include "lo_step_body.h"
