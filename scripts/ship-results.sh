#!/usr/bin/env bash
# Turns the meta-training runs of issue 18 into the shipped files and every result in the README:
#   Checkpoints/<name>.h5               θ + the run's metrics, configuration and budget
#   notebooks-export/exports/<name>/    its PyLO export
#   results/<study>/                    the four learned optimizers and μAdam/AdamW (tuned at the family's
#                                       base width) on one study; `mulo report` then ranks them all
#                                       (results/RESULTS.md and the README's Results block).
#   results/findings/<finding>/         the cross-checks of issue 18's findings (reported beside the ranks).
# Usage: scripts/ship-results.sh RUNS_DIR [STEP...]
#   RUNS_DIR holds the four meta-training runs (mulo-m-fashionmnist/, lo-m-fashionmnist/,
#   muvelo-m-fashionmnist/, velo-m-fashionmnist/) and the evaluations' run files (eval-<study>/).
#   STEP: ship, report, or a study or finding name (below); default: ship, every study and finding, report.
#   SEEDS=N seeds per run (default 3), THREADS=N threads (default all cores), WIDTHS_<STUDY>="…"
#   overrides a study's widths (e.g. WIDTHS_MLP_WIDTH="128 256"), MULO=path another build of mulo
#   (e.g. a copy, so that rebuilding the repository does not touch a long evaluation),
#   BASELINES_ONLY=1 tunes and runs only the baselines into RUNS_DIR (results/ untouched): their runs
#   do not depend on the learned optimizers, so they can go while those are still meta-training.
# The meta-training itself (days here; resumable) and then this script: scripts/paper-runs.sh RUNS_DIR start.
# Finished evaluation runs stay in RUNS_DIR/eval-<study>/runs and are reused when their settings
# (θ's fingerprint included) match (`ship` deletes those of a learned optimizer it replaces); runs recorded in the committed results/<study>/results.h5 are
# adopted the same way (`--adopt`), so a fresh RUNS_DIR trains only what changed.
set -euo pipefail
self=$(realpath "$0")
cd "$(dirname "$0")/.."
runs=$1
shift
mulo=${MULO:-.build/release/mulo}
los="mulo-m-fashionmnist lo-m-fashionmnist muvelo-m-fashionmnist velo-m-fashionmnist"
mu_los="mulo-m-fashionmnist muvelo-m-fashionmnist" sp_los="lo-m-fashionmnist velo-m-fashionmnist"

# The step of the small_fc_lopt pair (μP, SP twin) to ship: the latest checkpoint both runs hold,
# so the two are compared at one budget; each run's latest when they share none. The VeLO pair ships
# each run's latest: VeLO_M's second part counts its steps from its 1000-step start (MetaTasks file).
ship_step() {
    local a=$1 b=${2:-$1} common
    common=$(comm -12 <(ls "$runs/$a" 2> /dev/null | grep -o 'checkpoint-[0-9]*\.h5' | sort) \
                      <(ls "$runs/$b" 2> /dev/null | grep -o 'checkpoint-[0-9]*\.h5' | sort) | tail -1)
    echo "${common:-}"
}

