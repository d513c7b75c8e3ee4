"""cove-lmtpd: a SIGKILL of the daemon (master and workers) during a burst of
concurrent deliveries loses no acknowledged message.

Eight clients deliver tagged messages (two recipients each, out of 30 users)
as fast as the daemon takes them; the whole daemon is SIGKILLed mid-burst.
For every user the store holds at least the messages acknowledged with 250
and at most one more per client (a commit whose 250 was never sent); for one
user every acknowledged tag is checked by content (covectl fetch), none
stored twice. The store reopens and the restarted daemon delivers again.
"""
import os
import random
import re
import signal
import threading
import time
import unittest

from coveharness import CoveServer
from lmtpclient import RawLmtp, fetch, mailbox_counts, stuff

USERS = [f"burst{i}@example.org" for i in range(30)]
CLIENTS = 8


def children(pid):
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    return out


class LmtpDurability(unittest.TestCase):
    def setUp(self):
        self.srv = CoveServer(workers=2)
        for u in USERS:
            self.srv.add_user(u, "pw")
        self.srv.start("lmtpd")
        self.acked = {u: set() for u in USERS}
        self.lock = threading.Lock()
        self.stop = threading.Event()

    def tearDown(self):
        self.srv.stop()

    def client(self, n):
        rnd = random.Random(n)
        c = None
        try:
            c = RawLmtp(self.srv.ports["lmtp"], timeout=10)
            c.cmd("LHLO burst")
            i = 0
            while not self.stop.is_set():
                rcpts = rnd.sample(USERS, 2)
                tag = f"c{n}-m{i}"
                body = (f"Subject: {tag}\r\nMessage-ID: <{tag}@test>\r\n\r\n".encode()
                        + b"x" * rnd.choice((100, 2000, 30000)) + b"\r\n")
                c.send(f"MAIL FROM:<s@example.net>\r\nRCPT TO:<{rcpts[0]}>\r\n"
                       f"RCPT TO:<{rcpts[1]}>\r\nDATA\r\n".encode())
                if [r[0] for r in c.replies(4)] != [250, 250, 250, 354]:
                    return
                c.send(stuff(body))
                for rcpt, reply in zip(rcpts, c.replies(2)):
                    if reply[0] == 250:
                        with self.lock:
                            self.acked[rcpt].add(tag)
                i += 1
        except (OSError, ConnectionError, ValueError):
            pass   # the daemon died under us
        finally:
            if c is not None:
                c.close()

    def stored_tags(self, user):
        n = mailbox_counts(self.srv, user)["INBOX"]
        tags = []
        for uid in range(1, n + 1):
            m = re.search(rb"Subject: (\S+)", fetch(self.srv, user, "INBOX", uid))
            tags.append(m.group(1).decode())
        return tags

    def test_sigkill_mid_burst_loses_nothing_acknowledged(self):
        threads = [threading.Thread(target=self.client, args=(n,)) for n in range(CLIENTS)]
        for t in threads:
            t.start()
        time.sleep(0.8)
        master = self.srv.procs["lmtpd"]
        workers = children(master.pid)
        self.assertEqual(len(workers), 2)
        os.kill(master.pid, signal.SIGKILL)
        for w in workers:
            try:
                os.kill(w, signal.SIGKILL)
            except ProcessLookupError:
                pass
        master.wait()
        self.stop.set()
        for t in threads:
            t.join(30)
        log = self.srv.log_text("lmtpd")
        self.assertNotIn("AddressSanitizer", log)
        self.assertNotIn("runtime error:", log)
        del self.srv.procs["lmtpd"]

        total = sum(len(a) for a in self.acked.values())
        self.assertGreater(total, 20, "the burst delivered too little to mean anything")
        for user in USERS:
            n = mailbox_counts(self.srv, user)["INBOX"]
            self.assertGreaterEqual(n, len(self.acked[user]), f"{user}: lost messages")
            self.assertLessEqual(n, len(self.acked[user]) + CLIENTS, f"{user}: extra messages")
        stored = self.stored_tags(USERS[0])
        self.assertEqual(len(stored), len(set(stored)), "a message stored twice")
        lost = self.acked[USERS[0]] - set(stored)
        self.assertFalse(lost, f"acknowledged but not stored: {sorted(lost)}")

        # The store reopens; the daemon starts again and delivers.
        self.srv.start("lmtpd")
        c = RawLmtp(self.srv.ports["lmtp"])
        c.cmd("LHLO again")
        c.cmd("MAIL FROM:<s@example.net>")
        c.cmd("RCPT TO:<burst0@example.org>")
        c.cmd("DATA")
        c.send(stuff(b"Subject: after\r\n\r\nafter the crash\r\n"))
        self.assertEqual(c.reply()[0], 250)
        c.cmd("QUIT")
        c.close()
        print(f"\nacknowledged deliveries before SIGKILL: {total}")


if __name__ == "__main__":
    unittest.main()
