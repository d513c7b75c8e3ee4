#!/usr/bin/env python3
"""Streaming memory: N concurrent RETRs of one big message by slow readers.

Each of N users (default 100) has the same message of SIZE MB (default 50)
in INBOX: delivered with covectl (the store keeps one body, single-instance)
and hard-linked into each Dovecot maildir. For each server in turn: start it
privately on 127.0.0.1, log N clients in, send RETR 1 on all of them, and
read slowly (--read-kb KB every 100 ms per client, a small receive buffer),
so every RETR stays in progress for the whole window. The servers' total
RSS (all processes of each tree) is sampled every 100 ms; the peak and the
median over the window are reported with the idle RSS before the clients
came, and the client count whose RETR was still running at the end.

  bench/pop3/stream_mem.py --build build/release [--clients 100 --size-mb 50
                           --window 20 --workers 2]
"""
import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare  # noqa: E402  (setup helpers, RSS sampling)


def big_message(size):
    head = (b"From: big@example.net\r\nTo: user@example.org\r\nSubject: big\r\n"
            b"Message-ID: <big@example.net>\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n\r\n")
    line = b"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod.\r\n"
    body = line * (size // len(line) + 1)
    return head + body[:size - len(head)]


def setup_cove(args, tmp, msg, users):
    port = compare.free_port()
    conf = compare.write_cove_conf(args, tmp, port)
    covectl = os.path.join(args.build, "cli", "covectl")
    subprocess.run([covectl, "-c", conf, "init"], check=True, capture_output=True)
    path = os.path.join(tmp, "big.eml")
    with open(path, "wb") as f:
        f.write(msg)
    for user in users:
        subprocess.run([covectl, "-c", conf, "user", "add", user, "--password-stdin",
                        "--scheme", "sha512-crypt", "--cost", "5000"], input=b"pw\n",
                       check=True, capture_output=True)
        with open(path, "rb") as f:
            subprocess.run([covectl, "-c", conf, "deliver", user], stdin=f, check=True,
                           capture_output=True)
    return [os.path.join(args.build, "pop3d", "cove-pop3d"), "-F", "-c", conf], port


def setup_dovecot(args, tmp, msg, users):
    # compare.setup_dovecot writes config, passwd and one file per message;
    # give it a placeholder, then hard-link the big file over it (no N copies).
    ns = argparse.Namespace(scheme="sha512-crypt", cost=5000)
    cmd, port = compare.setup_dovecot(ns, tmp, {u: [b"x\r\n"] for u in users})
    big = os.path.join(tmp, "dovecot", "big.eml")
    with open(big, "wb") as f:
        f.write(msg)
    os.chown(big, compare.MAIL_UID, compare.MAIL_UID)
    for user in users:
        new = os.path.join(tmp, "dovecot", "mail", user, "Maildir", "new")
        for name in os.listdir(new):
            os.unlink(os.path.join(new, name))
            os.link(big, os.path.join(new, name))
    return cmd, port


async def slow_client(port, user, args, state):
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=64 * 1024)
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    try:
        await reader.readline()
        writer.write(f"USER {user}\r\nPASS pw\r\nRETR 1\r\n".encode())
        for _ in range(3):
            line = await reader.readline()
            if not line.startswith(b"+OK"):
                raise RuntimeError(line.decode(errors="replace").strip())
        state["started"] += 1
        got = 0
        while not state["stop"]:
            data = await reader.read(args.read_kb * 1024)
            if not data:
                raise RuntimeError("closed during RETR")
            got += len(data)
            if data.endswith(b"\r\n.\r\n"):
                state["finished"] += 1
                return
            await asyncio.sleep(0.1)
        state["in_progress"] += 1
    except Exception as e:   # counted and reported
        state["errors"] += 1
        state["last_error"] = str(e)[:200]
    finally:
        writer.close()


async def drive(port, users, args, sampler_holder):
    state = {"started": 0, "finished": 0, "in_progress": 0, "errors": 0,
             "last_error": None, "stop": False}
    tasks = [asyncio.create_task(slow_client(port, u, args, state)) for u in users]
    deadline = time.monotonic() + 60
    while state["started"] + state["errors"] < len(users) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    sampler_holder["window_start"] = len(sampler_holder["samples"])
    await asyncio.sleep(args.window)
    state["stop"] = True
    await asyncio.gather(*tasks)
    return state


class Sampler(threading.Thread):
    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.samples, self.stop_flag = pid, [], False

    def run(self):
        while not self.stop_flag:
            self.samples.append(compare.tree_rss_kb(self.pid))
            time.sleep(0.1)


def run_one(label, cmd, port, users, args):
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        compare.wait_port(port, proc)
        time.sleep(1)
        idle = compare.tree_rss_kb(proc.pid)
        sampler = Sampler(proc.pid)
        holder = {"samples": sampler.samples}
        sampler.start()
        state = asyncio.run(drive(port, users, args, holder))
        sampler.stop_flag = True
        sampler.join()
        window = sampler.samples[holder["window_start"]:] or [0]
        result = {
            "server": label, "clients": len(users), "message_mb": args.size_mb,
            "retr_started": state["started"], "in_progress_at_end": state["in_progress"],
            "finished": state["finished"], "errors": state["errors"],
            "last_error": state["last_error"],
            "idle_rss_mb": round(idle / 1024, 1),
            "peak_rss_mb": round(max(sampler.samples) / 1024, 1),
            "median_rss_mb": round(statistics.median(window) / 1024, 1),
        }
        result["peak_per_client_kb"] = round((max(sampler.samples) - idle) / len(users))
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
    ap.add_argument("--build", required=True)
    ap.add_argument("--clients", type=int, default=100)
    ap.add_argument("--size-mb", type=int, default=50)
    ap.add_argument("--window", type=float, default=20)
    ap.add_argument("--read-kb", type=int, default=4)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--only", choices=("cove", "dovecot"))
    args = ap.parse_args()
    args.build = os.path.abspath(args.build)
    users = [f"big{u:03d}@example.org" for u in range(1, args.clients + 1)]
    msg = big_message(args.size_mb * 1000 * 1000)
    print(f"# {args.clients} slow RETRs of one {args.size_mb} MB message, "
          f"{args.read_kb} KB per 100 ms per client, {args.window} s window", flush=True)
    tmp = tempfile.mkdtemp(prefix="cove-bench-stream-")
    os.chmod(tmp, 0o755)
    try:
        if args.only in (None, "cove"):
            run_one("cove", *setup_cove(args, tmp, msg, users), users, args)
        if args.only in (None, "dovecot"):
            run_one("dovecot", *setup_dovecot(args, tmp, msg, users), users, args)
    finally:
        if os.environ.get("COVE_BENCH_KEEP") == "1":
            print(f"# kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