ship() {
    for pair in "mulo-m-fashionmnist lo-m-fashionmnist" muvelo-m-fashionmnist velo-m-fashionmnist; do
        # shellcheck disable=SC2086
        common=$(ship_step $pair)
        for name in $pair; do
            # A run not started yet keeps its shipped θ.
            if [ ! -f "$runs/$name/latest" ]; then echo "$name: no checkpoint yet, Checkpoints/$name.h5 kept"; continue; fi
            ckpt="$runs/$name/${common:-$(cat "$runs/$name/latest")}"
            "$mulo" export "$ckpt" --format h5 --out "$runs/$name/ship" > /dev/null
            # A new θ: its finished evaluation runs belong to the old one (evaluate-on-width would refuse them).
            # Compared by θ's values, as evaluate-on-width identifies it (the files' other contents may
            # differ: metrics of a run that went on, a file written by an older build).
            if ! h5diff -q "$runs/$name/ship/theta.h5" "Checkpoints/$name.h5" /theta /theta > /dev/null 2>&1; then
                rm -f "$runs"/eval-*/runs/lo-"$name"_w*.h5
            fi
            cp "$runs/$name/ship/theta.h5" "Checkpoints/$name.h5"
            rm -rf "notebooks-export/exports/$name"
            "$mulo" export "Checkpoints/$name.h5" --format pylo --out "notebooks-export/exports/$name" > /dev/null
            echo "$name: $(h5dump -a /budget "Checkpoints/$name.h5" | grep -o '"[^"]*"')"
        done
    done
}

# evaluate DIR TEMPLATE TUNE_WIDTH BATCH WIDTHS FLAGS…: the learned optimizers $LOS and baselines
# $BASELINES (tuned at TUNE_WIDTH: 1000 steps, the study's depth unless FLAGS give --tune-depth — the
# depth-16 studies pass 3, the paper's tuning kept for its depth-16 tasks, METHOD §6.2 — `medium` grid),
# $SEEDS seeds, into
# results/DIR (run files in RUNS_DIR/eval-<DIR with / as ->).
evaluate() {
    local dir=$1 template=$2 tune=$3 batch=$4 widths=$5
    shift 5
    local var="WIDTHS_$(echo "$dir" | tr 'a-z/-' 'A-Z__')" work="$runs/eval-${dir//\//-}"
    widths=${!var:-$widths}
    # A study cut to fewer widths (WIDTHS_<STUDY>, as lm-width-to256) would replace results/DIR with
    # only those: when results/DIR holds a width outside them (the whole study, finished), it is left
    # as is and nothing runs — the whole study's own step adopts its runs. BASELINES_ONLY writes no
    # results/, so it runs its cut.
    if [ -n "${!var:-}" ] && [ -z "${BASELINES_ONLY:-}" ] && [ -f "results/$dir/results.h5" ]; then
        local held extra
        held=$(h5ls -r "results/$dir/results.h5" | grep -oE '^/runs/[^/ ]+/w[0-9]+ ' | grep -oE '[0-9]+ $' | tr -d ' ' | sort -u)
        extra=$(comm -23 <(echo "$held") <(printf '%s\n' $widths | sort -u) | xargs)
        if [ -n "$extra" ]; then echo "$dir: results/$dir holds widths $extra too, kept (not cut to $widths)"; return; fi
    fi
    local optimizers=() adopt=()
    if [ -z "${BASELINES_ONLY:-}" ]; then for lo in $LOS; do optimizers+=(--checkpoint "Checkpoints/$lo.h5"); done; fi
    for b in $BASELINES; do optimizers+=(--baseline "$b"); done
    if [ ${#optimizers[@]} = 0 ]; then echo "$dir: no baselines to run"; return; fi
    if [ -f "results/$dir/results.h5" ]; then adopt=(--adopt "results/$dir/results.h5"); fi
    # shellcheck disable=SC2086
    "$mulo" evaluate-on-width "${optimizers[@]}" --grid medium --tune-width "$tune" --tune-steps 1000 \
        --tuning-dir results/tuning --template "$template" --widths $widths --seeds "${SEEDS:-3}" --batch "$batch" \
        ${THREADS:+--threads "$THREADS"} "${adopt[@]}" --out "$work" "$@"
    if [ -n "${BASELINES_ONLY:-}" ]; then return; fi
    rm -rf "results/$dir"
    mkdir -p "results/$dir"
    for f in results.h5 summary.csv table.txt table.md loss_curves.svg final_loss_vs_width.svg; do
        if [ -f "$work/$f" ]; then cp "$work/$f" "results/$dir/"; fi
    done
}

# A Table-1 study: all four learned optimizers and μAdam/AdamW.
study() { LOS=$los BASELINES="muadam adamw" evaluate "$@"; }

mlp=mumlp-w{W}-d3_fashionmnist-28x28x1
lm=mutransformer-w{W}-d3_austen-s64-bytes
vit=muvit-w{W}-d3_fashionmnist-28x28x1
run_step() {
    case $1 in
        ship) ship ;;
        report) "$mulo" report ;;
        # MLPs (Fashion-MNIST, batch 128, tuned at width 128): width, 5× horizon, depth 16, 25× horizon.
        mlp-width) study mlp-width "$mlp" 128 128 "128 256 512 1024 2048 4096" --steps 1000 --test-interval 250 ;;
        mlp-horizon5x) study mlp-horizon5x "$mlp" 128 128 "1024" --steps 5000 --test-interval 500 ;;
        mlp-depth16) study mlp-depth16 "$mlp" 128 128 "1024" --depth 16 --tune-depth 3 --steps 1000 --test-interval 250 ;;
        mlp-horizon) study mlp-horizon "$mlp" 128 128 "256" --steps 25000 --test-interval 1000 ;;
        # Transformers test every 500 steps (3 evaluations a run), not 250: one pass over the test split
        # costs 20–25 training steps here (the corpus's whole test split; 10,000 test images), so 5
        # evaluations would add 10–13% to a 1000-step run; the ranks use only the last one.
        # Language models (Austen bytes, S 64, batch 32, tuned at width 64): width, depth 16.
        lm-width) study lm-width "$lm" 64 32 "64 128 256 512" --steps 1000 --test-interval 500 ;;
        # The same study up to width 256 (~1/3 of its compute; the full one later reuses these runs).
        lm-width-to256) WIDTHS_LM_WIDTH=${WIDTHS_LM_WIDTH:-"64 128 256"} run_step lm-width ;;
        lm-depth16) study lm-depth16 "$lm" 64 32 "256" --depth 16 --tune-depth 3 --steps 1000 --test-interval 500 ;;
        # ViTs (Fashion-MNIST, batch 128, tuned at width 64): the reference's patch-16 layout (5 tokens),
        # patch 7 (17 tokens), depth 16, 25× horizon.
        vit-width) study vit-width "$vit" 64 128 "64 128 256 512" --steps 1000 --test-interval 500 ;;
        vit-p7-width) study vit-p7-width "muvit-w{W}-d3-p7_fashionmnist-28x28x1" 64 128 "64 128 256" --steps 1000 --test-interval 500 ;;
        vit-depth16) study vit-depth16 "$vit" 64 128 "256" --depth 16 --tune-depth 3 --steps 1000 --test-interval 500 ;;
        vit-horizon) study vit-horizon "$vit" 64 128 "64" --steps 25000 --test-interval 1000 ;;
        # Findings (results/findings/, beside Table 1, not in it). How much of μP's benefit is the
        # optimizee's and how much the optimizer's: each LO on the other parametrization's MLPs, keeping its
        # own update rule (its parametrization's s_W).
        mu-los-on-sp-mlps) LOS=$mu_los BASELINES="" evaluate findings/mu-los-on-sp-mlps "$mlp" 128 128 "128 512 2048" \
                               --task-parametrization sp --steps 1000 --test-interval 250 ;;
        sp-los-on-mu-mlps) LOS=$sp_los BASELINES="" evaluate findings/sp-los-on-mu-mlps "$mlp" 128 128 "128 512 2048" \
                               --task-parametrization mu --steps 1000 --test-interval 250 ;;
        # Memorisation: 1024 training examples (`-n1024`), fitted long before the end — does each
        # optimizer keep its rank once the training loss is ~0, and does it stay there (loss spikes)?
        memorisation) LOS=$los BASELINES="muadam adamw" evaluate findings/memorisation "$mlp-n1024" 256 128 "256 1024" \
                          --steps 3000 --test-interval 500 ;;
        # The μViT with the corrected output scale (TRANSFORMERS §7) against vit-width's reference one.
        muvit-corrected) LOS=$mu_los BASELINES=muadam evaluate findings/muvit-corrected "muvit-w{W}-d3-corrected_fashionmnist-28x28x1" \
                             64 128 "64 128 256 512" --steps 1000 --test-interval 500 ;;
        *) echo "unknown step $1 (ship, report, mlp-width, mlp-horizon5x, mlp-depth16, mlp-horizon, lm-width, lm-width-to256, lm-depth16, vit-width, vit-p7-width, vit-depth16, vit-horizon, mu-los-on-sp-mlps, sp-los-on-mu-mlps, memorisation, muvit-corrected)" >&2
           exit 2 ;;
    esac
}

