"""Dropped connections in the middle of pipelined writes: IMAP clients send
random write commands (APPEND, STORE, EXPUNGE, CREATE/DELETE, COPY),
FETCHes and NOOPs, cut the connection at a random byte or after reading a
little, while LMTP delivers to the same users and other clients sit in IDLE
(pushes that claim \\Recent in the write batch) and hang up at a random
moment; in both [store] flush modes. No
worker may die, no sanitizer may speak (CoveServer.stop checks), and the
store must still answer afterwards. Bounded: a few seconds per mode, fixed
seeds."""
import random
import smtplib
import socket
import threading
import time
import unittest

from coveharness import CoveServer
from imaptestlib import RawIMAP

USERS = [f"drop{i}@example.org" for i in range(4)]
SECONDS = 6


def commands(rnd):
    out = []
    for i in range(rnd.randrange(1, 25)):
        k = rnd.randrange(7)
        if k == 0:
            m = b"Subject: x\r\n\r\nbody\r\n"
            out.append(b"c%d APPEND INBOX {%d+}\r\n%s\r\n" % (i, len(m), m))
        elif k == 1:
            out.append(b"c%d STORE 1:* +FLAGS (\\Seen)\r\n" % i)
        elif k == 2:
            out.append(b"c%d STORE 1 +FLAGS (\\Deleted)\r\nx%d EXPUNGE\r\n" % (i, i))
        elif k == 3:
            out.append(b"c%d CREATE box%d\r\nd%d DELETE box%d\r\n"
                       % (i, rnd.randrange(3), i, rnd.randrange(3)))
        elif k == 4:
            out.append(b"c%d FETCH 1:3 (FLAGS BODY[])\r\n" % i)
        elif k == 5:
            out.append(b"c%d NOOP\r\n" % i)
        else:
            out.append(b"c%d COPY 1:2 INBOX\r\n" % i)
    return b"".join(out)


class DisconnectStress(unittest.TestCase):
    def run_stress(self, store_conf):
        srv = CoveServer(workers=2, store_conf=store_conf)
        self.addCleanup(srv.stop)
        for u in USERS:
            srv.add_user(u, "pw")
        srv.start("imapd", "lmtpd")
        stop = time.monotonic() + SECONDS

        def selected(rnd, more=b""):
            """A connection with LOGIN and SELECT INBOX (and more) sent."""
            s = socket.create_connection(("127.0.0.1", srv.ports["imap"]), timeout=5)
            s.recv(1000)
            s.sendall(b"a LOGIN " + rnd.choice(USERS).encode()
                      + b" pw\r\nb SELECT INBOX\r\n" + more)
            return s

        def imap_client(seed):
            rnd = random.Random(seed)
            while time.monotonic() < stop:
                try:
                    s = selected(rnd)
                    data = commands(rnd)
                    cut = rnd.randrange(len(data) + 1) if rnd.random() < 0.5 else len(data)
                    s.sendall(data[:cut])
                    if rnd.random() < 0.5:
                        s.settimeout(0.2)
                        try:
                            s.recv(65536)
                        except OSError:
                            pass
                    s.close()
                except OSError:
                    pass   # refused by the per-address limit, reset: fine

        def idle_client(seed):
            rnd = random.Random(seed)
            while time.monotonic() < stop:
                try:
                    s = selected(rnd, b"i IDLE\r\n")
                    s.settimeout(0.05)
                    until = time.monotonic() + rnd.uniform(0, 0.4)
                    while time.monotonic() < until:
                        try:
                            s.recv(65536)   # pushes
                        except OSError:
                            pass
                    if rnd.random() < 0.5:
                        s.sendall(b"DONE\r\nn NOOP\r\n")
                    s.close()
                except OSError:
                    pass

        def lmtp_client(seed):
            rnd = random.Random(seed)
            while time.monotonic() < stop:
                try:
                    with smtplib.LMTP("127.0.0.1", srv.ports["lmtp"]) as l:
                        l.sendmail("x@example.org", rnd.sample(USERS, 2),
                                   b"Subject: l\r\n\r\nbody\r\n")
                except (OSError, smtplib.SMTPException):
                    pass

        threads = ([threading.Thread(target=imap_client, args=(n,)) for n in range(4)]
                   + [threading.Thread(target=idle_client, args=(50 + n,)) for n in range(2)]
                   + [threading.Thread(target=lmtp_client, args=(100 + n,)) for n in range(2)])
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        for d in ("imapd", "lmtpd"):
            deaths = [l for l in srv.log_text(d).splitlines()
                      if "killed by signal" in l or "exited with status" in l]
            self.assertEqual(deaths, [], f"{d} workers died; log in {srv.logs[d]}")
        c = RawIMAP(srv.ports["imap"])
        self.addCleanup(c.close)
        self.assertTrue(c.cmd(b"l", b"LOGIN " + USERS[0].encode() + b" pw")[-1]
                        .startswith(b"l OK"))
        status = c.cmd(b"s", b"STATUS INBOX (MESSAGES UIDNEXT)")
        self.assertTrue(status[-1].startswith(b"s OK"), status)

    def test_default_flush(self):
        self.run_stress("")

    def test_group_flush(self):
        self.run_stress("flush = group\n")


if __name__ == "__main__":
    unittest.main()
