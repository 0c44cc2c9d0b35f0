#!/usr/bin/env python3
"""Bulwark's scenario results as tables (bench/README.md).

    report.py RESULTS_DIR                 Bulwark's figures
    report.py RESULTS_DIR PEERS_JSON      side by side with the peers'
                                          (../shared/bench-peers results.json)

RESULTS_DIR holds bench/run.sh's <scenario>[-mls].json files.
"""
import json
import os
import sys


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def fmt(v, digits=0):
    if v is None or (isinstance(v, (int, float)) and v < 0):
        return "-"
    if isinstance(v, float):
        return f"{v:,.{digits}f}"
    return f"{v:,}"


def runs(r):
    return r.get("runs", []) if r else []


class Bulwark:
    """One run.sh output directory."""

    def __init__(self, d):
        self.d = d
        self.r = {}
        for name in os.listdir(d):
            if name.endswith(".json"):
                self.r[name[:-5]] = load(os.path.join(d, name))

    def get(self, name):
        return self.r.get(name)

    def a_rate(self, mode=""):
        rs = runs(self.get("A" + mode))
        return " / ".join(fmt(x["msgs_per_s"]) for x in rs) if rs else "-"

    def a_lat(self, name):
        rs = runs(self.get(name))
        if not rs:
            return "-"
        lat = rs[0]["latency_ms"]
        return f'{fmt(lat["p50"], 2)} / {fmt(lat["p99"], 2)} / {fmt(lat["p999"], 2)}'

    def a_cpu(self, name):
        rs = runs(self.get(name))
        if not rs:
            return "-"
        return " / ".join(f'{fmt(x["server_cpu_pct"])} % / {fmt(x["gen_cpu_pct"])} %' for x in rs[:1])

    def a_cpu_per_msg(self, name):
        rs = runs(self.get(name))
        if not rs:
            return "-"
        x = rs[0]
        n = x["delivered_in_window"]
        if not n:
            return "-"
        return f'{1e6 * x["server_cpu_s"] / n:.1f} / {1e6 * x["gen_cpu_s"] / n:.1f} µs'

    def a_lost(self, name):
        rs = runs(self.get(name))
        if not rs:
            return "-"
        return "; ".join(f'{x["lost_after_drain"]} / {x["duplicates"]}' for x in rs)


def bulwark_table(b):
    out = ["| scenario | figure | Bulwark (raw) | Bulwark (mls) |",
           "|---|---|---|---|"]
    for name, label in (("A", "A"), ("A1", "A′")):
        if not (b.get(name) or b.get(name + "-mls")):
            continue
        raw, mls = name, name + "-mls"
        if name == "A":
            out.append(f"| A | delivered msgs/s (run 1 / run 2) | {b.a_rate()} | {b.a_rate('-mls')} |")
        else:
            out.append(f"| A′ | achieved msgs/s | {b.a_rate_one(raw)} | {b.a_rate_one(mls)} |")
        out.append(f"| {label} | latency p50 / p99 / p99.9 ms (run 1) | {b.a_lat(raw)} | {b.a_lat(mls)} |")
        out.append(f"| {label} | CPU server / generator (run 1) | {b.a_cpu(raw)} | {b.a_cpu(mls)} |")
        out.append(f"| {label} | CPU per message server / generator | {b.a_cpu_per_msg(raw)} | {b.a_cpu_per_msg(mls)} |")
        out.append(f"| {label} | lost / duplicated (per run) | {b.a_lost(raw)} | {b.a_lost(mls)} |")
    r = b.get("B")
    if r:
        out.append(f'| B | drain of {fmt(r["sent"])} msgs, s | {fmt(r["drain_s"], 3)} | |')
        out.append(f'| B | lost / duplicated | {r["lost"]} / {r["duplicates"]} | |')
        out.append(f'| B | store s (msgs/s) | {fmt(r["store_s"], 3)} ({fmt(r["store_msgs_per_s"])}) | |')
        out.append(f'| B | CPU server / generator during the drain | {fmt(r["server_cpu_pct"])} % / {fmt(r["gen_cpu_pct"])} % | |')
    r = b.get("C")
    if r:
        out.append(f'| C | idle connections established / asked | {fmt(r["established"])} / {fmt(r["target_conns"])} | |')
        out.append(f'| C | server KiB per connection | {fmt(r["kb_per_conn"], 2)} | |')
        out.append(f'| C | logins/s (full mutual TLS) | {fmt(r["logins_per_s"])} | |')
        out.append(f'| C | CPU during logins server / generator | {fmt(r["login_server_cpu_pct"])} % / {fmt(r["login_gen_cpu_pct"])} % | |')
    r = b.get("D")
    if r:
        out.append(f'| D | send → last of {r["members"] - 1} members, median (max) ms | {fmt(r["to_last_ms"]["p50"], 2)} ({fmt(r["to_last_ms"]["max"], 2)}) | |')
        out.append(f'| D | {fmt(r["rate"])} msgs/s: to the last member p99 ms | {fmt(r["rate_to_last_ms"]["p99"], 2)} | |')
        out.append(f'| D | {fmt(r["rate"])} msgs/s: each delivery p99 ms | {fmt(r["rate_delivery_latency_ms"]["p99"], 2)} | |')
    for name in ("E", "E-mls"):
        r = b.get(name)
        if r:
            out.append(f'| E | kills survived; acked lost / duplicated ({name}) | {r.get("restarts", "-")} of {r.get("kills", "-")}; {r["acked_lost"]} / {r["acked_duplicated"] + r["duplicates"]} | |')
            out.append(f'| E | messages acked; raw redeliveries before the dedup | {fmt(r["acked"])}; {fmt(r["redelivered"])} | |')
    return "\n".join(out)


