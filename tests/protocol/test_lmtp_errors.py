"""cove-lmtpd: bad input never crashes the daemon or stores a partial message.

- Malformed addresses 501, commands out of order 503, unknown commands and
  parameters 500/555, NUL bytes and over-long lines 500 (the session goes on),
  too many errors 421.
- MAIL SIZE= over the limit 552; a message over [limits] max_message_size
  gets 552 for every recipient with nothing stored.
- A connection dropped mid-DATA, a missing final dot, an inactivity timeout
  mid-DATA and a BDAT with a bad length store nothing for anyone.
"""
import socket
import time
import unittest

from coveharness import CoveServer
from lmtpclient import RawLmtp, mailbox_counts, stuff

MSG = b"Subject: test\r\n\r\nHello\r\n"


class LmtpErrors(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = CoveServer(extra_conf="[limits]\nmax_message_size = 64k\n"
                                        "[lmtp]\ntimeout = 10s\nmax_line = 1000\n")
        for name in ("a", "b", "drop", "nodot", "slow", "bdat", "size"):
            cls.srv.add_user(f"{name}@example.org", "pw")
        cls.srv.start("lmtpd")
        cls.port = cls.srv.ports["lmtp"]

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def client(self, lhlo=True):
        c = RawLmtp(self.port)
        self.addCleanup(c.close)
        if lhlo:
            self.assertEqual(c.cmd("LHLO x")[0], 250)
        return c

    def count(self, user):
        return mailbox_counts(self.srv, f"{user}@example.org")["INBOX"]

    def assert_code(self, reply, code, enhanced=None):
        self.assertEqual(reply[0], code, reply)
        if enhanced is not None:
            self.assertTrue(reply[1][0].startswith(enhanced), reply)

    def test_out_of_order_503(self):
        c = self.client(lhlo=False)
        self.assert_code(c.cmd("MAIL FROM:<s@example.net>"), 503, "5.5.1")
        self.assert_code(c.cmd("LHLO x"), 250)
        self.assert_code(c.cmd("RCPT TO:<a@example.org>"), 503, "5.5.1")
        self.assert_code(c.cmd("DATA"), 503, "5.5.1")
        self.assert_code(c.cmd("MAIL FROM:<s@example.net>"), 250)
        self.assert_code(c.cmd("MAIL FROM:<s@example.net>"), 503, "5.5.1")   # nested
        self.assert_code(c.cmd("DATA"), 503, "5.5.1")   # no valid recipients
        self.assert_code(c.cmd("RCPT TO:<nobody@example.org>"), 550, "5.1.1")
        self.assert_code(c.cmd("DATA"), 503, "5.5.1")
        self.assert_code(c.cmd("RSET"), 250)
        self.assert_code(c.cmd("RCPT TO:<a@example.org>"), 503)   # RSET ended it
        self.assert_code(c.cmd("QUIT"), 221)

    def test_malformed_501_and_unsupported(self):
        c = self.client()
        for bad in ("MAIL FROM:s@example.net", "MAIL FROM:<s@example.net", "MAIL TO:<x@y.z>",
                    "MAIL FROM:<local>", "MAIL FROM:<a..b@c.d>", "MAIL FROM:<s@x.y> SIZE=abc",
                    "MAIL FROM:<s@x.y> BODY=9BIT", "LHLO", "VRFY"):
            self.assert_code(c.cmd(bad), 501)
        self.assert_code(c.cmd("MAIL FROM:<s@x.y> RET=FULL"), 555, "5.5.4")
        self.assert_code(c.cmd("MAIL FROM:<s@x.y>"), 250)
        for bad in ("RCPT TO:a@example.org", "RCPT TO:<>", "RCPT TO:<a b@example.org>",
                    "RCPT TO:<a@example..org>", "RCPT FROM:<a@example.org>",
                    "RCPT TO:<bare>"):   # no default domain configured
            self.assert_code(c.cmd(bad), 501)
        self.assert_code(c.cmd("RCPT TO:<a@example.org> NOTIFY=NEVER"), 555)
        self.assert_code(c.cmd("RCPT TO:<a@example.org>"), 250)
        self.assert_code(c.cmd("QUIT now"), 501)
        c = self.client()   # a fresh error count
        c.cmd("MAIL FROM:<s@x.y>")
        c.cmd("RCPT TO:<a@example.org>")
        self.assert_code(c.cmd("FOO"), 500, "5.5.2")
        c.send(b"NO\x00OP\r\n")
        self.assert_code(c.reply(), 500)
        self.assert_code(c.cmd("N" * 5000), 500, "5.5.2")   # over max_line
        self.assert_code(c.cmd("NOOP"), 250)                 # the session goes on
        self.assert_code(c.cmd("DATA"), 354)
        c.send(stuff(MSG))
        self.assert_code(c.reply(), 250)
        self.assertEqual(self.count("a"), 1)

    def test_too_many_errors_421(self):
        c = self.client()
        codes = [c.cmd("BOGUS")[0] for _ in range(19)]
        self.assertEqual(set(codes), {500})
        c.send(b"BOGUS\r\n")
        self.assertEqual(c.reply()[0], 500)
        self.assertEqual(c.reply()[0], 421)
        self.assertTrue(c.closed())

    def test_size_limits_552(self):
        c = self.client()
        self.assert_code(c.cmd("MAIL FROM:<s@x.y> SIZE=%d" % (64 * 1024 + 1)), 552, "5.3.4")
        self.assert_code(c.cmd("MAIL FROM:<s@x.y>"), 250)
        self.assert_code(c.cmd("RCPT TO:<size@example.org>"), 250)
        self.assert_code(c.cmd("RCPT TO:<b@example.org>"), 250)
        self.assert_code(c.cmd("DATA"), 354)
        c.send(stuff(b"Subject: big\r\n\r\n" + b"x" * 70000 + b"\r\n"))
        self.assertEqual([r[0] for r in c.replies(2)], [552, 552])
        self.assertEqual(self.count("size") + self.count("b"), 0)
        # The connection is in sync and the next message is fine.
        self.assert_code(c.cmd("MAIL FROM:<s@x.y>"), 250)
        self.assert_code(c.cmd("RCPT TO:<size@example.org>"), 250)
        c.send(b"BDAT 70000 LAST\r\n" + b"y" * 70000)
        self.assert_code(c.reply(), 552, "5.3.4")
        self.assert_code(c.cmd("NOOP"), 250)
        self.assertEqual(self.count("size"), 0)
        # A long line inside the message is data, not an error.
        long_line = b"Subject: long\r\n\r\n" + b"z" * 20000 + b"\r\n"
        c.cmd("MAIL FROM:<s@x.y>")
        c.cmd("RCPT TO:<size@example.org>")
        c.cmd("DATA")
        c.send(stuff(long_line))
        self.assert_code(c.reply(), 250)
        self.assertEqual(self.count("size"), 1)

    def test_dropped_mid_data_stores_nothing(self):
        c = self.client()
        c.cmd("MAIL FROM:<s@x.y>")
        c.cmd("RCPT TO:<drop@example.org>")
        c.cmd("RCPT TO:<b@example.org>")
        self.assert_code(c.cmd("DATA"), 354)
        c.send(b"Subject: half\r\n\r\nfirst part\r\n")
        c.sock.shutdown(socket.SHUT_RDWR)
        c.close()
        # Missing final dot: the client ends with QUIT inside the data.
        c = self.client()
        c.cmd("MAIL FROM:<s@x.y>")
        c.cmd("RCPT TO:<nodot@example.org>")
        c.cmd("DATA")
        c.send(b"Subject: nodot\r\n\r\nbody\r\nQUIT\r\n")
        c.sock.shutdown(socket.SHUT_WR)
        self.assertTrue(c.closed())
        time.sleep(0.3)
        self.assertEqual(self.count("drop") + self.count("nodot"), 0)
        self.assertEqual(self.count("b"), 0)

    def test_bad_bdat_closes_without_storing(self):
        c = self.client()
        c.cmd("MAIL FROM:<s@x.y>")
        c.cmd("RCPT TO:<bdat@example.org>")
        c.send(b"BDAT 5\r\nhello")
        self.assert_code(c.reply(), 250)
        self.assert_code(c.cmd("BDAT x LAST"), 501)
        self.assertTrue(c.closed())
        self.assertEqual(self.count("bdat"), 0)

    def test_timeout_mid_data_stores_nothing(self):
        c = self.client()
        c.cmd("MAIL FROM:<s@x.y>")
        c.cmd("RCPT TO:<slow@example.org>")
        c.cmd("DATA")
        c.send(b"Subject: slow\r\n\r\nstarted")
        c.sock.settimeout(30)
        self.assert_code(c.reply(), 421, "4.4.2")
        self.assertTrue(c.closed())
        self.assertEqual(self.count("slow"), 0)


if __name__ == "__main__":
    unittest.main()
