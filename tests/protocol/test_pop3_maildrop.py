"""cove-pop3d: the exclusive maildrop and its snapshot, and byte-exact RETR.

- A second login to the same maildrop gets -ERR [IN-USE]; after QUIT it works.
- Mail delivered mid-session (covectl deliver) is invisible until the next
  login; numbers, sizes and UIDLs stay put.
- A dropped connection or a SIGKILLed worker deletes nothing and leaves no
  lock behind.
- RETR of 8-bit, binary-ish, bare-LF, dot-leading and unterminated messages
  is exactly the stored bytes (covectl fetch) with LF -> CRLF and
  dot-stuffing, and the octet count equals LIST's size.
- LOGIN-DELAY refuses a too-early login with [LOGIN-DELAY].
"""
import os
import poplib
import re
import signal
import socket
import time
import unittest

from coveharness import CoveServer

BODIES = {
    "8bit": "Subject: 8 bit\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            "Grüße aus Köln — ½ € ✓\r\n".encode(),
    "binaryish": b"Subject: bin\r\n\r\n" + bytes(b for b in range(1, 256) if b not in (10, 13))
                 + b"\r\n\x00\x01\x02 nul bytes\r\n\xff\xfe\r\n",
    "barelf": b"Subject: bare\n\nline one\nline two\r\nmixed\n\nend\n",
    "dots": b"Subject: dots\r\n\r\n.\r\n..\r\n.leading\r\n...\r\nnot.leading\r\n.",
    "cr": b"Subject: lone cr\r\n\r\nabc\rdef\r\nends with cr\r",
    "nobody": b"Subject: header only",
    "big": b"Subject: big\r\n\r\n" + b"".join(
        (b"." if i % 7 == 0 else b"") + b"line %06d " % i + b"x" * 60 + (b"\n" if i % 3 else b"\r\n")
        for i in range(40000)),
}


def wire_form(stored):
    """What RETR must send for stored bytes (before dot-stuffing/terminator):
    bare LF -> CRLF, an unterminated last line terminated."""
    out = re.sub(rb"(?<!\r)\n", b"\r\n", stored)
    if out and not out.endswith(b"\n"):
        out += b"\n" if out.endswith(b"\r") else b"\r\n"
    return out


def joined(lines):
    """poplib has removed the dot-stuffing and the CRLFs already."""
    return b"".join(l + b"\r\n" for l in lines)


