#!/usr/bin/env python3
"""POP3 load generator (asyncio, raw protocol, no dependencies).

Runs N concurrent client loops for D seconds against HOST:PORT. Each session
logs in (USER/PASS) as one of the users u0001..uNNNN (password "pw"), sends
STAT and UIDL, RETRs every message, and QUITs without deleting. Prints one
JSON line: sessions, sessions/s, MB/s of RETR payload, p50/p99 session
latency (ms), errors.

  loadgen.py --port 1110 --users 50 --concurrency 32 --seconds 20
"""
import argparse
import asyncio
import json
import random
import time


async def read_line(reader):
    line = await reader.readline()
    if not line:
        raise ConnectionError("connection closed")
    return line


async def ok(reader):
    line = await read_line(reader)
    if not line.startswith(b"+OK"):
        raise RuntimeError(line.decode(errors="replace").strip())
    return line


async def read_multi(reader):
    """Reads a multi-line reply up to its terminator; returns its size."""
    total, tail = 0, b"\r\n"   # the +OK line ended with CRLF
    while True:
        chunk = await reader.readuntil(b".\r\n")
        total += len(chunk)
        tail = (tail + chunk)[-5:]
        if tail.endswith(b"\r\n.\r\n"):
            return total - 3


async def session(host, port, user, password):
    reader, writer = await asyncio.open_connection(host, port, limit=1 << 24)
    try:
        await ok(reader)
        writer.write(f"USER {user}\r\nPASS {password}\r\n".encode())
        await ok(reader)
        await ok(reader)
        writer.write(b"STAT\r\n")
        count = int((await ok(reader)).split()[1])
        writer.write(b"UIDL\r\n")
        await ok(reader)
        await read_multi(reader)
        got = 0
        for n in range(1, count + 1):
            writer.write(b"RETR %d\r\n" % n)
            await ok(reader)
            got += await read_multi(reader)
        writer.write(b"QUIT\r\n")
        await ok(reader)
        return got
    finally:
        writer.close()


async def worker(args, index, deadline, stats):
    # Each worker cycles through its own users: two sessions never want the
    # same maildrop (a POP3 server must refuse the second one).
    mine = list(range(index + 1, args.users + 1, args.concurrency))
    random.Random(index).shuffle(mine)
    turn = 0
    while time.monotonic() < deadline:
        user = args.user_format % mine[turn % len(mine)]
        turn += 1
        t0 = time.monotonic()
        try:
            got = await session(args.host, args.port, user, args.password)
        except Exception as e:   # counted, reported, the loop goes on
            stats["errors"] += 1
            stats["last_error"] = str(e)[:200]
            await asyncio.sleep(0.01)
            continue
        stats["latencies"].append(time.monotonic() - t0)
        stats["bytes"] += got


async def main_async(args):
    stats = {"errors": 0, "latencies": [], "bytes": 0, "last_error": None}
    t0 = time.monotonic()
    deadline = t0 + args.seconds
    if args.users < args.concurrency:
        raise SystemExit("--users must be at least --concurrency")
    await asyncio.gather(*(worker(args, i, deadline, stats) for i in range(args.concurrency)))
    elapsed = time.monotonic() - t0
    lat = sorted(stats["latencies"])

    def pct(p):
        return round(1000 * lat[min(len(lat) - 1, int(p * len(lat)))], 1) if lat else None

    print(json.dumps({
        "server": args.label, "concurrency": args.concurrency, "sessions": len(lat),
        "sessions_per_s": round(len(lat) / elapsed, 1),
        "mb_per_s": round(stats["bytes"] / elapsed / 1e6, 2),
        "p50_ms": pct(0.50), "p99_ms": pct(0.99), "errors": stats["errors"],
        "last_error": stats["last_error"],
    }))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--users", type=int, default=50)
    ap.add_argument("--user-format", default="u%04d@example.org")
    ap.add_argument("--password", default="pw")
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--label", default="")
    asyncio.run(main_async(ap.parse_args()))


if __name__ == "__main__":
    main()
