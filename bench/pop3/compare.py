#!/usr/bin/env python3
"""Side-by-side POP3 benchmark: cove-pop3d vs Debian's Dovecot POP3.

Builds one temp directory holding a Cove store and a Dovecot maildir tree
with the same mail (USERS users x MSGS messages of a realistic size mix,
seeded), starts both servers privately on 127.0.0.1 (Dovecot with its own
config: never the system instance), runs loadgen.py against each in turn and
samples the servers' total RSS (all processes of each server's tree) every
100 ms. Prints one JSON line per server and a summary. Everything is torn
down at the end; nothing is left running or enabled.

  bench/pop3/compare.py --build build/release [--users 50 --msgs 20
                        --concurrency 32 --seconds 20 --workers 2
                        --scheme sha512-crypt --cost 5000 --client c]

Fairness: both servers get the same mail, the same password hash scheme and
cost (--scheme/--cost: Cove through `covectl user add --scheme`, Dovecot
through a passwd-file hash made with crypt(3)), the same number of worker
processes where it applies, and the same client: loadgen.c (compiled here
with cc -O2; one epoll thread) unless --client python. Besides throughput and
peak RSS it reports the CPU seconds each server tree and the client used.

Needs: a Release build (cove-pop3d, covectl, cove_store_lmdb.so) and the
dovecot-pop3d package (`apt-get install dovecot-pop3d`; stop and disable the
system service it starts: `service dovecot stop`).
"""
import argparse
import crypt  # deprecated in 3.11, still the simplest crypt(3) for Dovecot's hashes
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from benchlib import free_port, wait_port, message_size, tree_rss_kb, tree_cpu_seconds  # noqa: E402
MAIL_UID = 65534   # nobody


