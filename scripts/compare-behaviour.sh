#!/usr/bin/env bash
# Checks that the working tree behaves bit-identically to an earlier commit (a refactoring's
# promise): builds REV in a temporary worktree and the working tree, runs the same commands with
# both binaries, and compares θ, every checkpoint array and attribute, and every evaluation
# result with h5diff (exact), leaving out only wall-clock measurements.
# Usage: scripts/compare-behaviour.sh [REV]   (default HEAD; MULO_DATA_DIR etc. as for mulo)
set -euo pipefail
cd "$(dirname "$0")/.."
rev=${1:-HEAD}
work=$(mktemp -d)
trap 'git worktree remove --force "$work/src" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
git worktree add --detach "$work/src" "$rev" > /dev/null
echo "building $rev and the working tree…"
(cd "$work/src" && swift build -c release > "$work/build-old.log" 2>&1) || { cat "$work/build-old.log"; exit 1; }
swift build -c release > "$work/build-new.log" 2>&1 || { cat "$work/build-new.log"; exit 1; }

run() {  # run SIDE BINARY
    local out=$work/$1 mulo=$2
    "$mulo" meta-train demo --steps 30 --out "$out/meta" --compare-width 0 > /dev/null
    "$mulo" evaluate-on-width --checkpoint "$out/meta/theta.h5" --checkpoint Checkpoints/lo-m-fashionmnist.h5 \
        --baseline muadam --no-tune --lr 0.01 --template 'mumlp-w{W}-d2_fashionmnist-28x28x1' --widths 16 32 \
        --steps 40 --seeds 2 --batch 32 --test-interval 20 --test-examples 500 --out "$out/eval" > /dev/null
}
run old "$work/src/.build/release/mulo"
run new .build/release/mulo

# Every attribute of every object with its value as h5dump prints it, less the wall-clock ones
# (an unreadable file fails the pipeline, which ends the script under pipefail).
attributes() {
    h5dump -A "$1" | tail -n +2 | awk '/ATTRIBUTE "wall_time_s"/ { skip = 1; depth = 0 }
        skip { depth += gsub(/{/, "{"); depth -= gsub(/}/, "}"); if (depth == 0) skip = 0; next } { print }' |
        sed 's|\\/|/|g' | sed "s|$work/old/|RUN/|g; s|$work/new/|RUN/|g"  # each side's run directory (JSON escapes '/')
}
status=0
compare() {  # compare RELATIVE-PATH [h5diff options]: arrays exactly, then the attributes
    local f=$1 same=1
    shift
    attributes "$work/old/$f" > "$work/attr-old.txt"
    attributes "$work/new/$f" > "$work/attr-new.txt"
    h5diff "$@" --exclude-attribute / "$work/old/$f" "$work/new/$f" > "$work/diff.txt" 2>&1 || same=0
    diff "$work/attr-old.txt" "$work/attr-new.txt" > "$work/attr.txt" || same=0
    if [ $same = 1 ]; then
        echo "identical  $f"
    else
        echo "DIFFERENT  $f"
        head -20 "$work/diff.txt" "$work/attr.txt"
        status=1
    fi
}
compare meta/theta.h5
compare "meta/$(cat "$work/new/meta/latest")" --exclude-path /metrics/wall_time_s --exclude-path /metrics/inner_steps_per_s
for f in "$work"/new/eval/runs/*.h5; do compare "eval/runs/$(basename "$f")"; done
compare eval/results.h5 --exclude-path /wall_time_s
exit $status
