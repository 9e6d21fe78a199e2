#!/usr/bin/env bash
# Installs what the tests need, then runs every test suite: the Swift suites (release build:
# the numerical tests train real models and would take far longer unoptimised) and the Python
# suite that executes the notebooks and loads the exports (in a virtual environment from PyPI,
# kept in .venv and rebuilt only when notebooks-export/requirements.txt changes).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build -c release
status=0
swift test -c release || status=$?

venv=.venv
want=$(sha256sum notebooks-export/requirements.txt | cut -d' ' -f1)
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$venv/.requirements.sha256" 2>/dev/null)" != "$want" ]; then
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check -r notebooks-export/requirements.txt
    echo "$want" > "$venv/.requirements.sha256"
fi
MULO_BIN="$PWD/.build/release/mulo" MPLBACKEND=Agg "$venv/bin/python" -m pytest -q -p no:cacheprovider notebooks-export/tests || status=$?
exit $status
