#!/usr/bin/env python3
"""Side-by-side IMAP benchmark: cove-imapd vs Debian's Dovecot IMAP.

Builds one temp directory holding a Cove store and a Dovecot Maildir tree with
the same mail (USERS users x MSGS messages of a realistic size mix, seeded)
and the same password hashes (the yescrypt hash covectl stored for each user
is given to Dovecot as {CRYPT}, which it verifies through libcrypt). Starts
each server privately on 127.0.0.1 (Dovecot with its own config in the temp
dir, never the system instance), then:

  mixed  imap-load (C, libev) with CLIENTS concurrent sessions of the mixed
         profile: per-command rates, p50/p99 latency, the server's CPU
         seconds and the client's own CPU use;
  idle   IDLE_N logged-in connections parked in IDLE on INBOX: summed RSS of
         the server's whole process tree, per connection. Dovecot is measured
         twice: with imap-hibernate (imap_hibernate_timeout set) at IDLE_N,
         and with its plain defaults (one imap process per connection) at
         min(IDLE_N, 1000), since its default process_limit is 1024.

Every process started is stopped by PID at the end; the temp dir is removed
(COVE_BENCH_KEEP=1 keeps it). Results: one JSON line per run, then a summary.

  bench/imap/compare.py --build build/release [--users 64 --msgs 40
        --clients 32 --seconds 20 --idle-conns 10000 --only cove|dovecot
        --skip-mixed --skip-idle]

Needs: a Release build (cove-imapd, covectl, cove_store_lmdb.so), libev-dev
and Debian's dovecot-imapd (its system service stays stopped and disabled).
"""
import argparse
import json
import os
import random
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from benchlib import free_port, wait_port, message_size, tree_pids, tree_usage  # noqa: E402
MAIL_UID = 65534   # nobody: Dovecot refuses to run mail processes as root
PASSWORD = "pw"
HASH_RE = re.compile(rb"\$y\$[./A-Za-z0-9]+\$[./A-Za-z0-9]+\$[./A-Za-z0-9]{43}")


LINE = b"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod.\r\n"


