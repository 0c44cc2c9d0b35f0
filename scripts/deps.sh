#!/usr/bin/env bash
# Install every Debian package Bulwark needs to build, run and test.
# Idempotent; works on a fresh Debian 12 machine (as root or with sudo).
#   scripts/deps.sh          what the build and the tests need
#   scripts/deps.sh --bench  also the profilers bench/run.sh profile uses
set -euo pipefail
SUDO=; [[ $(id -u) -eq 0 ]] || SUDO=sudo
PKGS=(build-essential cmake ninja-build pkg-config clang libclang-rt-14-dev
      libssl-dev libjansson-dev libsqlite3-dev libwslay-dev libhttp-parser-dev
      libqrencode-dev libseccomp-dev openssl sqlite3 tcpdump procps iproute2
      python3 python3-cryptography)
[[ ${1:-} == --bench ]] && PKGS+=(linux-perf valgrind)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
