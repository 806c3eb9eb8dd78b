/* threads.c - one thread count for OpenMP and OpenBLAS (its OpenMP build shares the pool). */
#include <omp.h>

#include "deepc/tensor.h"

void openblas_set_num_threads(int n);

static int thread_count;

void dc_set_threads(int n)
{
    if (n <= 0)
        n = omp_get_num_procs();
    thread_count = n;
    omp_set_num_threads(n);
    openblas_set_num_threads(n);
}

int dc_get_threads(void)
{
    return thread_count > 0 ? thread_count : omp_get_max_threads();
}
