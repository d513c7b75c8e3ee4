"""cove-imapd bad input and grammar over raw sockets: synchronising and
non-synchronising literals, oversize literals refused (before reading, or
read into nothing) with the session surviving, syntax errors, nesting
bounds, long lines, and thousands of pipelined commands answered in order."""
import unittest

from coveharness import CoveServer
from imaptestlib import RawIMAP

USER, PASSWORD = "carol@example.com", "pw-carol"


class ImapSyntax(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = CoveServer(extra_conf="[limits]\nmax_message_size = 64k\n")
        cls.srv.add_user(USER, PASSWORD)
        cls.srv.deliver(USER, b"Subject: one\r\n\r\nhello\r\n")
        cls.srv.start("imapd")

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def client(self, login=True):
        c = RawIMAP(self.srv.ports["imap"])
        self.addCleanup(c.close)
        if login:
            lines = c.cmd(b"L", b"LOGIN " + USER.encode() + b" " + PASSWORD.encode())
            self.assertTrue(lines[-1].startswith(b"L OK"), lines)
        return c

    def assertTagged(self, lines, tag, status):
        self.assertTrue(lines[-1].startswith(tag + b" " + status), lines)

    def test_sync_literal(self):
        c = self.client(login=False)
        c.send(b"a1 LOGIN {17}\r\n")
        self.assertTrue(c.line().startswith(b"+ "))
        c.send(USER.encode() + b" {8}\r\n")
        self.assertTrue(c.line().startswith(b"+ "))
        c.send(PASSWORD.encode() + b"\r\n")
        self.assertTagged(c.until_tagged(b"a1"), b"a1", b"OK")

    def test_nonsync_literal(self):
        c = self.client(login=False)
        c.send(b"a1 LOGIN {17+}\r\n" + USER.encode() + b" {8+}\r\n" + PASSWORD.encode()
               + b"\r\n")
        self.assertTagged(c.until_tagged(b"a1"), b"a1", b"OK")
        msg = b"Subject: lit+\r\n\r\nbody\r\n"
        c.send(b"a2 APPEND INBOX (\\Seen) {%d+}\r\n" % len(msg) + msg + b"\r\n")
        self.assertTagged(c.until_tagged(b"a2"), b"a2", b"OK [APPENDUID")

    def test_oversize_sync_literal_refused(self):
        c = self.client()
        c.send(b"b1 APPEND INBOX {999999}\r\n")
        self.assertEqual(c.line(), b"b1 NO [TOOBIG] Literal too large")
        self.assertTagged(c.cmd(b"b2", b"NOOP"), b"b2", b"OK")
        c.send(b"b3 SELECT {99999999}\r\n")   # not an APPEND: the line limit applies
        self.assertTrue(c.line().startswith(b"b3 NO [TOOBIG]"))
        self.assertTagged(c.cmd(b"b4", b"NOOP"), b"b4", b"OK")

    def test_oversize_nonsync_literal_discarded(self):
        c = self.client()
        junk = b"A001 LOGOUT\r\n" * 8000   # would log us out if it were parsed
        c.send(b"c1 APPEND INBOX {%d+}\r\n" % len(junk) + junk + b" trailing\r\n")
        self.assertEqual(c.until_tagged(b"c1")[-1], b"c1 NO [TOOBIG] Literal too large")
        self.assertTagged(c.cmd(b"c2", b"NOOP"), b"c2", b"OK")

    def test_bad_syntax_session_goes_on(self):
        c = self.client()
        cases = [b'x1 SELECT "INBOX', b"x2 FROBNICATE", b"x3 SELECT", b"x4 STATUS INBOX",
                 b'x5 LIST "" "*" extra junk', b"x6 FETCH 1 FLAGS", b"x7 UID",
                 b"x8 SELECT ((", b"x9 LOGIN {abc}", b"x10 NOOP )",
                 b'x11 STATUS INBOX (MESSAGES"', b"x12 STORE 1 +FLAGS (\\Seen"]
        for line in cases:
            tag = line.split()[0]
            c.send(line + b"\r\n")
            reply = c.until_tagged(tag)
            self.assertRegex(reply[-1], rb"^" + tag + rb" (BAD|NO) ", line)
        c.send(b"\x01\x02 NOOP\r\n")
        self.assertTrue(c.line().startswith(b"* BAD"))
        self.assertTagged(c.cmd(b"y1", b"SELECT INBOX"), b"y1", b"OK")
        self.assertTagged(c.cmd(b"y2", b"FETCH 99 FLAGS"), b"y2", b"BAD")
        self.assertTagged(c.cmd(b"y3", b"FETCH 1:* (UID)"), b"y3", b"OK")

    def test_nesting_bounded(self):
        c = self.client()
        deep = b"(" * 100 + b")" * 100
        self.assertTagged(c.cmd(b"n1", b"ID " + deep), b"n1", b"BAD")
        c.cmd(b"n2", b"SELECT INBOX")
        self.assertTagged(c.cmd(b"n3", b"SEARCH " + b"(" * 50 + b"ALL" + b")" * 50),
                          b"n3", b"BAD")
        self.assertTagged(c.cmd(b"n4", b"NOOP"), b"n4", b"OK")

    def test_long_line(self):
        c = self.client()
        c.send(b"l1 NOOP " + b"x" * 70000 + b"\r\n")
        self.assertEqual(c.line(), b"* BAD Command line too long")
        self.assertTagged(c.cmd(b"l2", b"NOOP"), b"l2", b"OK")

    def test_pipelining_in_order(self):
        c = self.client()
        n = 3000
        batch = b"".join(b"p%d %s\r\n" % (i, b"NOOP" if i % 3 else b"CAPABILITY")
                         for i in range(n))
        c.send(b"s SELECT INBOX\r\n" + batch + b"z LOGOUT\r\n")
        c.until_tagged(b"s")
        for i in range(n):
            lines = c.until_tagged(b"p%d" % i)
            self.assertTrue(lines[-1].startswith(b"p%d OK" % i), lines)
        self.assertTrue(c.until_tagged(b"z")[-1].startswith(b"z OK"))

    def test_starttls_injection_dropped(self):
        c = RawIMAP(self.srv.ports["imap"])
        self.addCleanup(c.close)
        c.send(b"t1 STARTTLS\r\nt2 LOGIN " + USER.encode() + b" " + PASSWORD.encode()
               + b"\r\n")
        self.assertTrue(c.line().startswith(b"t1 OK"))
        import ssl
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        c.sock = ctx.wrap_socket(c.sock)
        c.buf = b""
        lines = c.cmd(b"t3", b"CAPABILITY")
        self.assertFalse(any(l.startswith(b"t2") for l in lines), lines)
        self.assertTagged(lines, b"t3", b"OK")
        self.assertNotIn(b"STARTTLS", lines[0])


if __name__ == "__main__":
    unittest.main()
