#!/usr/bin/env bash
# Set up and start a Bulwark server on this machine, on its SQLite default:
# install what is needed, build, create an organisation in out/org (once),
# start bulwarkd, add a user, issue a one-time activation and print, step
# by step, the commands that activate a device with it and check its
# connection. Stops the server on Ctrl-C.
#   ORG_DIR=DIR       where the organisation lives (default out/org)
#   LISTEN=ADDR:PORT  (default 127.0.0.1:8443)
#   BUILD_DIR=DIR     build directory (default build)
#   DEVICE_HOME=DIR   the example device's directory (default out/device)
#   SKIP_DEPS=1       do not install packages
set -euo pipefail
cd "$(dirname "$0")/.."
[[ ${SKIP_DEPS:-0} == 1 ]] || scripts/deps.sh
org=${ORG_DIR:-$PWD/out/org}
listen=${LISTEN:-127.0.0.1:8443}
build=${BUILD_DIR:-build}
device_home=${DEVICE_HOME:-$PWD/out/device}

echo "== build"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C "$build" bulwarkd bulwark-ca-monitor bulwarkctl bulwark-cli >/dev/null
build=$(cd "$build" && pwd)
ctl=$build/tools/bulwarkctl/bulwarkctl
bulwark=$build/tools/bulwark/bulwark
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

echo
echo "== 1. a user (bulwarkctl finds this server through BULWARK_CONFIG=$BULWARK_CONFIG)"
echo "\$ $ctl user add demo --display-name \"Demo User\""
if $ctl user list --json | grep -q '"name":"demo"'; then
  echo "(user demo exists already)"
else
  $ctl user add demo --display-name "Demo User"
fi

echo
echo "== 2. a one-time activation for a device of demo"
echo "\$ $ctl device activate demo"
activation=$($ctl device activate demo)
echo "$activation"
uri=$(grep -m1 '^bulwark://activate?' <<<"$activation")

echo
echo "== 3. on the device: activate it (here, in $device_home)"
if [[ -e $device_home/keystore ]]; then
  echo "(a device is activated in $device_home already: step 4 checks it;"
  echo " remove that directory to activate one again)"
fi
cat <<TXT
It asks for a passphrase for the device's new keystore (twice; or give
--passphrase-file FILE, or set BULWARK_PASSPHRASE), proves the one-time
password to the server with SPAKE2+, checks the CA fingerprint, and pins
the CA. Copy, in another terminal:

  $bulwark activate --home $device_home '$uri'

or type the printed values, and the password when it is asked for:

  $bulwark activate --home $device_home \\
      --server $(sed -n 's/^  server  *//p' <<<"$activation") --user demo \\
      --code $(sed -n 's/^  code  *//p' <<<"$activation") \\
      --ca $(sed -n 's/^  CA (SHA-256)  *//p' <<<"$activation")

== 4. on the device: connect with its certificate (mutual TLS)

  $bulwark status --home $device_home

More users and devices:  $ctl user add NAME; $ctl device activate NAME
Devices:                 $ctl device list      Revoke: $ctl device revoke ID
(export BULWARK_CONFIG=$BULWARK_CONFIG to run bulwarkctl elsewhere)

bulwarkd is running; Ctrl-C stops it.
TXT
wait $server
