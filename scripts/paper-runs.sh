#!/usr/bin/env bash
# Issue 18's whole experiment in the background, resumable: the four meta-trainings side by side on one
# thread each (the VeLO pair, ~0.7 s per outer step here against μLO_M's ~4.5 s, finishes first and is
# shipped early), then scripts/ship-results.sh on both cores (ship the θs, every study, the report).
# Start it again whenever a session begins: each meta-training continues from its latest checkpoint
# and each evaluation run from its saved partial run.
# Usage: scripts/paper-runs.sh RUNS_DIR start|stop|status|save
#   RUNS_DIR (outside the repository) gets, at its first start, the MetaTasks files and the earlier θs
#   they continue (Checkpoints/earlier/), so editing the repository never changes a running experiment,
#   and two copies of the current .build/release/mulo: bin/mulo for the meta-trainings (a run resumes
#   exactly only on the build that started it) and bin/mulo-eval for the evaluation (replace it only while
#   no evaluation runs: an unfinished run continues on whatever build resumes it).
#   A meta-training whose shipped Checkpoints/<name>.h5 is already the whole part its MetaTasks file
#   describes (finished on an earlier machine) is not run again.
#   Logs: RUNS_DIR/<name>.log for each meta-training, RUNS_DIR/pipeline.log for the rest.
#   stop: SIGTERM to everything started: meta-trainings write a checkpoint first, evaluation runs
#   save where they are (a bin/mulo-eval built before 2026-12-04 does not: its runs lose at most
#   their last --save-interval, 300 s).
#   save (at a session's end, then commit Checkpoints/ notebooks-export/exports/ results/ README.md):
#   ships each meta-training's latest θ with its budget and regenerates the report; copies each
#   unfinished meta-training's restart point (its newest checkpoint without the particles, ~0.1 MB;
#   the checkpoints themselves are ~90 MB each) to results/in-progress/meta-<name>.h5 and the
#   finished evaluation runs that results/<study>/results.h5 does not hold yet to
#   results/in-progress/eval-<study>/. start copies both back into a new RUNS_DIR: a machine lost
#   with its RUNS_DIR then costs only what ran since, and its meta-trainings go on with the same θ,
#   outer optimizer and schedule, their particles started afresh (recorded in the metrics and the
#   shipped budget).
set -euo pipefail
shopt -s nullglob
repo=$(realpath "$(dirname "$0")/..")
runs=$(realpath -m "$1")
pidfile=$runs/pipeline.pid
names=(mulo-m-fashionmnist lo-m-fashionmnist muvelo-m-fashionmnist velo-m-fashionmnist)

