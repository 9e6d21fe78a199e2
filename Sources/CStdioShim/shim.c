#include <stdio.h>
#include "CStdioShim.h"

void mulo_line_buffer_stdout(void) { setvbuf(stdout, NULL, _IOLBF, 0); }
