#!/usr/bin/env bash
# Installs the Debian packages Vireo builds with, only those missing.
# As root it runs apt-get; otherwise it prints the one line to run and fails.
set -euo pipefail
packages=(
  cmake ninja-build g++ make
  libboost-dev libboost-test-dev          # Spirit X3, Math (headers), Boost.Test
  libeigen3-dev libfmt-dev nlohmann-json3-dev libcli11-dev
  libtbb-dev                              # oneTBB: the thread pool of --threads (runtime/par)
  clang lld libclang-rt-14-dev            # the libFuzzer target
  graphviz                                # `dot`, to draw `vireo graph` and the report's plate diagram
  libjs-vega                              # Vega, compiled into the report (runtime/report/embed_vega.cmake)
  chromium chromium-driver                # the report checked in headless Chromium (tests/report)
  libopenmpi-dev openmpi-bin              # data-parallel fits over MPI (optional for the build; tests/mpi)
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "Vireo needs these Debian packages; run:"
  echo "  sudo apt-get install -y ${missing[*]}"
  exit 1
fi
