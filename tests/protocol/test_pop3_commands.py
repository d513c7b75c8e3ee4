"""cove-pop3d: every RFC 1939 / 2449 command, its replies and its errors.

Drives the real daemon with poplib and raw sockets: greeting, CAPA, USER/PASS,
STAT, LIST, UIDL, RETR, TOP, DELE, RSET, NOOP, QUIT, LAST, UTF8, APOP's
refusal, wrong-state / unknown / malformed commands, over-long lines, the
abuse limit, pipelining and the default domain. Plaintext refusal on a
non-loopback link is in test_auth_remote.py (a real link in a network
namespace).
"""
import poplib
import socket
import unittest

from coveharness import CoveServer

MSGS = [
    b"From: a@example.org\r\nSubject: one\r\n\r\nfirst body\r\n",
    b"From: b@example.org\r\nSubject: two\r\n\r\nline 1\r\nline 2\r\nline 3\r\n",
    b"Subject: three\n\nbare lf\n.leading dot\n..two dots\nlast line no newline",
]


class Raw:
    """A raw POP3 client: exact bytes in and out."""

    def __init__(self, port, timeout=10):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.f = self.sock.makefile("rb")
        self.greeting = self.line()

    def send(self, data):
        self.sock.sendall(data)

    def line(self):
        return self.f.readline()

    def cmd(self, text):
        self.send(text.encode() + b"\r\n")
        return self.line()

    def multi(self):
        lines = []
        while True:
            line = self.line()
            if line in (b".\r\n", b""):
                return lines
            lines.append(line)

    def close(self):
        self.f.close()
        self.sock.close()


