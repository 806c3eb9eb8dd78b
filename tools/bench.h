/* bench.h - `deepc bench`: training-step throughput of the course models. */
#ifndef DEEPC_TOOLS_BENCH_H
#define DEEPC_TOOLS_BENCH_H

/* Runs the benchmark named by argv (after "bench"); returns the exit status. */
int bench_main(int argc, char **argv);

#endif