def message(rnd, i):
    """Mostly small text mail, some with a base64 attachment (60% 2-8 KB,
    30% 20-100 KB, 9% 200 KB-1 MB, 1% 2-5 MB; as bench/pop3)."""
    size = message_size(rnd)
    head = (f"From: Sender {i % 1000} <sender{rnd.randrange(1000)}@example.net>\r\n"
            f"To: user@example.org\r\nSubject: message {i}\r\n"
            f"Message-ID: <{i}.{rnd.randrange(1 << 30)}@example.net>\r\n"
            f"Date: Mon, 1 Jan 2024 00:00:00 +0000\r\nMIME-Version: 1.0\r\n").encode()
    if size < 10_000:
        head += b"Content-Type: text/plain; charset=us-ascii\r\n\r\n"
        body = LINE * (size // len(LINE) + 1)
        return head + body[:max(0, size - len(head))]
    head += (b'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n--b1\r\n'
             b"Content-Type: text/plain; charset=us-ascii\r\n\r\n" + LINE * 20 +
             b'--b1\r\nContent-Type: application/octet-stream; name="a.bin"\r\n'
             b"Content-Transfer-Encoding: base64\r\n\r\n")
    b64 = (b"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAx"
           b"MjM0\r\n")
    att = b64 * (max(0, size - len(head)) // len(b64) + 1)
    return head + att + b"--b1--\r\n"


INOTIFY = "/proc/sys/fs/inotify/max_user_instances"


def raise_inotify(want):
    """Dovecot's IDLE (and so its hibernation) needs one inotify instance per
    connection, all owned by the mail uid; the kernel default is 128. Returns
    the old value to restore, or None if unchanged."""
    try:
        with open(INOTIFY) as f:
            old = int(f.read())
        if old >= want:
            return None
        with open(INOTIFY, "w") as f:
            f.write(str(want))
        print(f"# fs.inotify.max_user_instances {old} -> {want} for the run", flush=True)
        return old
    except OSError as e:
        print(f"# cannot raise fs.inotify.max_user_instances ({e}): Dovecot IDLE will "
              "fall back to polling and not hibernate", flush=True)
        return None


def restore_inotify(old):
    if old is not None:
        with open(INOTIFY, "w") as f:
            f.write(str(old))


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class Server:
    """A server process group started by us and stopped by PID."""

    def __init__(self, label, cmd, port, pidfile=None):
        self.label, self.cmd, self.port, self.pidfile = label, cmd, port, pidfile

    def __enter__(self):
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, preexec_fn=raise_nofile)
        wait_port(self.port, self.proc)
        time.sleep(0.5)   # let every worker / service start
        return self

    def __exit__(self, *exc):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            for pid in tree_pids(self.proc.pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            self.proc.wait()


def build_loadgen(tmp):
    exe = os.path.join(tmp, "imap-load")
    subprocess.run(["cc", "-O2", "-o", exe, os.path.join(HERE, "imap-load.c"), "-lev"],
                   check=True)
    return exe


def covectl(args, conf, *argv, data=None):
    subprocess.run([os.path.join(args.build, "cli", "covectl"), "-c", conf, *argv],
                   input=data, check=True, capture_output=True)


def setup_cove(args, tmp, mail):
    """Fills the Cove store; returns (conf path, {user: stored yescrypt hash})."""
    conf = os.path.join(tmp, "cove.conf")
    args.cove_port = free_port()
    with open(conf, "w") as f:
        f.write(f"""[store]
engine = lmdb
path = {tmp}/cove-store
plugin_dir = {args.build}/plugins
{chr(10).join(o.replace("=", " = ", 1) for o in args.cove_store_option)}
[server]
workers = {args.workers}
log_level = warn
max_connections_per_ip = 0
[imap]
listen = 127.0.0.1:{args.cove_port}
""")
    covectl(args, conf, "init")
    hashes, seen = {}, set()
    data_mdb = os.path.join(tmp, "cove-store", "data.mdb")
    for user, msgs in mail.items():
        covectl(args, conf, "user", "add", user, "--password-stdin",
                data=PASSWORD.encode() + b"\n")
        with open(data_mdb, "rb") as f:
            new = set(HASH_RE.findall(f.read())) - seen
        if len(new) != 1:
            raise SystemExit(f"cannot find the stored hash of {user} in {data_mdb}")
        hashes[user] = new.pop().decode()
        seen.add(hashes[user].encode())
        for m in msgs:
            covectl(args, conf, "deliver", user, data=m)
    return conf, hashes


def dovecot_conf(args, d, hibernate):
    port = free_port()
    conf = os.path.join(d, f"dovecot-{port}.conf")
    hib = f"imap_hibernate_timeout = {args.hibernate_timeout}\n" if hibernate else ""
    with open(conf, "w") as f:
        f.write(f"""base_dir = {d}/run-{port}
state_dir = {d}/state
log_path = {d}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
first_valid_uid = 1
mail_location = maildir:{d}/mail/%u/Maildir
mail_max_userip_connections = {args.idle_conns}
{hib}{chr(10).join(o.replace("=", " = ", 1) for o in args.dovecot_setting)}
passdb {{
  driver = passwd-file
  args = scheme=CRYPT {d}/passwd
}}
userdb {{
  driver = static
  args = uid={MAIL_UID} gid={MAIL_UID} home={d}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service stats {{
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
""")
    return conf, port


def setup_dovecot(args, tmp, mail, hashes):
    d = os.path.join(tmp, "dovecot")
    os.makedirs(d)
    with open(os.path.join(d, "passwd"), "w") as f:
        for user in mail:
            f.write(f"{user}:{{CRYPT}}{hashes[user]}::::::\n")
    t = 1700000000
    for user, msgs in mail.items():
        base = os.path.join(d, "mail", user, "Maildir")
        for sub in ("new", "cur", "tmp"):
            os.makedirs(os.path.join(base, sub))
        for i, m in enumerate(msgs):
            # dovecot-lda's file name form: <time>.M<usec>P<pid>.<host>,S=<size>
            with open(os.path.join(base, "new", f"{t + i}.M{i}P1.bench,S={len(m)}"),
                      "wb") as f:
                f.write(m)
    for root, dirs, files in os.walk(os.path.join(d, "mail")):
        for name in dirs + files:
            os.chown(os.path.join(root, name), MAIL_UID, MAIL_UID)
    os.chown(os.path.join(d, "mail"), MAIL_UID, MAIL_UID)
    return d


def run_mixed(args, exe, label, port, ops):
    base = [exe, "--port", str(port), "--users", str(args.users), "--clients",
            str(args.clients), "--password", PASSWORD, "--label", label,
            "--ops-per-session", str(ops)]
    # Warm-up: first touches of every mailbox (Dovecot builds its indexes).
    subprocess.run(base + ["--seconds", "3", "--warmup", "0"], capture_output=True,
                   check=True)
    return base + ["--seconds", str(args.seconds), "--warmup", "2"]


def load_average():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def measure_mixed(args, exe, server, ops):
    cmd = run_mixed(args, exe, server.label, server.port, ops)
    load = load_average()
    before = tree_usage(server.proc.pid)
    r = subprocess.run(cmd, capture_output=True, check=True, text=True)
    after = tree_usage(server.proc.pid)
    result = json.loads(r.stdout)
    # Server CPU over warm-up + measured window (imap processes that exited
    # are not counted; for Dovecot this is a lower bound).
    result["server_cpu_s"] = round(after[2] - before[2], 2)
    result["server_rss_mb"] = round(after[0] / 1024, 1)
    result["ops_per_session"] = ops
    result["loadavg_before"] = load   # other work on the machine (2 cores)
    print(json.dumps(result), flush=True)
    return result


def measure_idle(args, exe, server, conns):
    """Parks conns clients in IDLE; returns RSS figures of the server tree."""
    base_rss, base_pss, _, base_n = tree_usage(server.proc.pid)
    cmd = [exe, "--port", str(server.port), "--users", str(args.users), "--clients",
           str(conns), "--password", PASSWORD, "--label", server.label, "--idle",
           "--ramp", str(args.ramp), "--setup-timeout", str(args.idle_timeout)]
    client = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True, preexec_fn=raise_nofile)
    ready = [None]

    def reader():
        for line in client.stdout:
            if line.startswith("ready"):
                ready[0] = time.monotonic()
            elif line.startswith("{"):
                ready.append(json.loads(line))
    th = threading.Thread(target=reader, daemon=True)
    th.start()
    samples = []
    try:
        deadline = time.monotonic() + args.idle_timeout + 10
        while ready[0] is None and client.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        if ready[0] is not None:
            # Settle (Dovecot hibernates after imap_hibernate_timeout), then sample.
            time.sleep(args.settle)
            for _ in range(3):
                samples.append(tree_usage(server.proc.pid))
                time.sleep(1)
        client.stdin.close()
        client.wait(timeout=60)
    finally:
        if client.poll() is None:
            client.kill()
            client.wait()
    th.join(timeout=5)
    stats = ready[1] if len(ready) > 1 else {}
    if not samples:
        result = {"label": server.label, "conns": conns, "error": "not all idling",
                  "idling": stats.get("idling")}
    else:
        rss = max(s[0] for s in samples)
        pss = max(s[1] for s in samples)
        result = {"label": server.label, "mode": "idle", "conns": conns,
                  "idling": stats.get("idling"), "setup_s": stats.get("setup_s"),
                  "rss_mb": round(rss / 1024, 1), "pss_mb": round(pss / 1024, 1),
                  "kb_per_conn_rss": round(rss / conns, 1),
                  "kb_per_conn_pss": round(pss / conns, 1),
                  "kb_per_conn_rss_delta": round((rss - base_rss) / conns, 1),
                  "base_rss_mb": round(base_rss / 1024, 1),
                  "processes": max(s[3] for s in samples), "base_processes": base_n}
    print(json.dumps(result), flush=True)
    return result


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True, help="Cove Release build directory")
    ap.add_argument("--users", type=int, default=64)
    ap.add_argument("--msgs", type=int, default=40)
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--ops-per-session", default="20,200",
                    help="mixed commands between SELECT and LOGOUT; a comma list runs "
                         "each profile")
    ap.add_argument("--rounds", type=int, default=2,
                    help="mixed runs per server and profile, Cove and Dovecot interleaved")
    ap.add_argument("--cove-store-option", action="append", default=[],
                    help="extra [store] KEY=VALUE for Cove (e.g. compress_threshold=0)")
    ap.add_argument("--dovecot-setting", action="append", default=[],
                    help="extra top-level KEY=VALUE for Dovecot (e.g. mail_fsync=always)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--idle-conns", type=int, default=10000)
    ap.add_argument("--idle-timeout", type=float, default=400,
                    help="bound on the time to park all IDLE connections")
    ap.add_argument("--ramp", type=int, default=64, help="IDLE set-ups in flight")
    ap.add_argument("--settle", type=float, default=8)
    ap.add_argument("--hibernate-timeout", default="2s")
    ap.add_argument("--only", choices=("cove", "dovecot"))
    ap.add_argument("--skip-mixed", action="store_true")
    ap.add_argument("--skip-idle", action="store_true")
    args = ap.parse_args()
    args.build = os.path.abspath(args.build)
    raise_nofile()
    rnd = random.Random(args.seed)
    mail = {f"u{u:04d}@example.org": [message(rnd, u * 1000 + i) for i in range(args.msgs)]
            for u in range(1, args.users + 1)}
    total = sum(len(m) for msgs in mail.values() for m in msgs)
    print(f"# {args.users} users x {args.msgs} messages, {total / 1e6:.1f} MB; mixed: "
          f"{args.clients} clients, {args.seconds} s; idle: {args.idle_conns} connections; "
          f"{os.cpu_count()} CPUs; loadavg {load_average()}", flush=True)
    tmp = tempfile.mkdtemp(prefix="cove-bench-imap-")
    os.chmod(tmp, 0o755)   # Dovecot's auth process (user dovecot) reads the passwd file
    results = {}
    try:
        exe = build_loadgen(tmp)
        t0 = time.monotonic()
        cove_conf, hashes = setup_cove(args, tmp, mail)
        d = setup_dovecot(args, tmp, mail, hashes)
        print(f"# filled both in {time.monotonic() - t0:.0f} s", flush=True)
        cove_cmd = [os.path.join(args.build, "imapd", "cove-imapd"), "-F", "-c", cove_conf]
        sides = [x for x in ("cove", "dovecot") if args.only in (None, x)]
        if "dovecot" in sides and shutil.which("dovecot") is None:
            raise SystemExit("dovecot not installed: apt-get install dovecot-imapd")

        def server(side, hibernate=False, label=None):
            if side == "cove":
                return Server(label or "cove", cove_cmd, args.cove_port)
            conf, port = dovecot_conf(args, d, hibernate)
            return Server(label or "dovecot", ["dovecot", "-F", "-c", conf], port)

        profiles = [int(x) for x in str(args.ops_per_session).split(",")]
        if not args.skip_mixed:
            for _ in range(args.rounds):
                for ops in profiles:
                    for side in sides:
                        with server(side) as s:
                            results.setdefault((side, ops), []).append(
                                measure_mixed(args, exe, s, ops))
        if not args.skip_idle and "cove" in sides:
            with server("cove") as s:
                results["cove-idle"] = measure_idle(args, exe, s, args.idle_conns)
        if not args.skip_idle and "dovecot" in sides:
            old = raise_inotify(args.idle_conns + 1000)
            try:
                with server("dovecot", True, "dovecot-hibernate") as s:
                    results["dovecot-idle-hib"] = measure_idle(args, exe, s, args.idle_conns)
                with server("dovecot", False, "dovecot-default") as s:
                    results["dovecot-idle"] = measure_idle(args, exe, s,
                                                           min(args.idle_conns, 1000))
            finally:
                restore_inotify(old)
        for ops in profiles:
            c, dv = results.get(("cove", ops)), results.get(("dovecot", ops))
            if c and dv:
                ratios = ", ".join(f"x{a['total_per_s'] / max(b['total_per_s'], 1e-9):.2f}"
                                   for a, b in zip(c, dv))
                print(f"# mixed, {ops} commands/session, Cove/Dovecot commands/s per round: "
                      f"{ratios}", flush=True)
    finally:
        if os.environ.get("COVE_BENCH_KEEP") == "1":
            print(f"# kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
