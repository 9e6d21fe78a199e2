#include "mulo_kernels.h"
#include "mulo_lo.h"
#include "mulo_isa.h"
#include "mulo_transformer.h"
