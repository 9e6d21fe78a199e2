#include "mulo_isa.h"
#include "simd.h"

#ifndef MULO_MARCH
#define MULO_MARCH "unknown"
#endif

const char *mulo_kernel_isa(void) { return MULO_ISA; }
const char *mulo_kernel_march(void) { return MULO_MARCH; }
int mulo_kernel_vector_lanes(void) { return VL; }
int mulo_kernel_hidden_block(void) { return JB; }