def _a_rate_one(self, name):
    rs = runs(self.get(name))
    return fmt(rs[0]["msgs_per_s"]) if rs else "-"


Bulwark.a_rate_one = _a_rate_one


def peer_rows(peers):
    """{peer: {figure: text}} from the peers' results.json."""
    rows = {}
    for name, p in peers.get("peers", {}).items():
        res = {}
        res["A"] = " / ".join(fmt(x.get("msgs_per_s")) for x in p.get("A", [])) or "-"
        ar = p.get("A_rate")
        if ar:
            lat = ar.get("latency_ms", {})
            res["A1"] = f'{fmt(lat.get("p50"), 2)} / {fmt(lat.get("p99"), 2)} / {fmt(lat.get("p999"), 2)}'
        b = p.get("B")
        if b:
            res["B"] = f'{fmt(b.get("drain_s"), 2)} s, {b.get("lost")} / {b.get("duplicates")}'
        c = p.get("C")
        if c:
            res["C_kb"] = fmt(c.get("kb_per_conn"), 1)
            res["C_logins"] = fmt(c.get("logins_per_s"))
        rows[name] = res
    return rows


def compare_table(b, peers):
    rows = peer_rows(peers)
    names = list(rows)
    head = "| scenario | " + " | ".join(names) + " | Bulwark | target |"
    sep = "|---|" + "---|" * (len(names) + 2)
    out = [head, sep]

    def line(label, key, ours, target):
        out.append(f"| {label} | " + " | ".join(rows[n].get(key, "-") for n in names) + f" | {ours} | {target} |")

    line("A msgs/s (run 1 / run 2)", "A", b.a_rate(), "≥ 1.2× mosquitto, ≥ 3× ejabberd")
    line("A′ p50 / p99 / p99.9 ms at 2,000 msgs/s", "A1", b.a_lat("A1"), "p99 ≤ 0.5 ms")
    r = b.get("B")
    line("B drain of 5,000 msgs, lost / dup", "B",
         f'{fmt(r["drain_s"], 2)} s, {r["lost"]} / {r["duplicates"]}' if r else "-", "≤ 0.09 s, 0 / 0")
    r = b.get("C")
    line("C KiB per idle connection", "C_kb", fmt(r["kb_per_conn"], 1) if r else "-", "≤ 8")
    line("C logins/s", "C_logins", fmt(r["logins_per_s"]) if r else "-", "≥ 2,000 (mutual TLS)")
    r = b.get("D")
    line("D send → last of 1,000 members", "D",
         f'{fmt(r["to_last_ms"]["p50"], 1)} ms' if r else "-", "≤ 50 ms")
    r = b.get("E")
    line("E kills survived, lost / dup", "E",
         f'{r.get("restarts", "-")} of {r.get("kills", "-")}, {r["acked_lost"]} / {r["acked_duplicated"] + r["duplicates"]}' if r else "-",
         "20 of 20, 0 / 0")
    return "\n".join(out)


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    b = Bulwark(sys.argv[1])
    meta = os.path.join(sys.argv[1], "meta.txt")
    if os.path.exists(meta):
        print(open(meta).read().strip())
        print()
    print(bulwark_table(b))
    if len(sys.argv) == 3:
        peers = load(sys.argv[2])
        if peers is None:
            sys.exit("cannot read " + sys.argv[2])
        print()
        print(compare_table(b, peers))


if __name__ == "__main__":
    main()
