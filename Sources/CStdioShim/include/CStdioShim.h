#ifndef MULO_CSTDIOSHIM_H
#define MULO_CSTDIOSHIM_H

// Swift 6 refuses to touch C's `stdout` (a mutable global), so its buffering is set here.
// Line-buffered stdout keeps a background run's log (`> run.log 2>&1`) in order: the header and
// results on stdout appear among the progress lines on stderr as they are printed, not at exit.
void mulo_line_buffer_stdout(void);

#endif
