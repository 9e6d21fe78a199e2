#include "CMPIShim.h"
#include <limits.h>
#include <mpi.h>

int mulo_mpi_init(void) {
    int ok = MPI_Init(NULL, NULL);
    // Errors come back as codes; MuLO turns them into messages and aborts the job itself.
    if (ok == MPI_SUCCESS) MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    return ok;
}
int mulo_mpi_finalize(void) { return MPI_Finalize(); }
int mulo_mpi_rank(void) { int r = -1; MPI_Comm_rank(MPI_COMM_WORLD, &r); return r; }
int mulo_mpi_size(void) { int s = -1; MPI_Comm_size(MPI_COMM_WORLD, &s); return s; }
void mulo_mpi_abort(int code) { MPI_Abort(MPI_COMM_WORLD, code); }
int mulo_mpi_allgather_bytes(const void *send, int count, void *recv) {
    return MPI_Allgather(send, count, MPI_BYTE, recv, count, MPI_BYTE, MPI_COMM_WORLD);
}
int mulo_mpi_bcast_bytes(void *buf, int count, int root) { return MPI_Bcast(buf, count, MPI_BYTE, root, MPI_COMM_WORLD); }

// Large messages go in chunks below INT_MAX bytes.
int mulo_mpi_send_bytes(const void *buf, size_t count, int dest, int tag) {
    const char *p = buf;
    do {
        int n = count > (size_t)(INT_MAX / 2) ? INT_MAX / 2 : (int)count;
        int ok = MPI_Send(p, n, MPI_BYTE, dest, tag, MPI_COMM_WORLD);
        if (ok != MPI_SUCCESS) return ok;
        p += n;
        count -= (size_t)n;
    } while (count > 0);
    return MPI_SUCCESS;
}
int mulo_mpi_recv_bytes(void *buf, size_t count, int source, int tag) {
    char *p = buf;
    do {
        int n = count > (size_t)(INT_MAX / 2) ? INT_MAX / 2 : (int)count;
        int ok = MPI_Recv(p, n, MPI_BYTE, source, tag, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        if (ok != MPI_SUCCESS) return ok;
        p += n;
        count -= (size_t)n;
    } while (count > 0);
    return MPI_SUCCESS;
}
int mulo_mpi_barrier(void) { return MPI_Barrier(MPI_COMM_WORLD); }