def message(rnd, i):
    """A message of a realistic size: mostly small text, some attachments."""
    size = message_size(rnd)
    head = (f"From: sender{i}@example.net\r\nTo: user@example.org\r\n"
            f"Subject: message {i}\r\nMessage-ID: <{i}.{rnd.random()}@example.net>\r\n"
            f"Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n\r\n").encode()
    line = b"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod.\r\n"
    body = line * (size // len(line) + 1)
    return head + body[:max(0, size - len(head))]


def crypt_hash(password, scheme, cost):
    """A crypt(3) hash of the scheme and cost covectl would make."""
    salt = "".join(random.SystemRandom().choice(
        "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") for _ in range(16))
    if scheme == "sha512-crypt":
        return crypt.crypt(password, f"$6$rounds={cost or 100000}${salt}$")
    if scheme == "yescrypt":
        # libxcrypt's parameter string for cost 5 (its default); others vary.
        if cost not in (None, 0, 5):
            raise SystemExit("--scheme yescrypt: only the default cost (5) is supported here")
        return crypt.crypt(password, f"$y$j9T${salt}$")
    raise SystemExit(f"--scheme {scheme}: no Dovecot equivalent in this script")


class RssSampler(threading.Thread):
    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.peak, self.stop_flag = pid, 0, False

    def run(self):
        while not self.stop_flag:
            self.peak = max(self.peak, tree_rss_kb(self.pid))
            time.sleep(0.1)


def write_cove_conf(args, tmp, port):
    """The Cove config both POP3 benchmarks use; returns its path."""
    conf = os.path.join(tmp, "cove.conf")
    with open(conf, "w") as f:
        f.write(f"""[store]
engine = lmdb
path = {tmp}/cove-store
plugin_dir = {args.build}/plugins
[server]
workers = {args.workers}
log_level = warn
max_connections_per_ip = 0
allow_plaintext_auth = yes
[pop3]
listen = 127.0.0.1:{port}
""")
    return conf


def setup_cove(args, tmp, mail):
    port = free_port()
    conf = write_cove_conf(args, tmp, port)
    covectl = os.path.join(args.build, "cli", "covectl")
    subprocess.run([covectl, "-c", conf, "init"], check=True, capture_output=True)
    hash_opts = ["--scheme", args.scheme] + (["--cost", str(args.cost)] if args.cost else [])
    for user, msgs in mail.items():
        subprocess.run([covectl, "-c", conf, "user", "add", user, "--password-stdin",
                        *hash_opts], input=b"pw\n", check=True, capture_output=True)
        for m in msgs:
            subprocess.run([covectl, "-c", conf, "deliver", user], input=m, check=True,
                           capture_output=True)
    cmd = [os.path.join(args.build, "pop3d", "cove-pop3d"), "-F", "-c", conf]
    return cmd, port


def setup_dovecot(args, tmp, mail):
    port = free_port()
    d = os.path.join(tmp, "dovecot")
    os.makedirs(os.path.join(d, "run"))
    # The same scheme and cost as the Cove users (one salt per user, as
    # covectl makes), through Dovecot's {CRYPT}: libcrypt verifies both.
    with open(os.path.join(d, "passwd"), "w") as f:
        for user in mail:
            f.write(f"{user}:{{CRYPT}}{crypt_hash('pw', args.scheme, args.cost)}::::::\n")
    for user, msgs in mail.items():
        new = os.path.join(d, "mail", user, "Maildir", "new")
        os.makedirs(new)
        for i, m in enumerate(msgs):
            with open(os.path.join(new, f"{1700000000 + i}.M{i}P1.bench"), "wb") as f:
                f.write(m)
    # Dovecot refuses to run mail processes as root: the mail belongs to nobody.
    for root, dirs, files in os.walk(os.path.join(d, "mail")):
        for name in dirs + files:
            os.chown(os.path.join(root, name), MAIL_UID, MAIL_UID)
    os.chown(os.path.join(d, "mail"), MAIL_UID, MAIL_UID)
    conf = os.path.join(d, "dovecot.conf")
    # --dovecot-tuned: Dovecot's documented high-performance settings (login
    # processes serve many connections, pop3 processes are reused) instead
    # of its secure defaults (a new process per login and per session).
    tuned = getattr(args, "dovecot_tuned", False)
    tuned_login = ("  service_count = 0\n  process_min_avail = 2\n" if tuned else "")
    tuned_pop3 = ("service pop3 {\n  service_count = 0\n  process_min_avail = 4\n}\n"
                  if tuned else "")
    with open(conf, "w") as f:
        f.write(f"""base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
protocols = pop3
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
first_valid_uid = 1
mail_location = maildir:{d}/mail/%u/Maildir
passdb {{
  driver = passwd-file
  args = {d}/passwd
}}
userdb {{
  driver = static
  args = uid={MAIL_UID} gid={MAIL_UID} home={d}/mail/%u
}}
service pop3-login {{
  inet_listener pop3 {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener pop3s {{
    port = 0
  }}
{tuned_login}}}
{tuned_pop3}
service imap-login {{
  inet_listener imap {{
    port = 0
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
pop3_uidl_format = %08Xu%08Xv
""")
    return ["dovecot", "-F", "-c", conf], port


def loadgen_cmd(args, port, label, seconds):
    if args.client == "c":
        cmd = [args.loadgen_bin]
    else:
        cmd = [sys.executable, os.path.join(HERE, "loadgen.py")]
    return cmd + ["--port", str(port), "--users", str(args.users), "--concurrency",
                  str(args.concurrency), "--seconds", str(seconds), "--label", label]


def run_one(args, label, cmd, port):
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port, proc)
        # Warm-up (first touches, caches), then the measured run.
        subprocess.run(loadgen_cmd(args, port, label, 3), capture_output=True)
        sampler = RssSampler(proc.pid)
        sampler.start()
        cpu0 = tree_cpu_seconds(proc.pid)
        client0 = os.times()
        r = subprocess.run(loadgen_cmd(args, port, label, args.seconds), capture_output=True,
                           check=True)
        client1 = os.times()
        cpu1 = tree_cpu_seconds(proc.pid)
        sampler.stop_flag = True
        sampler.join()
        result = json.loads(r.stdout)
        result["peak_rss_mb"] = round(sampler.peak / 1024, 1)
        result["server_cpu_s"] = round(cpu1 - cpu0, 1)
        result["client_cpu_s"] = round((client1.children_user + client1.children_system) -
                                       (client0.children_user + client0.children_system), 1)
        print(json.dumps(result), flush=True)
        return result
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True, help="Cove Release build directory")
    ap.add_argument("--users", type=int, default=50)
    ap.add_argument("--msgs", type=int, default=20)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--only", choices=("cove", "dovecot"))
    ap.add_argument("--scheme", default="sha512-crypt", choices=("sha512-crypt", "yescrypt"))
    ap.add_argument("--cost", type=int, default=5000,
                    help="sha512-crypt rounds (yescrypt: 5 only); 0 = the scheme's default")
    ap.add_argument("--client", default="c", choices=("c", "python"))
    ap.add_argument("--dovecot-tuned", action="store_true",
                    help="Dovecot with its high-performance process settings")
    args = ap.parse_args()
    args.build = os.path.abspath(args.build)
    if args.scheme == "yescrypt" and args.cost == 5000:
        args.cost = 0
    rnd = random.Random(args.seed)
    mail = {f"u{u:04d}@example.org": [message(rnd, u * 1000 + i) for i in range(args.msgs)]
            for u in range(1, args.users + 1)}
    total = sum(len(m) for msgs in mail.values() for m in msgs)
    print(f"# {args.users} users x {args.msgs} messages, {total / 1e6:.1f} MB, "
          f"concurrency {args.concurrency}, {args.seconds} s", flush=True)
    tmp = tempfile.mkdtemp(prefix="cove-bench-pop3-")
    os.chmod(tmp, 0o755)   # Dovecot's auth process (user dovecot) reads the passwd file
    try:
        if args.client == "c":
            args.loadgen_bin = os.path.join(tmp, "loadgen")
            subprocess.run(["cc", "-O2", "-o", args.loadgen_bin,
                            os.path.join(HERE, "loadgen.c")], check=True)
        print(f"# hash {args.scheme} cost {args.cost or 'default'} on both sides, "
              f"client {args.client}, {args.workers} Cove workers, Dovecot "
              f"{'tuned' if args.dovecot_tuned else 'defaults'}", flush=True)
        results = {}
        if args.only in (None, "cove"):
            results["cove"] = run_one(args, "cove", *setup_cove(args, tmp, mail))
        if args.only in (None, "dovecot"):
            if shutil.which("dovecot") is None:
                print("# dovecot not installed: apt-get install dovecot-pop3d")
            else:
                results["dovecot"] = run_one(args, "dovecot", *setup_dovecot(args, tmp, mail))
        if len(results) == 2 and results["dovecot"]["sessions_per_s"] > 0:
            c, d = results["cove"], results["dovecot"]
            print(f"# cove/dovecot: sessions/s x{c['sessions_per_s'] / d['sessions_per_s']:.2f}, "
                  f"MB/s x{c['mb_per_s'] / d['mb_per_s']:.2f}, "
                  f"peak RSS x{c['peak_rss_mb'] / d['peak_rss_mb']:.2f}")
    finally:
        if os.environ.get("COVE_BENCH_KEEP") == "1":
            print(f"# kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
