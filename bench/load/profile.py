#!/usr/bin/env python3
"""The profile `bench/run.sh profile` collected, per message (markdown).

    profile.py PROFILE_DIR

PROFILE_DIR holds: A.json (the run), syscalls.csv (perf stat, with the
probe_bulwarkd:bwd_message count of GROUP_SEND responses encoded in the
same window: one per message), alloc.txt (messages, allocation calls and bytes of its window),
perf-self.txt (perf report), callgrind.0 / callgrind.10 with their
callgrind-*.json runs.
"""
import json
import os
import re
import sys


def load_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def syscalls(d):
    """{event: count} of perf stat -x, output."""
    out = {}
    try:
        with open(os.path.join(d, "syscalls.csv")) as f:
            for line in f:
                parts = line.strip().split(",")
                if len(parts) > 2 and parts[0].isdigit():
                    out[parts[2]] = int(parts[0])
    except OSError:
        pass
    return out


def callgrind_total(path):
    """Total instructions (Ir) of a callgrind output file."""
    try:
        with open(path) as f:
            for line in f:
                if line.startswith("totals:") or line.startswith("summary:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def callgrind_top(d, n=15):
    """(Ir, function) of callgrind_annotate's table."""
    rows = []
    try:
        with open(os.path.join(d, "callgrind-10.txt")) as f:
            for line in f:
                m = re.match(r"\s*([\d,]+)\s+\(\s*([\d.]+)%\)\s+(\S.*)", line)
                if m:
                    rows.append((m.group(2), m.group(3).strip()))
    except OSError:
        pass
    return rows[1:n + 1]  # the first row is the program total


def perf_top(d, n=20):
    rows = []
    try:
        with open(os.path.join(d, "perf-self.txt")) as f:
            for line in f:
                m = re.match(r"\s+([\d.]+)%\s+(\S+)\s+(\S+)\s+\[(.)\]\s+(.*)", line)
                if m:
                    rows.append((m.group(1), m.group(3), m.group(5).strip()))
    except OSError:
        pass
    return rows[:n]


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    d = sys.argv[1]
    a = load_json(os.path.join(d, "A.json"))
    run = a["runs"][0] if a and a.get("runs") else None
    if run:
        print(f'A during the profile: {run["msgs_per_s"]:,.0f} msgs/s, '
              f'server CPU {run["server_cpu_pct"]:.0f} %, generator '
              f'{run["gen_cpu_pct"]:.0f} %, p50 {run["latency_ms"]["p50"]:.2f} ms\n')
    sc = syscalls(d)
    msgs = sc.pop("probe_bulwarkd:bwd_message", 0)
    if msgs:
        print(f"Syscalls per message ({msgs:,} messages in an 8 s window; "
              "per second in brackets):\n")
        print("| syscall | per message | per second |")
        print("|---|---|---|")
        for ev, count in sorted(sc.items(), key=lambda kv: -kv[1]):
            name = ev.split(":")[1].replace("sys_enter_", "")
            if name == "sys_enter":
                name = "all syscalls"
            print(f"| {name} | {count / msgs:.2f} | {count / 8:,.0f} |")
        print()
    try:
        with open(os.path.join(d, "alloc.txt")) as f:
            m = re.match(r"messages (\d+) calls (\d+) bytes (\d+)", f.read())
        if m and int(m.group(1)):
            k = int(m.group(1))
            print(f"Allocations (malloc, calloc, realloc; {k:,} messages in "
                  f"a 3 s window): {int(m.group(2)) / k:.1f} calls and "
                  f"{int(m.group(3)) / k:,.0f} bytes per message\n")
    except OSError:
        pass
    top = perf_top(d)
    if top:
        print("On-CPU profile (perf record -g, self time):\n")
        print("| % | object | function |")
        print("|---|---|---|")
        for pct, dso, sym in top:
            print(f"| {pct} | {dso} | {sym} |")
        print()
    ir0 = callgrind_total(os.path.join(d, "callgrind.0"))
    ir10 = callgrind_total(os.path.join(d, "callgrind.10"))
    r10 = load_json(os.path.join(d, "callgrind-10.json"))
    sent = r10["runs"][0]["sent"] if r10 and r10.get("runs") else 0
    if ir0 and ir10 and sent:
        print(f"Instructions (callgrind, 20 devices): {(ir10 - ir0) / sent:,.0f} "
              f"per message ({sent:,} messages; the logins' share, "
              f"{ir0:,} instructions, taken out)\n")
        print("| % of instructions | function |")
        print("|---|---|")
        for pct, fn in callgrind_top(d):
            print(f"| {pct} | {fn} |")


if __name__ == "__main__":
    main()
