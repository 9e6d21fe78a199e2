#!/usr/bin/env bash
# Turns the latest checkpoints of the two meta-training runs (mulo-m-fashionmnist and its SP twin)
# into the shipped files and the width-transfer results in the README:
#   Checkpoints/<name>.h5               θ + the run's metrics, configuration and budget
#   notebooks-export/exports/<name>/    the PyLO export
#   results/width/                      evaluate-on-width: both LOs and tuned μAdam/AdamW
# Usage: scripts/ship-results.sh RUNS_DIR [WIDTHS...]   (RUNS_DIR holds mulo-m-fashionmnist/ and lo-m-fashionmnist/)
# The meta-training itself (hours here; resumable):
#   mulo meta-train mulo-m-fashionmnist --out RUNS_DIR/mulo-m-fashionmnist [--resume]
#   mulo meta-train lo-m-fashionmnist --out RUNS_DIR/lo-m-fashionmnist [--resume]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=$1
shift
widths=${*:-128 256 512 1024}
mulo=.build/release/mulo
for name in mulo-m-fashionmnist lo-m-fashionmnist; do
    ckpt="$runs/$name/$(cat "$runs/$name/latest")"
    "$mulo" export "$ckpt" --format h5 --out "$runs/$name/ship" > /dev/null
    cp "$runs/$name/ship/theta.h5" "Checkpoints/$name.h5"
    "$mulo" export "Checkpoints/$name.h5" --format pylo --out "notebooks-export/exports/$name" > /dev/null
    echo "$name: $(h5dump -a /budget "Checkpoints/$name.h5" | grep -o '"[^"]*"')"
done
# shellcheck disable=SC2086
"$mulo" evaluate-on-width --checkpoint Checkpoints/mulo-m-fashionmnist.h5 --checkpoint Checkpoints/lo-m-fashionmnist.h5 \
    --baseline muadam --baseline adamw --grid medium --tune-width 128 --tune-steps 1000 --tuning-dir results/tuning \
    --template 'mumlp-w{W}-d3_fashionmnist-28x28x1' --widths $widths --steps 1000 --seeds 3 --batch 128 \
    --test-interval 250 --out "$runs/eval-width"
# Finished runs stay in RUNS_DIR/eval-width/runs (a re-run with more widths reuses them).
mkdir -p results/width
cp "$runs/eval-width/"{results.h5,summary.csv,table.txt,loss_curves.svg,final_loss_vs_width.svg} results/width/
