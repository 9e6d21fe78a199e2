#!/usr/bin/env bash
# Crash consistency, as issue 16 measures it: N times, start a small meta-training, kill -9 it at
# a random moment, resume it to the end, and require θ and the metrics to be bit-identical to an
# uninterrupted run and no temporary file to be left in the run directory.
# Usage: scripts/kill9-trials.sh [N=50] [mulo binary=.build/release/mulo]
set -euo pipefail
n=${1:-50}
mulo=$(realpath "${2:-.build/release/mulo}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/c.toml" <<'TOML'
name = "kill9"
outer_steps = 400
[[families]]
template = "mumlp-w{W}-d2_synthetic-6x6x1"
widths = [8, 12]
batch_size = 16
[estimator]
pairs = 2
truncation = 4
episode_min = 5
episode_max = 11
initial_offset_max = 5
[checkpoint]
interval = 3
keep = 2
TOML
"$mulo" meta-train "$work/c.toml" --out "$work/whole" --threads 1 > /dev/null
h5dump -d /metrics/meta_loss "$work/whole/$(cat "$work/whole/latest")" | grep -v HDF5 > "$work/whole.metrics"
failures=0
for i in $(seq 1 "$n"); do
    run="$work/run$i"
    "$mulo" meta-train "$work/c.toml" --out "$run" --threads 1 > /dev/null 2>&1 &
    pid=$!
    sleep "$(( RANDOM % 3 )).$(( RANDOM % 9 + 1 ))"
    kill -9 "$pid" 2> /dev/null || true
    wait "$pid" 2> /dev/null || true
    if [ -f "$run/latest" ]; then resume=--resume; else resume=""; rm -rf "$run"; fi
    "$mulo" meta-train "$work/c.toml" --out "$run" --threads 1 $resume > /dev/null
    h5dump -d /metrics/meta_loss "$run/$(cat "$run/latest")" | grep -v HDF5 > "$work/run.metrics"
    left=$(find "$run" -name '*.tmp-*' | wc -l)
    if cmp -s <(h5dump -g /theta "$work/whole/theta.h5" | grep -v HDF5) <(h5dump -g /theta "$run/theta.h5" | grep -v HDF5) \
        && cmp -s "$work/whole.metrics" "$work/run.metrics" && [ "$left" -eq 0 ]; then
        echo "trial $i: identical ${resume:-(killed before the first checkpoint)}"
    else
        echo "trial $i: DIFFERENT (temporary files left: $left)"
        failures=$((failures + 1))
    fi
    rm -rf "$run"
done
echo "$((n - failures)) of $n trials identical, no temporary files left"
[ "$failures" -eq 0 ]
