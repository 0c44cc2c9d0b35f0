#!/usr/bin/env bash
# bench/compare.sh - the peers (ejabberd, Prosody, mosquitto) and Bulwark on
# this machine, one after the other, then one table side by side.
#
#   bench/compare.sh           run the peers' harness, then bench/run.sh all
#   bench/compare.sh --reuse   reuse /tmp/bench-peers' last results if less
#                              than a day old
#   PEERS_RESULTS=FILE bench/compare.sh   reuse that results.json
#
# The peers' harness (../shared/bench-peers, read-only) runs from a copy in
# /tmp/bench-peers, so its run/ and results/ never land in the shared
# folder. It installs the peers from Debian if they are missing and takes
# about 8 minutes; Bulwark's scenarios follow (bench/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PEERS_SRC=$(cd "$ROOT/../shared/bench-peers" && pwd)
PEERS_DIR=/tmp/bench-peers
RESULTS=${BENCH_RESULTS:-$ROOT/bench/results}

log() { echo "[$(date +%T)] $*" >&2; }

peers_results() {
  local last=$PEERS_DIR/results/results.json
  if [[ -n ${PEERS_RESULTS:-} ]]; then
    echo "$PEERS_RESULTS"
    return
  fi
  if [[ ${1:-} == --reuse && -f $last && -n $(find "$last" -mmin -1440) ]]; then
    log "reusing the peers' results of $(date -r "$last" +%FT%T)"
    echo "$last"
    return
  fi
  log "the peers' harness, from a copy in $PEERS_DIR (about 8 minutes)"
  rm -rf "$PEERS_DIR"
  cp -r "$PEERS_SRC" "$PEERS_DIR"
  chmod -R u+w "$PEERS_DIR"
  "$PEERS_DIR/run_all.sh" >&2
  echo "$last"
}

main() {
  local peers out
  peers=$(peers_results "${1:-}")
  [[ -f $peers ]] || { log "no peers' results at $peers"; exit 1; }
  log "Bulwark's scenarios (bench/run.sh all)"
  bench/run.sh all >&2
  out=$(ls -d "$RESULTS"/2*/ | tail -1)
  cp "$peers" "$out/peers-results.json"
  python3 "$ROOT/bench/load/report.py" "$out" "$peers" | tee "$out/compare.md"
}

main "$@"