class Pop3Commands(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = CoveServer()
        # default_domain lets bare names log in; LAST, EXPIRE and LOGIN-DELAY on.
        with open(cls.srv.conf) as f:
            text = f.read()
        text = text.replace("[server]\n", "[server]\ndefault_domain = example.org\n")
        text = text.replace("[pop3]\n", "[pop3]\nenable_last = yes\nexpire = 30\n"
                            "max_bad_commands = 6\n")
        with open(cls.srv.conf, "w") as f:
            f.write(text)
        for i in range(1, 8):
            cls.srv.add_user(f"u{i}@example.org", f"pw{i}")
            for m in MSGS:
                cls.srv.deliver(f"u{i}@example.org", m)
        cls.srv.start("pop3d")
        cls.port = cls.srv.ports["pop3"]

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def login(self, n):
        p = poplib.POP3("127.0.0.1", self.port, timeout=10)
        p.user(f"u{n}@example.org")
        p.pass_(f"pw{n}")
        return p

    def raw_login(self, n):
        r = Raw(self.port)
        self.assertTrue(r.cmd(f"USER u{n}@example.org").startswith(b"+OK"))
        self.assertTrue(r.cmd(f"PASS pw{n}").startswith(b"+OK"))
        return r

    def test_greeting_and_capa(self):
        r = Raw(self.port)
        self.assertTrue(r.greeting.startswith(b"+OK "))
        self.assertNotIn(b"<", r.greeting, "no APOP timestamp: APOP is off")
        self.assertEqual(r.cmd("CAPA"), b"+OK Capability list follows\r\n")
        caps = [c.rstrip(b"\r\n").decode() for c in r.multi()]
        for cap in ("TOP", "UIDL", "USER", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING",
                    "STLS", "UTF8", "EXPIRE 30", "IMPLEMENTATION Cove"):
            self.assertIn(cap, caps)
        sasl = [c for c in caps if c.startswith("SASL ")][0].split()[1:]
        self.assertEqual(sorted(sasl), ["LOGIN", "PLAIN", "SCRAM-SHA-256"])
        # After login: no USER/SASL/STLS (RFC 2449 §5).
        r.cmd("USER u1@example.org")
        r.cmd("PASS pw1")
        r.cmd("CAPA")
        caps = [c.rstrip(b"\r\n").decode() for c in r.multi()]
        self.assertIn("TOP", caps)
        self.assertNotIn("USER", caps)
        self.assertNotIn("STLS", caps)
        self.assertTrue(r.cmd("QUIT").startswith(b"+OK"))
        r.close()

    def test_stat_list_uidl_retr_top(self):
        p = self.login(1)
        count, size = p.stat()
        self.assertEqual(count, 3)
        resp, lines, _ = p.list()
        sizes = [int(l.split()[1]) for l in lines]
        self.assertEqual(sum(sizes), size)
        self.assertEqual(p.list(2), b"+OK 2 %d" % sizes[1])
        resp, uidls, _ = p.uidl()
        ids = [u.split()[1] for u in uidls]
        self.assertEqual(len(set(ids)), 3)
        self.assertEqual(p.uidl(3).split()[2], ids[2])
        for u in ids:
            self.assertTrue(1 <= len(u) <= 70 and all(0x21 <= c <= 0x7E for c in u))
        # RETR's octets equal LIST's size for every message.
        for n in (1, 2, 3):
            resp, lines, octets = p.retr(n)
            self.assertEqual(resp, b"+OK %d octets" % sizes[n - 1])
            body = b"".join(l + b"\r\n" for l in lines)
            self.assertEqual(len(body), sizes[n - 1])
        resp, lines, _ = p.top(2, 1)
        self.assertEqual(lines, [b"From: b@example.org", b"Subject: two", b"", b"line 1"])
        resp, lines, _ = p.top(2, 0)
        self.assertEqual(lines, [b"From: b@example.org", b"Subject: two", b""])
        resp, lines, _ = p.top(3, 99999999999)
        self.assertEqual(lines[-1], b"last line no newline")
        p.quit()

    def test_dele_rset_quit_update(self):
        p = self.login(2)
        self.assertEqual(p.dele(1), b"+OK Message 1 deleted")
        with self.assertRaisesRegex(poplib.error_proto, "already deleted"):
            p.retr(1)
        with self.assertRaisesRegex(poplib.error_proto, "already deleted"):
            p.dele(1)
        with self.assertRaisesRegex(poplib.error_proto, "already deleted"):
            p.list(1)
        self.assertEqual(p.stat()[0], 2)
        self.assertEqual(len(p.list()[1]), 2)
        self.assertTrue(p.rset().startswith(b"+OK"))
        self.assertEqual(p.stat()[0], 3)
        uidls = p.uidl()[1]
        p.dele(2)
        self.assertTrue(p.quit().startswith(b"+OK"))
        p = self.login(2)
        self.assertEqual(p.stat()[0], 2)
        left = p.uidl()[1]
        self.assertEqual([l.split()[1] for l in left],
                         [uidls[0].split()[1], uidls[2].split()[1]],
                         "UIDLs stay with their messages; numbers are renumbered")
        p.quit()

    def test_noop_last_utf8_apop(self):
        r = Raw(self.port)
        self.assertEqual(r.cmd("UTF8"), b"+OK UTF8 enabled\r\n")
        self.assertTrue(r.cmd("APOP u3@example.org 0123456789abcdef0123456789abcdef")
                        .startswith(b"-ERR [AUTH]"))
        r.cmd("USER u3@example.org")
        r.cmd("PASS pw3")
        self.assertEqual(r.cmd("NOOP"), b"+OK\r\n")
        self.assertEqual(r.cmd("LAST"), b"+OK 0\r\n")
        r.cmd("RETR 2")
        r.multi()
        self.assertEqual(r.cmd("LAST"), b"+OK 2\r\n")
        self.assertTrue(r.cmd("RSET").startswith(b"+OK"))
        self.assertEqual(r.cmd("LAST"), b"+OK 0\r\n")
        self.assertTrue(r.cmd("QUIT").startswith(b"+OK"))
        r.close()

    def check_errors(self, commands, logged_in):
        """Each command gets -ERR and the session goes on (a fresh session
        every few commands keeps below the abuse limit)."""
        for i in range(0, len(commands), 4):
            r = self.raw_login(4) if logged_in else Raw(self.port)
            for c in commands[i:i + 4]:
                reply = r.cmd(c)
                self.assertTrue(reply.startswith(b"-ERR "), (c, reply))
                self.assertTrue(r.cmd("CAPA").startswith(b"+OK"), f"session died after {c!r}")
                r.multi()
            self.assertTrue(r.cmd("QUIT").startswith(b"+OK"))
            r.close()

    def test_wrong_state(self):
        self.check_errors(["STAT", "LIST", "RETR 1", "DELE 1", "NOOP", "RSET", "UIDL",
                           "TOP 1 1", "LAST"], logged_in=False)
        self.check_errors(["USER x", "PASS y", "STLS", "AUTH PLAIN", "UTF8", "APOP a b"],
                          logged_in=True)

    def test_bad_arguments(self):
        self.check_errors(["RETR", "RETR 0", "RETR 4", "RETR -1", "RETR +1", "RETR x",
                           "RETR 1 2", "RETR 99999999999999999999999", "LIST 0", "DELE",
                           "TOP 1", "TOP 1 -1", "TOP 1 x", "TOP 0 1", "UIDL 9", "LIST  1",
                           "LIST 1 ", "STAT 1", "NOOP x", "FOO", "RETRX 1", ""],
                          logged_in=True)

    def test_line_too_long_and_nul(self):
        r = Raw(self.port)
        self.assertTrue(r.cmd("NOOP " + "x" * 5000).startswith(b"-ERR Line too long"))
        self.assertTrue(r.cmd("US\0ER x").startswith(b"-ERR"))
        self.assertTrue(r.cmd("CAPA").startswith(b"+OK"))
        r.multi()
        r.close()

    def test_abuse_disconnects(self):
        r = Raw(self.port)
        replies = [r.cmd("BOGUS") for _ in range(6)]
        self.assertTrue(all(x.startswith(b"-ERR") for x in replies))
        self.assertEqual(r.line(), b"", "server closed the connection")
        r.close()

    def test_pipelining(self):
        r = Raw(self.port)
        r.send(b"USER u5@example.org\r\nPASS pw5\r\nSTAT\r\nRETR 1\r\nLIST\r\nUIDL 2\r\n"
               b"TOP 2 0\r\nNOOP\r\nQUIT\r\n")
        self.assertTrue(r.line().startswith(b"+OK"))
        self.assertTrue(r.line().startswith(b"+OK"))
        self.assertTrue(r.line().startswith(b"+OK 3 "))
        self.assertTrue(r.line().startswith(b"+OK"))
        self.assertEqual(r.multi()[-1], b"first body\r\n")
        self.assertTrue(r.line().startswith(b"+OK 3 messages"))
        self.assertEqual(len(r.multi()), 3)
        self.assertTrue(r.line().startswith(b"+OK 2 "))
        self.assertTrue(r.line().startswith(b"+OK"))
        self.assertEqual(r.multi()[-1], b"\r\n")
        self.assertEqual(r.line(), b"+OK\r\n")
        self.assertTrue(r.line().startswith(b"+OK Bye"))
        self.assertEqual(r.line(), b"")
        r.close()

    def test_default_domain_and_bad_password(self):
        p = poplib.POP3("127.0.0.1", self.port, timeout=10)
        p.user("u6")
        self.assertTrue(p.pass_("pw6").startswith(b"+OK"))
        p.quit()
        p = poplib.POP3("127.0.0.1", self.port, timeout=10)
        p.user("u6@example.org")
        with self.assertRaisesRegex(poplib.error_proto, r"-ERR \[AUTH\]"):
            p.pass_("wrong")
        p.user("nobody@example.org")
        with self.assertRaisesRegex(poplib.error_proto, r"-ERR \[AUTH\]"):
            p.pass_("pw6")
        p.quit()

    def test_quit_in_authorization(self):
        r = Raw(self.port)
        self.assertTrue(r.cmd("QUIT").startswith(b"+OK"))
        self.assertEqual(r.line(), b"")
        r.close()


if __name__ == "__main__":
    unittest.main()