# Whether the evaluation run file RUN (<optimizer>_w<width>_s<seed>.h5) of eval-<study> (evaluate's
# name for results/<study>, "/" as "-") is the run of that name in the study's results.h5: the same
# configuration, θ's fingerprint included (a study rerun with new θs still holds the old θs' runs).
reported() {
    local name=${1#eval-} run opt rest config
    [[ $name == findings-* ]] && name=findings/${name#findings-}
    run=$(basename "$2" .h5) opt=${run%_w*_s*}
    rest=${run#"$opt"_}
    config=$(attribute "$2" /config)
    [ -n "$config" ] && [ "$config" = "$(attribute "$repo/results/$name/results.h5" "/runs/$opt/${rest%_s*}/s${rest##*_s}/config")" ]
}

# An HDF5 attribute's value as h5dump prints it, on one line; empty when there is none.
attribute() { h5dump -w 0 -a "$2" "$1" 2> /dev/null | grep -o '(0): .*' || true; }

running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2> /dev/null; }

# Whether Checkpoints/<name>.h5 is already the whole of the part its MetaTasks file describes (the
# same earlier θ, every configured outer step): then a new RUNS_DIR does not run that part again.
shipped_complete() {
    local name=$1 toml=$runs/$1.toml shipped=$repo/Checkpoints/$1.h5
    [ -f "$toml" ] || toml=$repo/MetaTasks/$1.toml   # a RUNS_DIR not started yet
    [ -f "$shipped" ] || return 1
    attr() { attribute "$shipped" "/$1" | cut -c6-; }
    [ "$(attr outer_steps_done)" = "$(sed -n 's/^outer_steps = \([0-9]*\).*/\1/p' "$toml")" ] &&
        [ "$(attr init_theta)" = "\"$(sed -n 's/^init_checkpoint = "\([^"]*\)".*/\1/p' "$toml" | xargs -r basename)\"" ]
}

# One meta-training from its checkpoint (a finished one returns at once). One that stops with an
# error or a signal ends the pipeline after it.
meta_train() {
    local name=$1 resume=()
    if [ ! -f "$runs/$name/latest" ] && shipped_complete "$name"; then
        echo "$name: finished and shipped (Checkpoints/$name.h5)"; return 0
    fi
    [ -f "$runs/$name/latest" ] && resume=(--resume)
    (cd "$runs" && nice -n 5 bin/mulo meta-train "$name.toml" --out "$name" --threads 1 --compare-width 0 \
        "${resume[@]}" >> "$name.log" 2>&1) || { echo "$name stopped (exit $?): see $runs/$name.log"; return 1; }
}

pipeline() {
    echo "$(date -u +%FT%TZ) meta-trainings: ${names[*]}"
    local pids=() failed=0
    for name in "${names[@]}"; do meta_train "$name" & pids+=($!); done
    for p in "${pids[@]}"; do wait "$p" || failed=1; done
    [ $failed = 0 ] || { echo "$(date -u +%FT%TZ) a meta-training did not finish: no evaluation"; return 1; }
    echo "$(date -u +%FT%TZ) evaluation: scripts/ship-results.sh $runs"
    MULO="$runs/bin/mulo-eval" THREADS=2 nice -n 5 "$repo/scripts/ship-results.sh" "$runs"
    echo "$(date -u +%FT%TZ) done"
}

case ${2:-} in
    start)
        running && { echo "already running (pid $(cat "$pidfile"))"; exit 0; }
        mkdir -p "$runs/Checkpoints"
        for bin in mulo mulo-eval; do
            [ -x "$runs/bin/$bin" ] || install -D "$repo/.build/release/mulo" "$runs/bin/$bin"
        done
        [ -d "$runs/Checkpoints/earlier" ] || cp -r "$repo/Checkpoints/earlier" "$runs/Checkpoints/"
        for name in "${names[@]}"; do
            [ -f "$runs/$name.toml" ] || cp "$repo/MetaTasks/$name.toml" "$runs/"
            saved=$repo/results/in-progress/meta-$name.h5
            if [ ! -f "$runs/$name/latest" ] && [ -f "$saved" ]; then
                mkdir -p "$runs/$name"
                cp "$saved" "$runs/$name/restart.h5"
                echo restart.h5 > "$runs/$name/latest"
            fi
        done
        if [ -d "$repo/results/in-progress" ]; then
            for d in "$repo"/results/in-progress/eval-*/; do
                mkdir -p "$runs/$(basename "$d")/runs"
                cp -n "$d"*.h5 "$runs/$(basename "$d")/runs/"
            done
        fi
        # A session of its own, so that stop reaches every process it started and nothing else.
        setsid bash -c "$(declare -f attribute shipped_complete meta_train pipeline); runs='$runs' repo='$repo'; names=(${names[*]}); pipeline" \
            >> "$runs/pipeline.log" 2>&1 < /dev/null &
        echo $! > "$pidfile"
        echo "started (pid $!): logs in $runs" ;;
    stop)
        running || { echo "not running"; exit 0; }
        kill -TERM -- -"$(cat "$pidfile")"
        echo "stopping: meta-trainings finish their outer step and write a checkpoint, evaluation runs save where they are" ;;
    status)
        if running; then echo "running (pid $(cat "$pidfile"))"; else echo "not running"; fi
        for name in "${names[@]}"; do
            [ -f "$runs/$name.log" ] && echo "$name: $(grep -a '^outer step' "$runs/$name.log" | tail -1 | cut -c1-110)"
        done
        # The evaluation's study (or tuning) and its latest count of finished runs, whose ETA is by
        # their compute; the log's last lines interleave the two runs in progress.
        grep -a -E '^(evaluating |tuning [a-z]+ on |runs [0-9]|tuning trials )' "$runs/pipeline.log" 2> /dev/null | tail -n 2 || true
        tail -n 3 "$runs/pipeline.log" 2> /dev/null || true ;;
    save)
        MULO="$runs/bin/mulo-eval" "$repo/scripts/ship-results.sh" "$runs" ship report
        for name in "${names[@]}"; do
            saved=$repo/results/in-progress/meta-$name.h5
            if shipped_complete "$name"; then rm -f "$saved"
            elif [ -f "$runs/$name/restart.h5" ]; then mkdir -p "$(dirname "$saved")"; cp "$runs/$name/restart.h5" "$saved"
            fi
        done
        # Each finished run that results/<study>/results.h5 does not hold (a study's unfinished part,
        # whether or not an earlier part of it is reported); saved runs it now holds go. Decided by
        # content, not by file times: a step that reports part of a study (lm-width's widths <= 256)
        # rewrites its run directory's results.h5 without finishing it.
        for d in "$runs"/eval-*/runs; do
            study=$(basename "$(dirname "$d")")
            for f in "$d"/*.h5; do
                if [[ $f == *.partial.h5 ]] || reported "$study" "$f"; then continue; fi
                mkdir -p "$repo/results/in-progress/$study"
                cp -u "$f" "$repo/results/in-progress/$study/"
            done
        done
        for d in "$repo"/results/in-progress/eval-*/; do
            for f in "$d"*.h5; do
                if reported "$(basename "$d")" "$f"; then rm "$f"; fi
            done
            rmdir --ignore-fail-on-non-empty "$d"
        done
        echo "saved: commit Checkpoints/ notebooks-export/exports/ results/ README.md" ;;
    *) echo "usage: $0 RUNS_DIR start|stop|status|save" >&2; exit 2 ;;
esac
