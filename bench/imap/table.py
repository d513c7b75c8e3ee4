#!/usr/bin/env python3
"""Turns compare.py's JSON lines into the Markdown tables of README.md.

  bench/imap/table.py run.log [more.log ...]

Mixed runs: one table per (ops per session, round) with commands/s, p50 and
p99 per command, Cove beside Dovecot. IDLE runs: one row per server.
"""
import json
import sys

OPS = ["LOGIN", "SELECT", "FETCH_HDR", "FETCH_BODY", "STORE", "SEARCH", "APPEND",
       "EXPUNGE", "LOGOUT"]


def mixed_tables(runs):
    by_key = {}
    for r in runs:
        by_key.setdefault((r["ops_per_session"], r["label"]), []).append(r)
    for ops in sorted({k[0] for k in by_key}):
        cove, dove = by_key.get((ops, "cove"), []), by_key.get((ops, "dovecot"), [])
        for i, (c, d) in enumerate(zip(cove, dove), 1):
            print(f"\n{ops} commands per session, round {i} (load average before: "
                  f"Cove {c['loadavg_before']}, Dovecot {d['loadavg_before']})\n")
            print("| command | Cove /s | p50 ms | p99 ms | Dovecot /s | p50 ms | p99 ms |")
            print("|---|---:|---:|---:|---:|---:|---:|")
            for op in OPS:
                a, b = c["ops"].get(op), d["ops"].get(op)
                if not a or not b:
                    continue
                print(f"| {op} | {a['per_s']:.0f} | {a['p50_ms']:.1f} | {a['p99_ms']:.1f} | "
                      f"{b['per_s']:.0f} | {b['p50_ms']:.1f} | {b['p99_ms']:.1f} |")
            print(f"| **all** | **{c['total_per_s']:.0f}** | | | **{d['total_per_s']:.0f}** | | |")
            print(f"\nCove/Dovecot x{c['total_per_s'] / d['total_per_s']:.2f}; server CPU s "
                  f"(whole tree, {c['seconds'] + 2:.0f} s window): Cove {c['server_cpu_s']}, "
                  f"Dovecot {d['server_cpu_s']} (exited imap processes not counted); "
                  f"client CPU: {c['client_cpu_pct']}% / {d['client_cpu_pct']}% of one core")


def idle_table(runs):
    print("\n| server | connections | processes | RSS total MB | RSS KB/conn | "
          "PSS KB/conn | set-up s |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in runs:
        if "error" in r:
            print(f"| {r['label']} | {r['conns']} | | | {r['error']} | | |")
            continue
        print(f"| {r['label']} | {r['conns']} | {r['processes']} | {r['rss_mb']} | "
              f"{r['kb_per_conn_rss']} | {r['kb_per_conn_pss']} | {r['setup_s']} |")


def main():
    mixed, idle = [], []
    for path in sys.argv[1:]:
        with open(path) as f:
            for line in f:
                if line.startswith("{"):
                    r = json.loads(line)
                    (mixed if r.get("mode") == "mixed" else idle).append(r)
    if mixed:
        mixed_tables(mixed)
    if idle:
        idle_table(idle)


if __name__ == "__main__":
    main()
