#!/usr/bin/env bash
# Turns the latest checkpoints of the two meta-training runs (mulo-m-fashionmnist and its SP twin)
# into the shipped files and the results in the README:
#   Checkpoints/<name>.h5               θ + the run's metrics, configuration and budget
#   notebooks-export/exports/<name>/    the PyLO export
#   results/width/                      both LOs and tuned μAdam/AdamW at widths $WIDTHS, depth 3
#   results/depth16/                    the same at width 1024, depth 16
#   results/horizon/                    the same at width 256 for 25,000 steps (25× the meta-training horizon)
# Usage: scripts/ship-results.sh RUNS_DIR [STUDY...]   (RUNS_DIR holds mulo-m-fashionmnist/ and lo-m-fashionmnist/;
#        STUDY: ship, width, depth16, horizon; default all). WIDTHS="128 … 4096" overrides the widths,
#        SEEDS=N the seeds per run (default 3; more later reuses the finished ones).
# The meta-training itself (hours here; resumable):
#   mulo meta-train mulo-m-fashionmnist --out RUNS_DIR/mulo-m-fashionmnist [--resume]
#   mulo meta-train lo-m-fashionmnist --out RUNS_DIR/lo-m-fashionmnist [--resume]
# Finished evaluation runs stay in RUNS_DIR/eval-<study>/runs and are reused when the settings
# (θ included) match; after re-shipping θ, delete the lo-* files there first.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=$1
shift
studies=${*:-ship width depth16 horizon}
mulo=.build/release/mulo

ship() {
    for name in mulo-m-fashionmnist lo-m-fashionmnist; do
        ckpt="$runs/$name/$(cat "$runs/$name/latest")"
        "$mulo" export "$ckpt" --format h5 --out "$runs/$name/ship" > /dev/null
        cp "$runs/$name/ship/theta.h5" "Checkpoints/$name.h5"
        "$mulo" export "Checkpoints/$name.h5" --format pylo --out "notebooks-export/exports/$name" > /dev/null
        echo "$name: $(h5dump -a /budget "Checkpoints/$name.h5" | grep -o '"[^"]*"')"
    done
}

# study NAME FLAGS…: both LOs and μAdam/AdamW tuned at width 128 (1000 steps, at the study's depth), $SEEDS seeds.
study() {
    local name=$1
    shift
    "$mulo" evaluate-on-width --checkpoint Checkpoints/mulo-m-fashionmnist.h5 --checkpoint Checkpoints/lo-m-fashionmnist.h5 \
        --baseline muadam --baseline adamw --grid medium --tune-width 128 --tune-steps 1000 --tuning-dir results/tuning \
        --template 'mumlp-w{W}-d3_fashionmnist-28x28x1' --seeds "${SEEDS:-3}" --batch 128 --out "$runs/eval-$name" "$@"
    mkdir -p "results/$name"
    cp "$runs/eval-$name/"{results.h5,summary.csv,table.txt,table.md,loss_curves.svg} "results/$name/"
    # The vs-width plot exists only for studies of two widths or more.
    rm -f "results/$name/final_loss_vs_width.svg"
    if [ -f "$runs/eval-$name/final_loss_vs_width.svg" ]; then cp "$runs/eval-$name/final_loss_vs_width.svg" "results/$name/"; fi
}

for s in $studies; do
    case $s in
        ship) ship ;;
        # shellcheck disable=SC2086
        width) study width --widths ${WIDTHS:-128 256 512 1024 2048} --steps 1000 --test-interval 250 ;;
        depth16) study depth16 --widths 1024 --depth 16 --steps 1000 --test-interval 250 ;;
        horizon) study horizon --widths 256 --steps 25000 --test-interval 1000 ;;
        *) echo "unknown study $s (ship, width, depth16, horizon)" >&2; exit 2 ;;
    esac
done