# The width studies of the three families first — the language model's up to width 256 only, as
# its width 512 costs twice the rest of it (~7.7 core-hours on a Zen 4) — then the depth studies,
# the language model's width 512, horizons and the findings: the whole runs for days here, and a
# table stopped early should still cover every family. The language model's depth-16 study goes
# last: one task that costs as much as its whole width study (~14 core-hours on a Zen 4), so the
# cheaper studies and the findings do not wait for it.
steps=${*:-ship mlp-width vit-width lm-width-to256 mlp-depth16 vit-depth16 lm-width mlp-horizon5x vit-p7-width mlp-horizon \
          vit-horizon mu-los-on-sp-mlps sp-los-on-mu-mlps memorisation muvit-corrected lm-depth16 report}
# shellcheck disable=SC2086
set -- $steps
if [ $# = 1 ]; then run_step "$1"; exit; fi
# Several steps: each in a process of its own, so a study that fails (its error printed) costs only
# itself — hours of the others' compute go on — and the report covers what finished. A failed ship
# stops everything: the studies would evaluate the θs it did not replace. The report is brought up
# to date after every study, so the repository is consistent whenever a long pipeline is stopped.
failed=()
for s in "$@"; do
    if ! bash "$self" "$runs" "$s"; then
        [ "$s" = ship ] && { echo "ship failed: no study run" >&2; exit 1; }
        failed+=("$s")
    elif [ -z "${BASELINES_ONLY:-}" ] && [ "$s" != ship ] && [ "$s" != report ]; then
        "$mulo" report > /dev/null || echo "warning: mulo report failed after $s" >&2
    fi
done
if [ ${#failed[@]} -gt 0 ]; then echo "failed steps: ${failed[*]}" >&2; exit 1; fi
