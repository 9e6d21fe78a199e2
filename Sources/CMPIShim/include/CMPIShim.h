#ifndef MULO_CMPISHIM_H
#define MULO_CMPISHIM_H
#include <stddef.h>

// Open MPI's handles (MPI_COMM_WORLD, MPI_BYTE, …) are cast macros Swift cannot import; these
// wrappers expose the few operations MuLO needs on MPI_COMM_WORLD. Each returns MPI_SUCCESS (0)
// or an MPI error code.
int mulo_mpi_init(void);
int mulo_mpi_finalize(void);
int mulo_mpi_rank(void);
int mulo_mpi_size(void);
void mulo_mpi_abort(int code);
/// Every rank contributes `count` bytes; `recv` receives size·count bytes in rank order.
int mulo_mpi_allgather_bytes(const void *send, int count, void *recv);
int mulo_mpi_bcast_bytes(void *buf, int count, int root);
int mulo_mpi_send_bytes(const void *buf, size_t count, int dest, int tag);
int mulo_mpi_recv_bytes(void *buf, size_t count, int source, int tag);
int mulo_mpi_barrier(void);

#endif
