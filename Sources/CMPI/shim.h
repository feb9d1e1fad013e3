// Open MPI's predefined handles are macros over globals that Swift cannot import; these
// functions hand them over. Used only by Sources/SNNCMPI/MPI.swift.
#include <mpi.h>

static inline MPI_Comm snnc_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype snnc_mpi_byte(void) { return MPI_BYTE; }
static inline MPI_Datatype snnc_mpi_int(void) { return MPI_INT; }
static inline MPI_Datatype snnc_mpi_int64(void) { return MPI_INT64_T; }
static inline MPI_Datatype snnc_mpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Op snnc_mpi_sum(void) { return MPI_SUM; }
static inline MPI_Op snnc_mpi_max(void) { return MPI_MAX; }
static inline MPI_Errhandler snnc_mpi_errors_return(void) { return MPI_ERRORS_RETURN; }
static inline void *snnc_mpi_in_place(void) { return MPI_IN_PLACE; }
