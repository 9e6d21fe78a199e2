#include "mulo_kernels.h"
#include "mulo_lo.h"
