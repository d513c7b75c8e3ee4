"""cove-imapd: \\Recent per RFC 3501 section 2.3.2.

A message is \\Recent in exactly one session: the first to SELECT the mailbox
after it arrived (the store's per-mailbox recent_uid watermark). Covers SELECT
reporting and FETCH FLAGS, a second session getting none, EXAMINE not
consuming, a delivery while selected being \\Recent only for the session that
had it selected, SEARCH RECENT/NEW/OLD and STATUS (RECENT).
"""
import re
import time
import unittest

from coveharness import CoveServer
from imaptestlib import RawIMAP

USER, PASSWORD = "rec@example.org", "pw-recent"


def message(n):
    return f"From: a@example.org\r\nSubject: m{n}\r\n\r\nbody {n}\r\n".encode()


class Session:
    def __init__(self, port):
        self.raw = RawIMAP(port, timeout=20)
        self.n = 0
        self.ok("LOGIN " + USER + " " + PASSWORD)

    def cmd(self, text):
        self.n += 1
        tag = b"t%d" % self.n
        return self.raw.cmd(tag, text.encode())

    def ok(self, text):
        lines = self.cmd(text)
        assert re.match(rb"^t\d+ OK", lines[-1]), (text, lines)
        return lines

    def number(self, lines, word):
        for line in lines:
            m = re.match(rb"^\* (\d+) " + word.encode() + rb"$", line)
            if m:
                return int(m.group(1))
        raise AssertionError(f"no {word} in {lines!r}")

    def recent_flags(self):
        lines = self.ok("FETCH 1:* (UID FLAGS)")
        out = {}
        for line in lines:
            m = re.match(rb"^\* \d+ FETCH \(UID (\d+) FLAGS \(([^)]*)\)\)$", line)
            if m:
                out[int(m.group(1))] = b"\\Recent" in m.group(2).split()
        return out

    def search(self, key):
        for line in self.ok("UID SEARCH " + key):
            if line.startswith(b"* SEARCH"):
                return {int(x) for x in line.split()[2:]}
        raise AssertionError("no SEARCH response")

    def status_recent(self, box):
        for line in self.ok(f"STATUS {box} (RECENT MESSAGES)"):
            m = re.match(rb"^\* STATUS \S+ \(RECENT (\d+) MESSAGES (\d+)\)$", line)
            if m:
                return int(m.group(1))
        raise AssertionError("no STATUS response")

    def idle_until(self, tag, deliver, last):
        """IDLE as tag; deliver(); the pushed lines up to and including
        last. Stays idling (done() ends it)."""
        self.raw.send(tag + b" IDLE\r\n")
        assert self.raw.line().startswith(b"+ ")
        deliver()
        pushed = []
        while last not in pushed:
            line = self.raw.line()
            assert line.startswith(b"* "), line
            pushed.append(line)
        return pushed

    def done(self, tag):
        self.raw.send(b"DONE\r\n")
        assert re.match(rb"^" + tag + rb" OK", self.raw.until_tagged(tag)[-1])

    def close(self):
        self.cmd("LOGOUT")
        self.raw.close()


class RecentServer(unittest.TestCase):
    """One imapd for the class, started with SERVER_ARGS (no tests here)."""
    SERVER_ARGS = {}

    @classmethod
    def setUpClass(cls):
        cls.srv = CoveServer(**cls.SERVER_ARGS)
        cls.srv.add_user(USER, PASSWORD)
        cls.srv.start("imapd")
        cls.port = cls.srv.ports["imap"]

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()