class Pop3Maildrop(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = CoveServer()
        for name in ("lock", "snap", "kill", "drop", "exact"):
            cls.srv.add_user(f"{name}@example.org", "pw")
        cls.srv.start("pop3d")
        cls.port = cls.srv.ports["pop3"]

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def login(self, name):
        p = poplib.POP3("127.0.0.1", self.port, timeout=15)
        p.user(f"{name}@example.org")
        p.pass_("pw")
        return p

    def test_second_login_in_use(self):
        self.srv.deliver("lock@example.org", b"Subject: x\r\n\r\nx\r\n")
        a = self.login("lock")
        b = poplib.POP3("127.0.0.1", self.port, timeout=15)
        b.user("lock@example.org")
        with self.assertRaisesRegex(poplib.error_proto, r"-ERR \[IN-USE\]"):
            b.pass_("pw")
        # Still in AUTHORIZATION: it may retry once the first one leaves.
        a.quit()
        b.user("lock@example.org")
        self.assertTrue(b.pass_("pw").startswith(b"+OK"))
        b.quit()

    def test_snapshot_ignores_new_mail(self):
        for i in range(3):
            self.srv.deliver("snap@example.org", b"Subject: %d\r\n\r\nbody %d\r\n" % (i, i))
        p = self.login("snap")
        stat, lst, uidl = p.stat(), p.list()[1], p.uidl()[1]
        self.srv.deliver("snap@example.org", b"Subject: new\r\n\r\narrived mid-session\r\n")
        self.assertEqual(p.stat(), stat)
        self.assertEqual(p.list()[1], lst)
        self.assertEqual(p.uidl()[1], uidl)
        with self.assertRaises(poplib.error_proto):
            p.retr(4)
        p.dele(1)
        p.quit()
        p = self.login("snap")
        self.assertEqual(p.stat()[0], 3, "2 old + 1 new after deleting 1")
        new_uidls = [l.split()[1] for l in p.uidl()[1]]
        self.assertEqual(new_uidls[:2], [l.split()[1] for l in uidl[1:]])
        self.assertNotIn(new_uidls[2], [l.split()[1] for l in uidl])
        self.assertEqual(p.retr(3)[1][-1], b"arrived mid-session")
        p.quit()

    def test_dropped_connection_deletes_nothing(self):
        for i in range(2):
            self.srv.deliver("drop@example.org", b"Subject: %d\r\n\r\nx\r\n" % i)
        p = self.login("drop")
        p.dele(1)
        p.dele(2)
        p.sock.shutdown(socket.SHUT_RDWR)   # no QUIT
        p.close()
        deadline = time.monotonic() + 10
        while True:
            try:
                p = self.login("drop")
                break
            except poplib.error_proto as e:
                if b"IN-USE" not in e.args[0] or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        self.assertEqual(p.stat()[0], 2)
        p.quit()

    def test_killed_worker_deletes_nothing_and_frees_lock(self):
        for i in range(2):
            self.srv.deliver("kill@example.org", b"Subject: %d\r\n\r\nx\r\n" % i)
        p = self.login("kill")
        p.dele(1)
        workers = self.srv.worker_pids("pop3d")
        self.assertEqual(len(workers), 1)
        os.kill(workers[0], signal.SIGKILL)
        with self.assertRaises((poplib.error_proto, OSError, EOFError)):
            p.quit()
        # The master restarts the worker; the kernel dropped the lock.
        deadline = time.monotonic() + 20
        while True:
            try:
                q = self.login("kill")
                break
            except (OSError, poplib.error_proto):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        self.assertEqual(q.stat()[0], 2, "the DELE of the killed session was not applied")
        q.quit()
        self.assertNotEqual(self.srv.worker_pids("pop3d"), workers)

    def test_retr_byte_exact(self):
        names = list(BODIES)
        for n in names:
            self.srv.deliver("exact@example.org", BODIES[n])
        p = self.login("exact")
        sizes = {int(l.split()[0]): int(l.split()[1]) for l in p.list()[1]}
        for i, n in enumerate(names, start=1):
            stored = self.srv.covectl("fetch", "exact@example.org", "INBOX", str(i)).stdout
            self.assertEqual(stored, BODIES[n], n)
            expect = wire_form(stored)
            resp, lines, _ = p.retr(i)
            got = joined(lines)
            self.assertEqual(got, expect, n)
            self.assertEqual(sizes[i], len(expect), n)
            self.assertEqual(resp, b"+OK %d octets" % len(expect), n)
        p.quit()

    def test_retr_raw_dot_stuffing(self):
        body = b"Subject: raw\r\n\r\n.\r\n.x\r\nend"
        self.srv.deliver("exact@example.org", body)
        p = self.login("exact")
        n = p.stat()[0]
        s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        p.quit()
        f = s.makefile("rb")
        f.readline()
        s.sendall(b"USER exact@example.org\r\nPASS pw\r\nRETR %d\r\nTOP %d 1\r\nQUIT\r\n" % (n, n))
        data = f.read()
        s.close()
        self.assertIn(b"+OK 28 octets\r\nSubject: raw\r\n\r\n..\r\n..x\r\nend\r\n.\r\n", data)
        self.assertIn(b"+OK Message follows\r\nSubject: raw\r\n\r\n..\r\n.\r\n+OK Bye", data)


class Pop3LoginDelay(unittest.TestCase):
    def test_login_delay(self):
        srv = CoveServer()
        try:
            with open(srv.conf) as f:
                text = f.read()
            with open(srv.conf, "w") as f:
                f.write(text.replace("[pop3]\n", "[pop3]\nlogin_delay = 1h\n", 1))
            srv.add_user("d@example.org", "pw")
            srv.start("pop3d")
            p = poplib.POP3("127.0.0.1", srv.ports["pop3"], timeout=10)
            self.assertIn("LOGIN-DELAY", p.capa())
            self.assertEqual(p.capa()["LOGIN-DELAY"], ["3600"])
            p.user("d@example.org")
            p.pass_("pw")
            p.quit()
            p = poplib.POP3("127.0.0.1", srv.ports["pop3"], timeout=10)
            p.user("d@example.org")
            with self.assertRaisesRegex(poplib.error_proto, r"-ERR \[LOGIN-DELAY\]"):
                p.pass_("pw")
            p.quit()
        finally:
            srv.stop()


if __name__ == "__main__":
    unittest.main()
