"""cove-lmtpd: many connections at once, each pipelining whole transactions,
while the workers' sync threads flush: commands and deliveries that arrive
during a flush wait for it and are then served in order.

- 24 connections over 2 workers, 15 transactions each, sent in one write per
  transaction (MAIL, three RCPTs of which one unknown, DATA and the message)
  with some messages over [lmtp] spool_memory: every reply is the expected
  one in order, every acknowledged copy is stored exactly once and
  byte-exact (checked by tag), and the spool directory is empty afterwards.
"""
import os
import threading
import unittest

from coveharness import CoveServer
from lmtpclient import RawLmtp, fetch, mailbox_counts, stuff, trace

CONNS = 24
ROUNDS = 15
USERS = [f"c{i}@example.org" for i in range(8)]


def message(conn, rnd):
    size = 70000 if (conn + rnd) % 4 == 0 else 300   # some beyond spool_memory
    body = b"Subject: conc %d/%d\r\n\r\n" % (conn, rnd)
    line = b".tag %d %d " % (conn, rnd) + b"x" * 60 + b"\r\n"
    return body + line * max(1, size // len(line))


class LmtpConcurrency(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = CoveServer(workers=2, extra_conf="[lmtp]\nspool_memory = 32k\n"
                                                   "[server]\nmax_connections_per_ip = 0\n")
        for u in USERS:
            cls.srv.add_user(u, "pw")
        cls.srv.start("lmtpd")
        cls.port = cls.srv.ports["lmtp"]

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def client(self, conn, results, errors):
        try:
            c = RawLmtp(self.port, timeout=120)
            if c.cmd("LHLO x")[0] != 250:
                raise AssertionError("LHLO refused")
            for rnd in range(ROUNDS):
                a, b = USERS[(conn + rnd) % 8], USERS[(conn + rnd + 3) % 8]
                msg = message(conn, rnd)
                c.send(f"MAIL FROM:<s{conn}@example.net>\r\nRCPT TO:<{a}>\r\n"
                       f"RCPT TO:<nobody@example.org>\r\nRCPT TO:<{b}>\r\nDATA\r\n"
                       .encode())
                codes = [r[0] for r in c.replies(5)]
                if codes != [250, 250, 550, 250, 354]:
                    raise AssertionError(f"conn {conn} round {rnd}: {codes}")
                c.send(stuff(msg))
                after = c.replies(2)
                if [r[0] for r in after] != [250, 250] or a not in after[0][1][0] or \
                        b not in after[1][1][0]:
                    raise AssertionError(f"conn {conn} round {rnd}: {after}")
                results.append((conn, rnd, a, b, msg))
            c.cmd("QUIT")
            c.close()
        except Exception as e:   # reported by the main thread
            errors.append(repr(e))

    def test_pipelined_transactions_across_flushes(self):
        results, errors = [], []
        threads = [threading.Thread(target=self.client, args=(i, results, errors))
                   for i in range(CONNS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(300)
        self.assertEqual(errors, [])
        self.assertEqual(len(results), CONNS * ROUNDS)
        expect = {u: 0 for u in USERS}
        for _, _, a, b, _ in results:
            expect[a] += 1
            expect[b] += 1
        for u in USERS:
            self.assertEqual(mailbox_counts(self.srv, u)["INBOX"], expect[u], u)
        # One user's copies by content: each tag exactly once, byte-exact.
        user = USERS[0]
        stored = [fetch(self.srv, user, "INBOX", uid) for uid in range(1, expect[user] + 1)]
        for conn, rnd, a, b, msg in results:
            if user in (a, b):
                want = trace(f"s{conn}@example.net", user) + msg
                self.assertEqual(stored.count(want), 1, f"conn {conn} round {rnd}")
        self.assertEqual(os.listdir(os.path.join(self.srv.dir, "store", "spool")), [])


if __name__ == "__main__":
    unittest.main()
