#!/usr/bin/env python3
"""lmtp-load.py - LMTP load generator: N concurrent connections deliver a size
mix to random users and report durable messages/s, MB/s and latency.

A delivery counts when the server has answered 250 to the final dot (for an
LMTP server that acknowledges only durable mail, as Cove and Dovecot do).
Latency is measured from the first byte of MAIL FROM to the last reply after
the dot. Usage:

  lmtp-load.py --port 2424 --users 1000 --domain example.org \
               --connections 16 --seconds 20 [--unix PATH] [--json]

Size mix (by count): 60% 2 KB, 30% 20 KB, 9% 200 KB, 1% 5 MB.
Users are user00000@domain .. user{N-1}@domain.
"""
import argparse
import asyncio
import json
import random
import time

MIX = [(2 * 1024, 60), (20 * 1024, 30), (200 * 1024, 9), (5 * 1024 * 1024, 1)]


def make_body(size, rnd):
    head = (f"From: load@example.net\r\nSubject: load {rnd.getrandbits(48):x}\r\n"
            f"Message-ID: <{rnd.getrandbits(64):x}@bench>\r\n\r\n").encode()
    line = b"".join(b"%c" % rnd.randrange(97, 123) for _ in range(76)) + b"\r\n"
    n = max(0, (size - len(head)) // len(line))
    return head + line * n


async def reply(reader, lines=None):
    while True:
        line = await reader.readline()
        if not line:
            raise ConnectionError("closed")
        if lines is not None:
            lines.append(line[4:].strip().upper())
        if line[3:4] != b"-":
            return int(line[:3])


async def worker(args, rnd, bodies, stats, deadline):
    if args.unix:
        reader, writer = await asyncio.open_unix_connection(args.unix, limit=1 << 20)
    else:
        reader, writer = await asyncio.open_connection("127.0.0.1", args.port, limit=1 << 20)
    await reply(reader)
    writer.write(b"LHLO bench\r\n")
    ext = []
    await reply(reader, ext)
    with_size = any(e.startswith(b"SIZE") for e in ext)   # Dovecot has no SIZE
    while time.monotonic() < deadline:
        size = rnd.choices([m[0] for m in MIX], [m[1] for m in MIX])[0]
        body = bodies[size]
        user = f"user{rnd.randrange(args.users):05d}@{args.domain}"
        t0 = time.monotonic()
        size_param = f" SIZE={len(body)}" if with_size else ""
        writer.write(f"MAIL FROM:<load@example.net>{size_param}\r\n"
                     f"RCPT TO:<{user}>\r\nDATA\r\n".encode())
        codes = [await reply(reader) for _ in range(3)]
        if codes != [250, 250, 354]:
            stats["errors"] += 1
            writer.write(b"RSET\r\n")
            await reply(reader)
            continue
        writer.write(body + b".\r\n")
        code = await reply(reader)
        dt = time.monotonic() - t0
        if code == 250:
            stats["ok"] += 1
            stats["bytes"] += len(body)
            stats["lat"].append(dt)
        else:
            stats["errors"] += 1
    writer.write(b"QUIT\r\n")
    await writer.drain()
    writer.close()


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=2424)
    ap.add_argument("--unix")
    ap.add_argument("--users", type=int, default=10000)
    ap.add_argument("--domain", default="example.org")
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--label", default="")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    rnd = random.Random(1)
    bodies = {}
    for size, _ in MIX:   # dot-stuffing is never needed: lines start with a-z
        bodies[size] = make_body(size, rnd)
    stats = {"ok": 0, "errors": 0, "bytes": 0, "lat": []}
    start = time.monotonic()
    deadline = start + args.seconds
    await asyncio.gather(*(worker(args, random.Random(i + 2), bodies, stats, deadline)
                           for i in range(args.connections)))
    elapsed = time.monotonic() - start
    lat = sorted(stats["lat"]) or [0.0]
    result = {
        "label": args.label, "connections": args.connections, "seconds": round(elapsed, 2),
        "messages": stats["ok"], "errors": stats["errors"],
        "msg_per_s": round(stats["ok"] / elapsed, 1),
        "mb_per_s": round(stats["bytes"] / elapsed / 1e6, 2),
        "p50_ms": round(lat[len(lat) // 2] * 1000, 1),
        "p99_ms": round(lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000, 1),
    }
    if args.json:
        print(json.dumps(result))
    else:
        print("{label:>8} conns={connections:<3} msgs={messages:<6} err={errors:<3} "
              "{msg_per_s:>8} msg/s {mb_per_s:>7} MB/s p50={p50_ms} ms p99={p99_ms} ms"
              .format(**result))


if __name__ == "__main__":
    asyncio.run(main())
