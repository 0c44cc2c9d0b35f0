#!/usr/bin/env bash
# Set up and start a Bulwark server on this machine, on its SQLite default:
# install what is needed, build, create an organisation in out/org (once),
# start bulwarkd, add a user and print a one-time activation for a device.
# Stops the server on Ctrl-C.
#   ORG_DIR=DIR     where the organisation lives (default out/org)
#   LISTEN=ADDR:PORT  (default 127.0.0.1:8443)
#   BUILD_DIR=DIR   build directory (default build)
#   SKIP_DEPS=1     do not install packages
set -euo pipefail
cd "$(dirname "$0")/.."
[[ ${SKIP_DEPS:-0} == 1 ]] || scripts/deps.sh
org=${ORG_DIR:-$PWD/out/org}
listen=${LISTEN:-127.0.0.1:8443}
build=${BUILD_DIR:-build}

echo "== build"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C "$build" bulwarkd bulwark-ca-monitor bulwarkctl >/dev/null
ctl=$build/tools/bulwarkctl/bulwarkctl
export BULWARK_CONFIG=$org/bulwarkd.conf

if [[ ! -f $BULWARK_CONFIG ]]; then
  echo "== create the organisation in $org"
  mkdir -p "$(dirname "$org")"
  $ctl init --data-dir "$org" --org "Example" --listen "$listen"
fi

echo "== start bulwarkd (log: $org/bulwarkd.log)"
"$build"/server/bulwarkd -c "$BULWARK_CONFIG" 2>>"$org/bulwarkd.log" &
server=$!
trap 'kill -TERM $server 2>/dev/null; wait $server' INT TERM
for _ in $(seq 100); do
  [[ -S $org/admin.sock ]] && break
  kill -0 $server 2>/dev/null || { tail "$org/bulwarkd.log"; exit 1; }
  sleep 0.1
done
$ctl status

$ctl user list --json | grep -q '"name":"demo"' || $ctl user add demo --display-name "Demo User"
echo
echo "== a one-time activation for a device of user 'demo'"
$ctl device activate demo
cat <<TXT

A device activates with these values (or the QR code) over SPAKE2+:
  bulwark activate 'bulwark://activate?...'   (the URI above)
More users and devices:  $ctl user add NAME; $ctl device activate NAME
Devices:                 $ctl device list      Revoke: $ctl device revoke ID
(bulwarkctl finds this server through BULWARK_CONFIG=$BULWARK_CONFIG)

bulwarkd is running; Ctrl-C stops it.
TXT
wait $server
