/* rng.c - PCG32 (O'Neill's permuted congruential generator, XSH-RR variant).
 * Chosen because it is tiny, fast and defined bit for bit, so a seed means the same
 * numbers on every platform. */
#include <math.h>

#include "deepc/tensor.h"

void dc_rng_seed(dc_rng *rng, uint64_t seed)
{
    rng->state = 0;
    rng->inc = (seed << 1u) | 1u;
    dc_rng_u32(rng);
    rng->state += seed;
    dc_rng_u32(rng);
}

uint32_t dc_rng_u32(dc_rng *rng)
{
    uint64_t old = rng->state;
    uint32_t xorshifted, rot;

    rng->state = old * 6364136223846793005ULL + rng->inc;
    xorshifted = (uint32_t)(((old >> 18u) ^ old) >> 27u);
    rot = (uint32_t)(old >> 59u);
    return (xorshifted >> rot) | (xorshifted << ((32 - rot) & 31));
}

float dc_rng_uniform(dc_rng *rng)
{
    return (float)(dc_rng_u32(rng) >> 8) * (1.0f / 16777216.0f);
}

uint32_t dc_rng_below(dc_rng *rng, uint32_t n)
{
    /* Rejection keeps every value equally likely: drop the top partial range. */
    uint32_t threshold = -n % n;

    for (;;) {
        uint32_t r = dc_rng_u32(rng);
        if (r >= threshold)
            return r % n;
    }
}

float dc_rng_normal(dc_rng *rng)
{
    /* Box-Muller in double; u1 is kept away from 0 so the log is finite. */
    double u1 = ((double)dc_rng_u32(rng) + 1.0) / 4294967296.0;
    double u2 = (double)dc_rng_u32(rng) / 4294967296.0;

    return (float)(sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2));
}

void dc_rng_shuffle(dc_rng *rng, int *a, int n)
{
    for (int i = n - 1; i > 0; i--) {
        int j = (int)dc_rng_below(rng, (uint32_t)i + 1);
        int t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
}
