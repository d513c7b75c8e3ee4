"""Protocol test harness: runs the real Cove daemons on loopback.

Each CoveServer gets a private temp directory holding a generated cove.conf,
an LMDB store, a self-signed certificate and the daemons' logs; listeners use
free ephemeral ports on 127.0.0.1. Tests drive the daemons with real clients
(imaplib, poplib, smtplib.LMTP, raw sockets, curl, fetchmail, mbsync).

A CoveServer made with host= and wrap= listens elsewhere (netns.py runs the
daemons inside a network namespace so that clients are not on loopback).

Environment: COVE_BUILD_DIR (the build tree; set by ctest), COVE_TEST_KEEP=1
keeps the temp directory for inspection (its path is printed).
"""
import atexit
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

BUILD_DIR = os.environ.get("COVE_BUILD_DIR", os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "debug"))
PLUGIN_DIR = os.path.join(BUILD_DIR, "plugins")
COVECTL = os.path.join(BUILD_DIR, "cli", "covectl")
DAEMONS = {
    "imapd": os.path.join(BUILD_DIR, "imapd", "cove-imapd"),
    "pop3d": os.path.join(BUILD_DIR, "pop3d", "cove-pop3d"),
    "lmtpd": os.path.join(BUILD_DIR, "lmtpd", "cove-lmtpd"),
}
_CERT_CACHE = {}


def free_port():
    """A currently free TCP port on 127.0.0.1 (small race accepted in tests)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_cert(directory):
    """Self-signed cert/key for localhost, generated once per test process."""
    if "pair" not in _CERT_CACHE:
        cdir = tempfile.mkdtemp(prefix="cove-cert-")
        atexit.register(shutil.rmtree, cdir, True)
        cert, key = os.path.join(cdir, "cert.pem"), os.path.join(cdir, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                        "-days", "2", "-subj", "/CN=localhost", "-keyout", key,
                        "-out", cert], check=True, capture_output=True)
        _CERT_CACHE["pair"] = (cert, key)
    cert, key = _CERT_CACHE["pair"]
    dst_cert, dst_key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    shutil.copy(cert, dst_cert)
    shutil.copy(key, dst_key)
    os.chmod(dst_key, 0o600)
    return dst_cert, dst_key


class CoveServer:
    """A private Cove installation: config, store, and any daemons started."""

    def __init__(self, extra_conf="", workers=1, host="127.0.0.1", wrap=(), engine="lmdb",
                 store_conf=""):
        """host: the IMAP/POP3 listening address; wrap: a command prefix for
        the daemons (e.g. ["ip", "netns", "exec", NAME]); engine and
        store_conf: the [store] engine and extra [store] lines (the test
        engine "fault" wraps lmdb: store_conf "fault_inner = lmdb" ...)."""
        self.host = host
        self.wrap = list(wrap)
        self.dir = tempfile.mkdtemp(prefix="cove-test-")
        self.ports = {name: free_port() for name in
                      ("imap", "imaps", "pop3", "pop3s", "lmtp")}
        self.lmtp_socket = os.path.join(self.dir, "lmtp.sock")
        cert, key = make_cert(self.dir)
        self.conf = os.path.join(self.dir, "cove.conf")
        with open(self.conf, "w") as f:
            f.write(f"""[store]
engine = {engine}
path = {self.dir}/store
plugin_dir = {PLUGIN_DIR}
{store_conf}

[server]
workers = {workers}
log_level = debug

[imap]
listen = {host}:{self.ports['imap']}
listen_tls = {host}:{self.ports['imaps']}

[pop3]
listen = {host}:{self.ports['pop3']}
listen_tls = {host}:{self.ports['pop3s']}

[lmtp]
listen = 127.0.0.1:{self.ports['lmtp']}, unix:{self.lmtp_socket}

[tls]
cert = {cert}
key = {key}
{extra_conf}
""")
        self.procs = {}
        self.logs = {}
        self.covectl("init")

    # --- covectl -----------------------------------------------------------
    def covectl(self, *args, input=None, check=True):
        r = subprocess.run([COVECTL, "-c", self.conf, *args], input=input,
                           capture_output=True)
        if check and r.returncode != 0:
            raise AssertionError(f"covectl {' '.join(args)} failed "
                                 f"({r.returncode}): {r.stderr.decode(errors='replace')}")
        return r

    def add_user(self, name, password):
        self.covectl("user", "add", name, "--password-stdin",
                     input=(password + "\n").encode())

    def deliver(self, name, message, mailbox=None):
        args = ["deliver", name] + (["--mailbox", mailbox] if mailbox else [])
        return self.covectl(*args, input=message)

    # --- daemons -------------------------------------------------------------
    PORT_NAMES = {"imapd": ("imap", "imaps"), "pop3d": ("pop3", "pop3s"), "lmtpd": ("lmtp",)}

    def spawn(self, d):
        # Appended, so a restarted daemon keeps the first run's log.
        log = open(os.path.join(self.dir, f"{d}.log"), "ab")
        self.logs[d] = log.name
        self.procs[d] = subprocess.Popen(self.wrap + [DAEMONS[d], "-F", "-c", self.conf],
                                         stdout=log, stderr=subprocess.STDOUT)

    def new_ports(self, d):
        """Other free ports for d's listeners (free_port() raced another
        test for one of them)."""
        with open(self.conf) as f:
            text = f.read()
        for name in self.PORT_NAMES[d]:
            old, self.ports[name] = self.ports[name], free_port()
            text = re.sub(rf":{old}\b", f":{self.ports[name]}", text)
        with open(self.conf, "w") as f:
            f.write(text)

    def start(self, *daemons):
        for d in daemons:
            self.spawn(d)
        for d in daemons:
            port = self.PORT_NAMES[d][0]
            for attempt in range(3):
                try:
                    self.wait_port(self.ports[port], d,
                                   host="127.0.0.1" if d == "lmtpd" else self.host)
                    break
                except AssertionError:
                    if (attempt == 2 or self.procs[d].poll() is None
                            or "Address already in use" not in self.log_text(d)):
                        raise
                    self.new_ports(d)
                    self.spawn(d)

    def wait_port(self, port, daemon, timeout=20.0, host="127.0.0.1"):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.procs[daemon].poll() is not None:
                raise AssertionError(f"{daemon} exited early: {self.log_text(daemon)}")
            try:
                socket.create_connection((host, port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"{daemon} did not listen on {port}")

    def worker_pids(self, daemon):
        """PIDs of the worker processes of a running daemon (children of
        its master, from /proc)."""
        master = self.procs[daemon].pid
        pids = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == master:
                pids.append(int(entry))
        return pids

    def log_text(self, daemon):
        with open(self.logs[daemon], "rb") as f:
            return f.read().decode(errors="replace")

    def stop(self):
        """SIGTERM every daemon; fail if one crashed or a sanitizer spoke."""
        problems = []
        for d, p in self.procs.items():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
                    problems.append(f"{d} ignored SIGTERM")
            text = self.log_text(d)
            for marker in ("AddressSanitizer", "runtime error:", "LeakSanitizer"):
                if marker in text:
                    problems.append(f"{d}: {marker} in log")
            if p.returncode not in (0, -signal.SIGTERM):
                problems.append(f"{d} exited with {p.returncode}")
        self.procs = {}
        if os.environ.get("COVE_TEST_KEEP") == "1":
            print(f"kept {self.dir}")
        else:
            shutil.rmtree(self.dir, ignore_errors=True)
        if problems:
            raise AssertionError("; ".join(problems))
