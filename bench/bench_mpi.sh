#!/bin/sh
# M2 with N = 10^6, D = 5 over 1 and 2 MPI ranks (bench/bench_mpi.cpp):
# prints each run's JSON, then one line with the speed-up per step and the
# ratio of peak memory per rank, from the median step and from the fastest
# (on a shared machine the fastest is the one where both ranks had a core). Usage: bench/bench_mpi.sh BUILD_DIR [args…]
set -eu
bin="$1/bench/vireo_bench_mpi"
shift
mpirun_flags="--oversubscribe"
[ "$(id -u)" -eq 0 ] && mpirun_flags="$mpirun_flags --allow-run-as-root"
one=$(mpirun $mpirun_flags -np 1 "$bin" "$@")
two=$(mpirun $mpirun_flags -np 2 "$bin" "$@")
echo "$one"
echo "$two"
field() { echo "$1" | sed -n "s/.*\"$2\":\([^,}]*\).*/\1/p"; }
rss() { echo "$1" | sed -n 's/.*"peak_rss_mb_per_rank":\[\([^],]*\).*/\1/p'; }
awk -v a="$(field "$one" ms_per_step_median)" -v b="$(field "$two" ms_per_step_median)" \
    -v fa="$(field "$one" ms_per_step_fastest)" -v fb="$(field "$two" ms_per_step_fastest)" -v ra="$(rss "$one")" -v rb="$(rss "$two")" \
    -v l="$(cut -d' ' -f1 /proc/loadavg)" \
    'BEGIN { printf "{\"speedup_2_ranks_median_step\":%.3f,\"speedup_2_ranks_fastest_step\":%.3f,\"peak_rss_ratio_2_to_1\":%.3f,\"load_average_after\":%s}\n", a / b, fa / fb, rb / ra, l }'
