#!/usr/bin/env bash
# Installs MuLO's system packages on Debian 12 (idempotent; uses sudo when not root).
# The Swift toolchain itself is expected on PATH.
set -euo pipefail
packages=(pkg-config libopenblas-dev libhdf5-dev zlib1g-dev hdf5-tools dataset-fashion-mnist python3 python3-venv libopenmpi-dev openmpi-bin)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "installing: ${missing[*]}" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
command -v swift >/dev/null || { echo "error: the Swift toolchain (swift) is not on PATH" >&2; exit 1; }
python3 -m venv --help >/dev/null 2>&1 || { echo "error: python3 cannot create virtual environments (python3-venv)" >&2; exit 1; }
