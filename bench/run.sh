#!/usr/bin/env bash
# bench/run.sh - Bulwark's load scenarios, one command each (bench/README.md).
#
#   bench/run.sh A|A1|B|C|D|E|all [raw|mls]
#   bench/run.sh setup              # only (re)build the cache
#   bench/run.sh profile [raw|mls]  # where bulwarkd's time goes under A
#   bench/run.sh handshake          # one login's TLS alone, both sides' CPU
#
# Builds Release (build-bench), and once: an organisation, its users and
# devices (bulwarkctl device enroll), and the conversations the scenarios
# use (bulwark-load --scenario setup), kept in the cache with a copy of the
# server's data directory. Every scenario then starts bulwarkd on a fresh
# copy of that directory, with the open-file limit raised, runs, and
# writes bench/results/<time>/<scenario>[-mls].{json,log}; the table is
# printed at the end (bench/load/report.py).
#
# Settings (environment):
#   BENCH_BUILD_DIR  build directory (build-bench)
#   BENCH_RESULTS    where results go (bench/results, git-ignored)
#   BENCH_CACHE      the setup's cache (BENCH_RESULTS/cache)
#   BENCH_RESETUP=1  rebuild the cache even if it matches
#   BENCH_PORT       the server's port (18443, on 127.0.0.1 only)
#   BENCH_KEY_METHODS=providers  server and generator leave P-256 and
#                    Ed25519 to OpenSSL's providers (lib/common/key_methods.h)
#   A_CLIENTS A_RUNS A_DURATION A_WARMUP A_RATE B_SENDERS B_RECIPIENTS
#   B_PER_SENDER IDLE_N D_MEMBERS D_RATE E_CLIENTS E_KILLS E_DURATION
#   (defaults: the peers' harness, ../shared/bench-peers; IDLE_N: as many
#   as the open-file limit allows)
# Only processes this script starts are stopped, by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

BUILD=${BENCH_BUILD_DIR:-build-bench}
RESULTS=${BENCH_RESULTS:-$ROOT/bench/results}
CACHE=${BENCH_CACHE:-$RESULTS/cache}
PORT=${BENCH_PORT:-18443}
RUN=$RESULTS/run
NOFILE=$(ulimit -Hn)
A_CLIENTS=${A_CLIENTS:-200}
A_RUNS=${A_RUNS:-2}
A_DURATION=${A_DURATION:-20}
A_WARMUP=${A_WARMUP:-2}
A_RATE=${A_RATE:-2000}
B_SENDERS=${B_SENDERS:-100}
B_RECIPIENTS=${B_RECIPIENTS:-100}
B_PER_SENDER=${B_PER_SENDER:-50}
# Each side holds one descriptor per connection, plus a few of its own.
IDLE_N=${IDLE_N:-$((NOFILE - 100))}
D_MEMBERS=${D_MEMBERS:-1000}
D_RATE=${D_RATE:-10}
E_CLIENTS=${E_CLIENTS:-$A_CLIENTS}
E_KILLS=${E_KILLS:-20}
E_DURATION=${E_DURATION:-60}
B_BASE=$A_CLIENTS
D_BASE=$((B_BASE + B_SENDERS + B_RECIPIENTS))
DEVICES=$((D_BASE + D_MEMBERS))
if ((IDLE_N > DEVICES)); then DEVICES=$IDLE_N; fi
LAYOUT=(--a-clients "$A_CLIENTS" --b-base "$B_BASE" --senders "$B_SENDERS"
        --recipients "$B_RECIPIENTS" --per-sender "$B_PER_SENDER"
        --d-base "$D_BASE" --d-members "$D_MEMBERS")
STAMP="layout ${LAYOUT[*]} devices $DEVICES cache 1"

CTL=$ROOT/$BUILD/tools/bulwarkctl/bulwarkctl
BWD=$ROOT/$BUILD/server/bulwarkd
LOAD=$ROOT/$BUILD/bench/load/bulwark-load
KEY_OPTS=()
[[ ${BENCH_KEY_METHODS:-builtin} == providers ]] && KEY_OPTS=(--provider-keys)
CONF=$RUN/org/bulwarkd.conf
SERVER_PID=

log() { echo "[$(date +%T)] $*" >&2; }
die() { log "FATAL: $*"; exit 1; }

# SIGTERM, then SIGKILL after $1 seconds (default 20).
stop_server() {
  [[ -n $SERVER_PID ]] || return 0
  if kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID"
    for _ in $(seq $((${1:-20} * 10))); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$SERVER_PID" 2>/dev/null && kill -KILL "$SERVER_PID"
  fi
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=
}
trap stop_server EXIT
trap 'exit 130' INT TERM

