"""cove-imapd sessions seeing each other: IDLE receiving a delivery and
another session's EXPUNGE and flag change (pushed, no NOOP), NOOP seeing
changes, no EXPUNGE during FETCH/STORE/SEARCH, and POP3 coordination
(INUSE while POP3 holds the maildrop, POP3 deletions reaching IMAP)."""
import os
import poplib
import select
import time
import unittest

from coveharness import CoveServer, DAEMONS
from imaptestlib import RawIMAP

USER, PASSWORD = "dave@example.com", "pw-dave"


def msg(n):
    return b"From: x@example.com\r\nSubject: m%d\r\n\r\nbody %d\r\n" % (n, n)


class ImapConcurrency(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = CoveServer(workers=2)
        cls.srv.add_user(USER, PASSWORD)
        cls.daemons = ["imapd"] + (["pop3d"] if os.path.exists(DAEMONS["pop3d"]) else [])
        cls.srv.start(*cls.daemons)

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def client(self, box="INBOX"):
        c = RawIMAP(self.srv.ports["imap"])
        self.addCleanup(c.close)
        self.assertTrue(c.cmd(b"L", b"LOGIN " + USER.encode() + b" " + PASSWORD.encode())
                        [-1].startswith(b"L OK"))
        if box is not None:
            self.assertTrue(c.cmd(b"S", b"SELECT " + box.encode())[-1].startswith(b"S OK"))
        return c

    def wait_line(self, c, pattern, timeout=5.0):
        """Reads untagged lines until one contains pattern (pushed output)."""
        deadline = time.monotonic() + timeout
        seen = []
        while time.monotonic() < deadline:
            if b"\r\n" not in c.buf:
                r, _, _ = select.select([c.sock], [], [], deadline - time.monotonic())
                if not r:
                    break
            line = c.line()
            seen.append(line)
            if pattern in line:
                return seen
        self.fail(f"{pattern!r} not pushed; saw {seen!r}")

    def fresh_box(self, name, count):
        c = self.client(box=None)
        c.cmd(b"c", b"CREATE " + name.encode())
        for i in range(count):
            self.srv.deliver(USER, msg(i), mailbox=name)
        return name

    def test_idle_sees_delivery_expunge_and_flags(self):
        box = self.fresh_box("IdleBox", 2)
        idler, other = self.client(box), self.client(box)
        idler.send(b"i1 IDLE\r\n")
        self.assertTrue(idler.line().startswith(b"+ "))
        self.srv.deliver(USER, msg(9), mailbox=box)              # covectl deliver
        self.wait_line(idler, b"* 3 EXISTS")
        other.cmd(b"o1", b"STORE 1 +FLAGS (\\Flagged)")
        # The idler selected first: UID 1 is \Recent for it (RFC 3501 §2.3.2).
        self.wait_line(idler, b"* 1 FETCH (UID 1 FLAGS (\\Flagged \\Recent))")
        other.cmd(b"o2", b"STORE 2 +FLAGS (\\Deleted)")
        other.cmd(b"o3", b"EXPUNGE")
        self.wait_line(idler, b"* 2 EXPUNGE")
        idler.send(b"DONE\r\n")
        self.assertTrue(idler.until_tagged(b"i1")[-1].startswith(b"i1 OK"))
        self.assertTrue(idler.cmd(b"i2", b"FETCH 2 (UID)")[0].startswith(b"* 2 FETCH (UID 3"))

    def test_noop_sees_changes_and_fetch_defers_expunge(self):
        box = self.fresh_box("NoopBox", 3)
        a, b = self.client(box), self.client(box)
        b.cmd(b"b1", b"STORE 1:3 +FLAGS (\\Deleted)")
        b.cmd(b"b2", b"UID EXPUNGE 2")
        self.srv.deliver(USER, msg(7), mailbox=box)
        # RFC 3501 §7.4.1: no EXPUNGE while answering FETCH / STORE / SEARCH.
        lines = a.cmd(b"a1", b"FETCH 1:* (UID)")
        self.assertFalse(any(l.endswith(b"EXPUNGE") for l in lines), lines)
        self.assertIn(b"* 4 EXISTS", lines)
        lines = a.cmd(b"a2", b"SEARCH ALL")
        self.assertFalse(any(l.endswith(b"EXPUNGE") for l in lines), lines)
        lines = a.cmd(b"a3", b"NOOP")
        self.assertIn(b"* 2 EXPUNGE", lines)
        lines = a.cmd(b"a4", b"FETCH 1:* (UID)")
        self.assertEqual([l for l in lines if b"FETCH" in l],
                         [b"* 1 FETCH (UID 1)", b"* 2 FETCH (UID 3)", b"* 3 FETCH (UID 4)"])
        b.cmd(b"b3", b"STORE 1 -FLAGS (\\Deleted)")
        # a selected first, so UID 1 is \Recent for a (RFC 3501 §2.3.2).
        self.assertIn(b"* 1 FETCH (UID 1 FLAGS (\\Recent))", a.cmd(b"a5", b"NOOP"))

    def test_uid_fetch_allows_expunge(self):
        box = self.fresh_box("UidBox", 2)
        a, b = self.client(box), self.client(box)
        b.cmd(b"b1", b"STORE 1 +FLAGS (\\Deleted)")
        b.cmd(b"b2", b"EXPUNGE")
        lines = a.cmd(b"a1", b"UID FETCH 1:* (FLAGS)")
        self.assertIn(b"* 1 EXPUNGE", lines)

    @unittest.skipUnless(os.path.exists(DAEMONS["pop3d"]), "cove-pop3d not built")
    def test_pop3_holds_maildrop(self):
        self.srv.deliver(USER, msg(1))
        self.srv.deliver(USER, msg(2))
        imap = self.client("INBOX")
        idler = self.client("INBOX")
        imap.cmd(b"f", b"STORE 1:* +FLAGS (\\Deleted)")
        pop = poplib.POP3("127.0.0.1", self.srv.ports["pop3"])
        pop.user(USER)
        pop.pass_(PASSWORD)
        self.assertIn(b"NO [INUSE]", imap.cmd(b"e1", b"EXPUNGE")[-1])
        self.assertIn(b"NO [INUSE]", imap.cmd(b"e2", b"CLOSE")[-1])
        imap.cmd(b"cr", b"CREATE Elsewhere")
        self.assertIn(b"NO [INUSE]", imap.cmd(b"e3", b"MOVE 1 Elsewhere")[-1])
        self.assertTrue(imap.cmd(b"e4", b"STORE 1 -FLAGS (\\Deleted)")[-1].startswith(b"e4 OK"))
        count = len(pop.list()[1])
        idler.send(b"i IDLE\r\n")
        self.assertTrue(idler.line().startswith(b"+ "))
        pop.dele(1)
        pop.quit()
        self.wait_line(idler, b"* 1 EXPUNGE")
        idler.send(b"DONE\r\n")
        idler.until_tagged(b"i")
        self.assertGreaterEqual(count, 2)
        self.assertTrue(imap.cmd(b"e5", b"EXPUNGE")[-1].startswith(b"e5 OK"))


if __name__ == "__main__":
    unittest.main()