class ImapRecent(RecentServer):

    def fresh_box(self, name, count):
        self.srv.covectl("mailbox", "create", USER, name)
        for i in range(count):
            self.srv.deliver(USER, message(i), mailbox=name)

    def test_first_select_gets_recent(self):
        self.fresh_box("First", 3)
        a = Session(self.port)
        self.assertEqual(a.status_recent("First"), 3)
        lines = a.ok("SELECT First")
        self.assertEqual(a.number(lines, "EXISTS"), 3)
        self.assertEqual(a.number(lines, "RECENT"), 3)
        self.assertEqual(a.recent_flags(), {1: True, 2: True, 3: True})
        self.assertEqual(a.search("RECENT"), {1, 2, 3})
        self.assertEqual(a.search("NEW"), {1, 2, 3})
        self.assertEqual(a.search("OLD"), set())
        a.ok("STORE 1 +FLAGS (\\Seen)")
        self.assertEqual(a.search("NEW"), {2, 3})
        self.assertEqual(a.status_recent("First"), 3, "own selected mailbox: the view")
        b = Session(self.port)
        self.assertEqual(b.status_recent("First"), 0, "claimed by A")
        lines = b.ok("SELECT First")
        self.assertEqual(b.number(lines, "RECENT"), 0)
        self.assertEqual(b.recent_flags(), {1: False, 2: False, 3: False})
        self.assertEqual(b.search("RECENT"), set())
        self.assertEqual(b.search("OLD"), {1, 2, 3})
        # A reselecting does not get them again either.
        lines = a.ok("SELECT First")
        self.assertEqual(a.number(lines, "RECENT"), 0)
        a.close()
        b.close()

    def test_examine_does_not_consume(self):
        self.fresh_box("Exam", 2)
        a = Session(self.port)
        lines = a.ok("EXAMINE Exam")
        self.assertEqual(a.number(lines, "EXISTS"), 2)
        a.ok("CLOSE")
        b = Session(self.port)
        lines = b.ok("SELECT Exam")
        self.assertEqual(b.number(lines, "RECENT"), 2, "EXAMINE left them \\Recent")
        lines = a.ok("EXAMINE Exam")
        self.assertEqual(a.number(lines, "RECENT"), 0)
        a.close()
        b.close()

    def wait_exists(self, s, want):
        """NOOP until the session has been told about want messages."""
        deadline = time.time() + 10
        while time.time() < deadline:
            lines = s.ok("NOOP")
            for line in lines:
                m = re.match(rb"^\* (\d+) EXISTS$", line)
                if m and int(m.group(1)) == want:
                    return lines
            time.sleep(0.05)
        raise AssertionError(f"never saw {want} EXISTS")

    def test_delivery_while_selected(self):
        self.fresh_box("Live", 1)
        a = Session(self.port)
        lines = a.ok("SELECT Live")
        self.assertEqual(a.number(lines, "RECENT"), 1)
        b = Session(self.port)
        lines = b.ok("SELECT Live")
        self.assertEqual(b.number(lines, "RECENT"), 0)
        # A NOOPs first: the new message becomes \Recent for A, not for B.
        self.srv.deliver(USER, message(10), mailbox="Live")
        lines = self.wait_exists(a, 2)
        self.assertEqual(a.number(lines, "RECENT"), 2)
        lines = self.wait_exists(b, 2)
        self.assertEqual(b.number(lines, "RECENT"), 0)
        self.assertEqual(a.recent_flags(), {1: True, 2: True})
        self.assertEqual(b.recent_flags(), {1: False, 2: False})
        # The next one goes to B when B looks first.
        self.srv.deliver(USER, message(11), mailbox="Live")
        lines = self.wait_exists(b, 3)
        self.assertEqual(b.number(lines, "RECENT"), 1)
        lines = self.wait_exists(a, 3)
        self.assertEqual(a.number(lines, "RECENT"), 2)
        self.assertEqual(a.search("RECENT"), {1, 2})
        self.assertEqual(b.search("RECENT"), {3})
        c = Session(self.port)
        self.assertEqual(c.status_recent("Live"), 0)
        lines = c.ok("SELECT Live")
        self.assertEqual(c.number(lines, "RECENT"), 0)
        for s in (a, b, c):
            s.close()

    def test_own_append_and_copy_while_selected(self):
        # The session's own APPEND (and COPY) into its selected mailbox: the
        # EXISTS and RECENT come with the command's reply (the view syncs,
        # and claims, inside the write batch), the message is \Recent here
        # and nowhere else.
        self.fresh_box("Own", 1)
        a = Session(self.port)
        b = Session(self.port)
        lines = a.ok("SELECT Own")
        self.assertEqual(a.number(lines, "RECENT"), 1)
        b.ok("SELECT Own")
        msg = message(20)
        a.n += 1
        tag = b"t%d" % a.n
        lines = a.raw.cmd(tag, b"APPEND Own {%d+}\r\n" % len(msg) + msg)
        self.assertRegex(lines[-1], rb"^t\d+ OK")
        self.assertEqual(a.number(lines, "EXISTS"), 2, lines)
        self.assertEqual(a.number(lines, "RECENT"), 2, lines)
        lines = a.ok("COPY 1 Own")
        self.assertEqual(a.number(lines, "EXISTS"), 3, lines)
        self.assertEqual(a.number(lines, "RECENT"), 3, lines)
        self.assertEqual(a.recent_flags(), {1: True, 2: True, 3: True})
        lines = self.wait_exists(b, 3)
        self.assertEqual(b.number(lines, "RECENT"), 0)
        self.assertEqual(b.search("RECENT"), set())
        c = Session(self.port)
        self.assertEqual(c.status_recent("Own"), 0, "claimed by A for good")
        for s in (a, b, c):
            s.close()

    def test_delivery_pushed_to_idle(self):
        # An IDLE session is pushed the new message with its RECENT count:
        # it claims it (the claim waits for the worker's write batch), so a
        # session that looks later does not get it.
        self.fresh_box("Idle", 1)
        a = Session(self.port)
        a.ok("SELECT Idle")
        b = Session(self.port)
        b.ok("SELECT Idle")
        pushed = a.idle_until(b"i1", lambda: self.srv.deliver(USER, message(30), mailbox="Idle"),
                              b"* 2 RECENT")
        self.assertIn(b"* 2 EXISTS", pushed)
        a.done(b"i1")
        self.assertEqual(a.recent_flags(), {1: True, 2: True})
        lines = self.wait_exists(b, 2)
        self.assertEqual(b.number(lines, "RECENT"), 0)
        self.assertEqual(b.recent_flags(), {1: False, 2: False})
        # A second delivery while A idles again.
        a.idle_until(b"i2", lambda: self.srv.deliver(USER, message(31), mailbox="Idle"),
                     b"* 3 RECENT")
        a.done(b"i2")
        self.assertEqual(a.search("RECENT"), {1, 2, 3})
        for s in (a, b):
            s.close()

    def test_status_counts_unclaimed(self):
        self.fresh_box("Stat", 2)
        a = Session(self.port)
        self.assertEqual(a.status_recent("Stat"), 2)
        self.srv.deliver(USER, message(3), mailbox="Stat")
        self.assertEqual(a.status_recent("Stat"), 3)
        a.ok("SELECT Stat")
        a.ok("UNSELECT")
        self.assertEqual(a.status_recent("Stat"), 0)
        self.srv.deliver(USER, message(4), mailbox="Stat")
        self.assertEqual(a.status_recent("Stat"), 1)
        a.close()


