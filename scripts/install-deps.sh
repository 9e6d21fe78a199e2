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
# Jane Austen's novels for the language-model tasks: r-cran-janeaustenr's R data file, unpacked
# with dpkg -x (installing the package would pull in R, which MuLO does not need to read it).
austen_file=usr/lib/R/site-library/janeaustenr/data/Rdata.rdb
austen_dir=/usr/local/share/mulo/r-cran-janeaustenr
if [ ! -f "/$austen_file" ] && [ ! -f "$austen_dir/$austen_file" ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    tmp=$(mktemp -d)
    (cd "$tmp" && { apt-get download r-cran-janeaustenr >/dev/null 2>&1 || { $sudo apt-get update -qq && apt-get download r-cran-janeaustenr >/dev/null 2>&1; }; }) \
        || { echo "error: cannot download r-cran-janeaustenr" >&2; exit 1; }
    $sudo mkdir -p "$austen_dir"
    $sudo dpkg -x "$tmp"/r-cran-janeaustenr_*.deb "$austen_dir"
    rm -rf "$tmp"
    echo "unpacked r-cran-janeaustenr into $austen_dir" >&2
fi
command -v swift >/dev/null || { echo "error: the Swift toolchain (swift) is not on PATH" >&2; exit 1; }
python3 -m venv --help >/dev/null 2>&1 || { echo "error: python3 cannot create virtual environments (python3-venv)" >&2; exit 1; }
