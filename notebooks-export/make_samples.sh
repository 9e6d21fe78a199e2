#!/usr/bin/env bash
# Produces small sample inputs for the notebooks with the mulo tool: a meta-training
# checkpoint, width-evaluation results, a coordinate check and a PyLO export with a probe.
# Usage: make_samples.sh OUT_DIR [MULO_BINARY]
set -euo pipefail
out=$(realpath -m "$1")
mulo=$(realpath "${2:-$(dirname "$0")/../.build/release/mulo}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"
cat > "$work/sample.toml" <<'TOML'
name = "sample"
outer_steps = 12
[[families]]
template = "mumlp-w{W}-d2_synthetic-6x6x1"
widths = [8, 16]
batch_size = 16
[estimator]
pairs = 2
truncation = 5
episode_min = 6
episode_max = 12
initial_offset_max = 4
[outer_optimizer]
lr_peak = 1e-2
warmup_steps = 2
decay_end = 12
[checkpoint]
interval = 12
keep = 1
TOML
"$mulo" meta-train "$work/sample.toml" --out "$work/run" > /dev/null
cp "$work/run/$(cat "$work/run/latest")" "$out/checkpoint.h5"
cp "$work/run/theta.h5" "$out/theta.h5"
"$mulo" evaluate-on-width --checkpoint "$work/run/theta.h5" --baseline muadam --baseline adamw --no-tune --lr 0.01 \
    --template 'mumlp-w{W}-d2_synthetic-6x6x1' --widths 8 16 32 --steps 40 --seeds 2 --batch 16 \
    --test-interval 20 --test-examples 100 --out "$work/eval" > /dev/null
cp "$work/eval/results.h5" "$out/results.h5"
"$mulo" coord-check --optimizer muadam --lr 0.001 --template 'mumlp-w{W}-d2_synthetic-6x6x1' \
    --widths 16 32 64 --steps 5 --log-steps 1 5 --batch 16 --out "$work/cc" > /dev/null
cp "$work/cc/coord_check.h5" "$out/coord_check.h5"
(cd "$out" && "$mulo" export theta.h5 --format pylo --with-probe --out export > /dev/null)
echo "samples in $out"