class RecentClaimSlowCommit(RecentServer):
    """\\Recent claims made in the write batch, with every commit slowed down
    (fault engine, 300 ms holding the writer lock): whatever tells a client
    it got a message as \\Recent (SELECT, a NOOP's or an IDLE push's RECENT)
    arrives only once the claim is committed, so a session that looks right
    after never gets the same message as \\Recent too."""

    SERVER_ARGS = {"engine": "fault",
                   "store_conf": "fault_inner = lmdb\nfault_commit_delay_ms = 300\n"}

    def test_select_noop_and_idle_claims_are_committed_before_told(self):
        self.srv.covectl("mailbox", "create", USER, "Slow")
        self.srv.deliver(USER, message(1), mailbox="Slow")
        a = Session(self.port)
        b = Session(self.port)
        lines = a.ok("SELECT Slow")
        self.assertEqual(a.number(lines, "RECENT"), 1)
        self.assertEqual(b.status_recent("Slow"), 0, "SELECT answered before its claim")
        # A NOOP that brings a new message claims it.
        self.srv.deliver(USER, message(2), mailbox="Slow")
        lines = a.ok("NOOP")
        self.assertEqual(a.number(lines, "RECENT"), 2, lines)
        self.assertEqual(b.status_recent("Slow"), 0, "NOOP answered before its claim")
        # So does an IDLE push.
        a.idle_until(b"i1", lambda: self.srv.deliver(USER, message(3), mailbox="Slow"),
                     b"* 3 RECENT")
        self.assertEqual(b.status_recent("Slow"), 0, "IDLE push sent before its claim")
        a.done(b"i1")
        lines = b.ok("SELECT Slow")
        self.assertEqual(b.number(lines, "RECENT"), 0)
        for s in (a, b):
            s.close()


if __name__ == "__main__":
    unittest.main()