build() {
  log "build (Release) in $BUILD"
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  ninja -C "$BUILD" bulwarkd bulwark-ca-monitor bulwarkctl bulwark-load \
    bench_handshake >/dev/null
}

# Start bulwarkd on $RUN/org, with every descriptor the machine allows.
start_server() {
  local log_file=$1
  rm -f "$RUN/org/admin.sock"
  ulimit -n "$NOFILE"
  "$BWD" -c "$CONF" >>"$log_file" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 300); do
    [[ -S $RUN/org/admin.sock ]] && ss -Hltn "sport = :$PORT" | grep -q . && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || die "bulwarkd did not start (see $log_file)"
    sleep 0.1
  done
  die "bulwarkd did not start listening (see $log_file)"
}

port_free() {
  ! ss -Hltn "sport = :$PORT" | grep -q . || die "port $PORT is in use"
}

# The organisation, its devices and conversations, once.
# The cache serves any run of the same layout with at most as many devices
# as it enrolled (IDLE_N below the hard limit uses its first devices).
cache_fits() {
  local stamp want="layout ${LAYOUT[*]} devices " n
  [[ -f $CACHE/stamp ]] || return 1
  stamp=$(cat "$CACHE/stamp")
  [[ $stamp == "$want"*" cache 1" ]] || return 1
  n=${stamp#"$want"}
  n=${n%% *}
  [[ $n =~ ^[0-9]+$ ]] && ((n >= DEVICES))
}

setup() {
  if [[ ${BENCH_RESETUP:-0} != 1 ]] && cache_fits; then
    return 0
  fi
  log "setup: organisation, $DEVICES devices, conversations (cached in $CACHE)"
  rm -rf "$CACHE" "$RUN"
  mkdir -p "$CACHE" "$RUN"
  chmod 700 "$CACHE"
  port_free
  "$CTL" init --data-dir "$RUN/org" --org "Bench Org" --server-name localhost \
    --listen "127.0.0.1:$PORT" >"$CACHE/init.log" 2>&1
  cat >>"$CONF" <<EOF
# bench/run.sh: D's 1000-member commit and Welcome carry the whole tree
max_message_size = 16M
log_level = warn
EOF
  start_server "$CACHE/setup-server.log"
  seq -f "u%g" 0 $((DEVICES - 1)) >"$CACHE/users.txt"
  local t0=$SECONDS
  "$CTL" device enroll --users-file "$CACHE/users.txt" --add-users \
    --out "$CACHE/devices" --name bench -c "$CONF" >"$CACHE/enroll.log"
  log "setup: $DEVICES devices enrolled in $((SECONDS - t0)) s"
  t0=$SECONDS
  "$LOAD" --devices "$CACHE/devices" --cache "$CACHE/convs" --scenario setup \
    --port "$PORT" "${LAYOUT[@]}" 2>"$CACHE/setup.log" ||
    { tail -5 "$CACHE/setup.log"; die "setup failed"; }
  log "setup: conversations made in $((SECONDS - t0)) s"
  stop_server
  cp -a "$RUN/org" "$CACHE/org-template"
  echo "$STAMP" >"$CACHE/stamp"
}

# A fresh copy of the organisation as the setup left it, at this run's
# place and port (the cache may come from another checkout: BENCH_CACHE).
fresh_org() {
  port_free
  rm -rf "$RUN/org"
  mkdir -p "$RUN"
  cp -a "$CACHE/org-template" "$RUN/org"
  printf 'data_dir = %s\nlisten = 127.0.0.1:%s\nopenssl_key_methods = %s\n' \
    "$RUN/org" "$PORT" "${BENCH_KEY_METHODS:-builtin}" >>"$CONF"
}

fresh_server() {
  fresh_org
  start_server "$1"
}

load() {
  local name=$1 mode=$2
  shift 2
  local out=$OUT/$name
  [[ $mode == mls ]] && out=$out-mls
  log "$name ($mode) ..."
  "$LOAD" "${KEY_OPTS[@]}" --devices "$CACHE/devices" --cache "$CACHE/convs" --port "$PORT" \
    --"$mode" --server-pid "$SERVER_PID" --label "$name" --out "$out.json" \
    "${LAYOUT[@]}" "$@" 2>"$out.log" || log "$name: FAILED (see $out.log)"
  tail -n 3 "$out.log" | sed 's/^/    /' >&2
}

scenario_A() {
  fresh_server "$OUT/A-$1-server.log"
  load A "$1" --scenario A --runs "$A_RUNS" --duration "$A_DURATION" --warmup "$A_WARMUP"
  stop_server
}

scenario_A1() {
  fresh_server "$OUT/A1-$1-server.log"
  load A1 "$1" --scenario A1 --rate "$A_RATE" --duration "$A_DURATION" --warmup "$A_WARMUP"
  stop_server
}

scenario_B() {
  fresh_server "$OUT/B-$1-server.log"
  load B "$1" --scenario B
  stop_server
}

scenario_C() {
  # A first start brings the copy to this server's schema: a migration
  # is not a login, and its pages are not a connection's.
  fresh_server "$OUT/C-$1-server.log"
  stop_server
  start_server "$OUT/C-$1-server.log"
  sleep 2 # a settled process: the baseline of its memory
  load C "$1" --scenario C --idle-n "$IDLE_N" --settle 5
  stop_server
}

scenario_D() {
  fresh_server "$OUT/D-$1-server.log"
  load D "$1" --scenario D --rate "$D_RATE" --duration 20
  stop_server
}

# E: A's load while this script kills bulwarkd E_KILLS times at random
# moments (SIGKILL) and restarts it; the generator checks the guarantees.
scenario_E() {
  local mode=$1 out=$OUT/E kills=0 up=0 pid
  [[ $mode == mls ]] && out=$out-mls
  fresh_server "$out-server.log"
  log "E ($mode): $E_KILLS kills within ${E_DURATION}s ..."
  "$LOAD" "${KEY_OPTS[@]}" --devices "$CACHE/devices" --cache "$CACHE/convs" --port "$PORT" \
    --"$mode" --label E --out "$out.json" "${LAYOUT[@]}" --scenario E \
    --clients "$E_CLIENTS" --duration "$E_DURATION" 2>"$out.log" &
  pid=$!
  sleep 2
  while ((kills < E_KILLS)) && kill -0 "$pid" 2>/dev/null; do
    sleep "$(awk -v r="$RANDOM" 'BEGIN { printf "%.2f", 0.3 + (r % 1500) / 1000 }')"
    kill -KILL "$SERVER_PID"
    wait "$SERVER_PID" 2>/dev/null || true
    kills=$((kills + 1))
    start_server "$out-server.log"
    up=$((up + 1))
  done
  wait "$pid" || true
  stop_server
  python3 - "$out.json" "$kills" "$up" <<'EOF'
import json, sys
path, kills, up = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
r = json.load(open(path))
r["kills"], r["restarts"] = kills, up
json.dump(r, open(path, "w"), indent=1)
EOF
  tail -n 2 "$out.log" | sed 's/^/    /' >&2
}

# profile: where bulwarkd's time goes under A (docs/benchmarks.md). On a
# fresh server, during one 25 s run of A: syscalls counted by tracepoint
# (8 s), an on-CPU profile with call graphs (6 s), and every malloc, calloc
# and realloc with its size (uprobes, 3 s). A uprobe on the encoding of
# GROUP_SEND's response (proto_encode_seq: once per accepted message)
# counts the messages of each window, so the figures are per message. Then instruction counts under callgrind: A with 20
# devices, once without traffic (the logins' share), once with 10 s of it.
# The probes are removed afterwards.
PROFILE_SYSCALLS=raw_syscalls:sys_enter
for s in fdatasync fsync pwrite64 pread64 read write writev sendmsg sendto \
         recvfrom epoll_wait futex; do
  PROFILE_SYSCALLS+=",syscalls:sys_enter_$s"
done
LIBC=$(ldconfig -p | awk '/libc.so.6 .*x86-64/ && !f {print $NF; f = 1}')

# At the functions' first instruction, where the arguments are still in
# their registers.
add_probes() {
  perf probe -q -x "$BWD" -a 'bwd_message=proto_encode_seq' &&
    perf probe -q -x "$LIBC" -a 'malloc=__libc_malloc+0 size=%di:u64' &&
    perf probe -q -x "$LIBC" -a 'calloc=__libc_calloc+0 n=%di:u64 size=%si:u64' &&
    perf probe -q -x "$LIBC" -a 'realloc=__libc_realloc+0 size=%si:u64'
}

remove_probes() {
  perf probe -q -d 'probe_libc:*' 2>/dev/null || true
  perf probe -q -d 'probe_bulwarkd:*' 2>/dev/null || true
}

scenario_profile() {
  local mode=$1 out=$OUT/profile gen
  mkdir -p "$out"
  scripts/deps.sh --bench
  remove_probes
  add_probes || die "perf probe failed (root and uprobes are needed)"
  trap 'remove_probes; stop_server' EXIT
  fresh_server "$out/server.log"
  "$LOAD" "${KEY_OPTS[@]}" --devices "$CACHE/devices" --cache "$CACHE/convs" --port "$PORT" \
    --"$mode" --server-pid "$SERVER_PID" --label profile --out "$out/A.json" \
    "${LAYOUT[@]}" --scenario A --duration 25 --warmup 2 2>"$out/A.log" &
  gen=$!
  sleep 5
  log "profile: syscalls (8 s), perf record -g (6 s), allocations (3 s)"
  perf stat -x, -e "$PROFILE_SYSCALLS,probe_bulwarkd:bwd_message" \
    -p "$SERVER_PID" -o "$out/syscalls.csv" -- sleep 8
  perf record -q -g -p "$SERVER_PID" -o "$out/perf.data" -- sleep 6 2>/dev/null
  perf record -q -e 'probe_libc:*,probe_bulwarkd:*' -p "$SERVER_PID" \
    -o "$out/alloc.data" -- sleep 3 2>/dev/null
  wait "$gen" || true
  stop_server
  perf script -i "$out/alloc.data" -F event,trace 2>/dev/null | awk '
    /bwd_message/ { m++; next }
    { v = 1; for (i = 2; i <= NF; i++) if (split($i, kv, "=") == 2) v *= kv[2] }
    NF > 2 { n++; b += v }
    END { printf "messages %d calls %d bytes %d\n", m, n, b }' >"$out/alloc.txt"
  perf report -i "$out/perf.data" --no-children --percent-limit 0.8 --stdio \
    -g none >"$out/perf-self.txt" 2>/dev/null
  perf report -i "$out/perf.data" --children --percent-limit 3 --stdio -g none \
    >"$out/perf-children.txt" 2>/dev/null
  callgrind_run "$mode" 0
  callgrind_run "$mode" 10
  remove_probes
  python3 "$ROOT/bench/load/profile.py" "$out" | tee "$out/summary.md"
}

# C's bound without the network: bulwarkd's and bulwark-load's TLS
# contexts in one process (bench/bench_handshake.c), the first device.
scenario_handshake() {
  local devs=("$CACHE"/devices/*.pem)
  "$ROOT/$BUILD/bench/bench_handshake" "$CACHE/org-template" "${devs[0]}" 5000 \
    ${KEY_OPTS:+providers} | tee "$OUT/handshake.txt"
}

# bulwarkd under callgrind, with 20 devices of A for $2 seconds.
callgrind_run() {
  local mode=$1 secs=$2 out=$OUT/profile
  fresh_org
  rm -f "$RUN/org/admin.sock"
  ulimit -n "$NOFILE"
  valgrind --tool=callgrind --callgrind-out-file="$out/callgrind.$secs" \
    "$BWD" -c "$CONF" >>"$out/callgrind-server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 600); do
    ss -Hltn "sport = :$PORT" | grep -q . && break
    sleep 0.2
  done
  "$LOAD" "${KEY_OPTS[@]}" --devices "$CACHE/devices" --cache "$CACHE/convs" --port "$PORT" \
    --"$mode" --label "callgrind-$secs" --out "$out/callgrind-$secs.json" \
    "${LAYOUT[@]}" --scenario A --clients 20 --duration "$secs" --warmup 0 \
    --login-timeout 120 2>"$out/callgrind-$secs.log" || true
  stop_server 300 # callgrind writes its counts as the server exits
  callgrind_annotate "$out/callgrind.$secs" >"$out/callgrind-$secs.txt" 2>/dev/null
}

main() {
  local what=${1:-all} mode=${2:-raw}
  [[ $mode == raw || $mode == mls ]] || die "mode is raw or mls"
  build
  setup
  [[ $what == setup ]] && return 0
  OUT=$RESULTS/$(date -u +%Y%m%dT%H%M%SZ)
  mkdir -p "$OUT"
  {
    echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GB", $2/1048576}' /proc/meminfo), $(uname -r), $(. /etc/os-release; echo "$PRETTY_NAME"), $(openssl version)"
    echo "nofile: $NOFILE, layout: ${LAYOUT[*]}, idle: $IDLE_N"
  } >"$OUT/meta.txt"
  case $what in
    A | A1 | B | C | D | E | profile | handshake) "scenario_$what" "$mode" ;;
    all)
      scenario_A raw
      scenario_A mls
      scenario_A1 raw
      scenario_A1 mls
      scenario_B raw
      scenario_C raw
      scenario_D raw
      scenario_E raw
      ;;
    *) die "unknown scenario '$what' (A, A1, B, C, D, E, all, setup, profile, handshake)" ;;
  esac
  [[ $what == profile || $what == handshake ]] ||
    python3 "$ROOT/bench/load/report.py" "$OUT" | tee "$OUT/table.md"
}

main "$@"
