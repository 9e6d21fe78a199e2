#!/usr/bin/env bash
# Installs what the tests need, then runs every test suite (release build: the numerical
# tests train real models and would take far longer unoptimised).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build -c release
swift test -c release
