#!/usr/bin/env bash
# Build BrainFlow's native libraries from source on a 64-bit Raspberry Pi (aarch64) and
# install the Python package carrying them into somnoloop's virtual environment.
#
# Why: the brainflow wheel on PyPI ships Linux libraries for x86_64 only, so on the Pi
# `import brainflow` works but the first BoardShim call fails to load libBoardController.so
# (`somnoloop doctor` reports it). This script compiles the same release as the installed
# Python package, with CMake, and reinstalls the package with the Pi's libraries inside.
#
# Usage: tools/build_brainflow_aarch64.sh [--venv DIR] [--version X.Y.Z] [--src DIR] [--jobs N] [--force]
#   --venv     somnoloop's virtual environment (default /opt/somnoloop/venv)
#   --version  BrainFlow release tag (default: the version installed in the venv)
#   --src      where to clone and build (default ~/src/brainflow-VERSION)
#   --jobs     parallel compile jobs (default 2: four jobs can exhaust a 2 GB Pi's memory)
#   --force    build on a machine that is not aarch64 (for trying the script elsewhere)
# A long compile on a Pi (run it inside tmux or screen). Needs: git, cmake, g++, make.
set -euo pipefail

venv=/opt/somnoloop/venv
version=""
src=""
jobs=2
force=0

die() { echo "build_brainflow_aarch64: $*" >&2; exit 2; }

while [ $# -gt 0 ]; do
    case "$1" in
        --venv) venv=${2:?--venv needs a directory}; shift 2 ;;
        --version) version=${2:?--version needs a release, e.g. 5.12.1}; shift 2 ;;
        --src) src=${2:?--src needs a directory}; shift 2 ;;
        --jobs) jobs=${2:?--jobs needs a number}; shift 2 ;;
        --force) force=1; shift ;;
        -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown option '$1'; allowed: --venv, --version, --src, --jobs, --force, --help" ;;
    esac
done

arch=$(uname -m)
if [ "$arch" != "aarch64" ] && [ "$force" -ne 1 ]; then
    die "this machine is $arch, not aarch64 (64-bit Raspberry Pi OS); the PyPI wheel" \
        "already carries x86_64 libraries. Use --force to build anyway."
fi
python="$venv/bin/python"
[ -x "$python" ] || die "no Python at $python; create the venv first (see the README) or pass --venv"
for tool in git cmake g++ make; do
    command -v "$tool" >/dev/null || die "$tool is missing: sudo apt install git cmake g++ make"
done
if [ -z "$version" ]; then
    version=$("$python" -c 'import importlib.metadata as m; print(m.version("brainflow"))') \
        || die "brainflow is not installed in $venv; pass --version X.Y.Z"
fi
src=${src:-"$HOME/src/brainflow-$version"}

echo "==> BrainFlow $version for $arch: source in $src, venv $venv, $jobs jobs"
if [ ! -d "$src/.git" ]; then
    git clone --depth 1 --branch "$version" https://github.com/brainflow-dev/brainflow.git "$src"
fi

# Release build of the core libraries. BrainFlow's CMake copies each built library into
# python_package/brainflow/lib, which is what the Python package installs. Serial boards
# (Cyton dongle, Ganglion's BLED112) need neither Bluetooth, BLE nor libftdi.
cmake -S "$src" -B "$src/build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$src/installed"
cmake --build "$src/build" --parallel "$jobs"
cmake --install "$src/build"

pkg="$src/python_package"
[ -d "$pkg" ] || pkg="$src/python-package"  # releases before 5.0 name it so
[ -f "$pkg/brainflow/lib/libBoardController.so" ] \
    || die "the build left no libBoardController.so in $pkg/brainflow/lib"
# The source tree's setup.py may carry a placeholder version; install under the real one so
# pip keeps honouring somnoloop's `brainflow>=…` requirement.
if grep -q "version='0.0.1'" "$pkg/setup.py" 2>/dev/null; then
    sed -i "s/version='0.0.1'/version='$version'/" "$pkg/setup.py"
fi
"$python" -m pip install --force-reinstall --no-deps "$pkg"

echo "==> checking that the native libraries load"
"$python" -c 'from brainflow.board_shim import BoardShim; from brainflow.data_filter import DataFilter
DataFilter.get_version(); print("BrainFlow", BoardShim.get_version(), "loads")'
echo "==> done; now run: sudo -u somnoloop $venv/bin/somnoloop doctor --config /etc/somnoloop/bedside.toml"
