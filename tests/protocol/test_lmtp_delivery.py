"""cove-lmtpd: delivery over LMTP (RFC 2033) with smtplib.LMTP, raw sockets
and swaks.

- LHLO lists the extensions; HELO/EHLO are refused (RFC 2033 §4.1).
- Several recipients, one unknown and one over quota: a reply per RCPT and,
  after DATA, one per accepted recipient in RCPT order; the message is
  stored for the others only. Quota is checked at RCPT (SIZE=) and at DATA;
  [lmtp] quota_temporary turns 552 5.2.2 into 452 4.2.2.
- Bytes round-trip exactly (dot-stuffing, 8-bit, a 20 MB message, BDAT),
  with Return-Path and Delivered-To prepended (checked with covectl fetch).
- Plus-addressing files into an existing mailbox, else INBOX; bare local
  parts take [server] default_domain.
- Pipelined transactions, the UNIX socket, swaks as a second client.
"""
import os
import smtplib
import subprocess
import unittest

from coveharness import CoveServer
from lmtpclient import RawLmtp, fetch, mailbox_counts, stuff, trace

MSG = b"From: a@example.net\r\nSubject: test\r\n\r\nHello\r\n"


class LmtpDelivery(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = CoveServer(extra_conf="[server]\ndefault_domain = example.org\n")
        for name in ("alice", "bob", "full", "small", "other", "plus", "big", "raw", "pipe",
                     "pipe2", "swaks", "swaks2", "unix", "bdat", "bdat2", "mixed", "lda"):
            cls.srv.add_user(f"{name}@example.org", "pw")
        cls.srv.covectl("quota", "set", "full@example.org", "--messages", "1")
        cls.srv.deliver("full@example.org", MSG)
        cls.srv.covectl("quota", "set", "small@example.org", "--bytes", "2000")
        cls.srv.covectl("mailbox", "create", "plus@example.org", "Lists")
        cls.srv.covectl("mailbox", "create", "plus@example.org", "Lists/cove")
        cls.srv.covectl("mailbox", "create", "lda@example.org", "Work")
        cls.srv.start("lmtpd")
        cls.port = cls.srv.ports["lmtp"]

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def lmtp(self):
        c = RawLmtp(self.port)
        self.addCleanup(c.close)
        self.assertEqual(c.greeting[0], 220)
        self.assertEqual(c.cmd("LHLO client.example")[0], 250)
        return c

    def test_lhlo_extensions_and_helo_refused(self):
        c = RawLmtp(self.port)
        self.addCleanup(c.close)
        self.assertEqual(c.cmd("HELO x")[0], 500)
        self.assertEqual(c.cmd("EHLO x")[0], 500)
        code, lines = c.cmd("LHLO client.example")
        self.assertEqual(code, 250)
        for ext in ("PIPELINING", "ENHANCEDSTATUSCODES", "8BITMIME", "CHUNKING",
                    "BINARYMIME", "SIZE 52428800"):
            self.assertIn(ext, lines)
        self.assertEqual(c.cmd("NOOP")[0], 250)
        code, lines = c.cmd("VRFY alice")
        self.assertEqual(code, 252)
        self.assertTrue(lines[0].startswith("2.5.0"))
        self.assertEqual(c.cmd("HELP")[0], 214)
        self.assertEqual(c.cmd("QUIT")[0], 221)
        self.assertTrue(c.closed())

    def test_multi_recipient_unknown_and_over_quota(self):
        c = self.lmtp()
        self.assertEqual(c.cmd("MAIL FROM:<sender@example.net> SIZE=%d" % len(MSG))[0], 250)
        self.assertEqual(c.cmd("RCPT TO:<alice@example.org>"), (250, ["2.1.5 <alice@example.org> OK"]))
        code, lines = c.cmd("RCPT TO:<nobody@example.org>")
        self.assertEqual((code, lines[0][:5]), (550, "5.1.1"))
        code, lines = c.cmd("RCPT TO:<full@example.org>")   # message quota used up
        self.assertEqual((code, lines[0][:5]), (552, "5.2.2"))
        self.assertEqual(c.cmd("RCPT TO:<bob@example.org>")[0], 250)
        self.assertEqual(c.cmd("DATA")[0], 354)
        c.send(stuff(MSG))
        replies = c.replies(2)     # one per accepted recipient, in RCPT order
        self.assertEqual([r[0] for r in replies], [250, 250])
        self.assertIn("<alice@example.org>", replies[0][1][0])
        self.assertIn("<bob@example.org>", replies[1][1][0])
        self.assertEqual(c.cmd("QUIT")[0], 221)
        for user in ("alice", "bob"):
            self.assertEqual(fetch(self.srv, f"{user}@example.org", "INBOX", 1),
                             trace("sender@example.net", f"{user}@example.org") + MSG)
        self.assertEqual(mailbox_counts(self.srv, "full@example.org")["INBOX"], 1)

    def test_quota_checked_at_data(self):
        big = MSG + b"x" * 3000 + b"\r\n"
        c = self.lmtp()
        self.assertEqual(c.cmd("MAIL FROM:<s@example.net>")[0], 250)   # no SIZE=
        self.assertEqual(c.cmd("RCPT TO:<small@example.org>")[0], 250)
        self.assertEqual(c.cmd("RCPT TO:<other@example.org>")[0], 250)
        self.assertEqual(c.cmd("DATA")[0], 354)
        c.send(stuff(big))
        (code1, l1), (code2, l2) = c.replies(2)
        self.assertEqual((code1, l1[0][:5]), (552, "5.2.2"))
        self.assertEqual(code2, 250)
        self.assertEqual(mailbox_counts(self.srv, "small@example.org")["INBOX"], 0)
        # With SIZE= the refusal comes at RCPT already.
        self.assertEqual(c.cmd("MAIL FROM:<s@example.net> SIZE=%d" % len(big))[0], 250)
        self.assertEqual(c.cmd("RCPT TO:<small@example.org>")[0], 552)
        c.cmd("QUIT")

    def test_dot_stuffing_round_trip(self):
        body = (b"Subject: dots\r\n\r\n.\r\n..\r\n.leading\r\n...\r\nnot.leading\r\n"
                b". space\r\n.\r\n")
        c = self.lmtp()
        c.cmd("MAIL FROM:<>")
        c.cmd("RCPT TO:<raw@example.org>")
        self.assertEqual(c.cmd("DATA")[0], 354)
        c.send(stuff(body))
        self.assertEqual(c.reply()[0], 250)
        c.cmd("QUIT")
        self.assertEqual(fetch(self.srv, "raw@example.org", "INBOX", 1),
                         trace("", "raw@example.org") + body)

    def test_8bit_and_20mb_with_smtplib(self):
        eight = ("Subject: 8 bit\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
                 "Grüße aus Köln — ½ € ✓\r\n").encode() + bytes(range(128, 256)) + b"\r\n"
        line = b"0123456789" * 9 + b"\r\n"
        huge = b"Subject: big\r\n\r\n" + b"".join(
            (b"." if i % 5 == 0 else b"") + line for i in range(20 * 1024 * 1024 // 92))
        self.assertGreater(len(huge), 20 * 1024 * 1024)
        with smtplib.LMTP("127.0.0.1", self.port) as l:
            l.ehlo("client.example")
            self.assertTrue(l.has_extn("8bitmime"))
            self.assertEqual(l.sendmail("s@example.net", ["big@example.org"], eight,
                                        mail_options=["BODY=8BITMIME"]), {})
            self.assertEqual(l.sendmail("s@example.net", ["big@example.org"], huge,
                                        mail_options=["SIZE=%d" % len(huge)]), {})
        self.assertEqual(fetch(self.srv, "big@example.org", "INBOX", 1),
                         trace("s@example.net", "big@example.org") + eight)
        self.assertEqual(fetch(self.srv, "big@example.org", "INBOX", 2),
                         trace("s@example.net", "big@example.org") + huge)

    def test_plus_addressing_and_default_domain(self):
        c = self.lmtp()
        c.cmd("MAIL FROM:<s@example.net>")
        for rcpt in ("plus+Lists@example.org", "plus+nosuch@example.org", "plus",
                     "plus+Lists/cove@EXAMPLE.ORG", "MiXeD@example.org"):
            self.assertEqual(c.cmd(f"RCPT TO:<{rcpt}>")[0], 250, rcpt)
        c.cmd("DATA")
        c.send(stuff(MSG))
        self.assertEqual([r[0] for r in c.replies(5)], [250] * 5)
        c.cmd("QUIT")
        counts = mailbox_counts(self.srv, "plus@example.org")
        self.assertEqual((counts["Lists"], counts["INBOX"], counts["Lists/cove"]), (1, 2, 1))
        self.assertEqual(fetch(self.srv, "plus@example.org", "Lists", 1),
                         trace("s@example.net", "plus+Lists@example.org") + MSG)
        self.assertEqual(fetch(self.srv, "plus@example.org", "INBOX", 2),
                         trace("s@example.net", "plus@example.org") + MSG)
        self.assertEqual(mailbox_counts(self.srv, "mixed@example.org")["INBOX"], 1)

    def test_pipelined_transactions(self):
        c = self.lmtp()
        one = b"Subject: one\r\n\r\n1\r\n"
        two = b"Subject: two\r\n\r\n.2\r\n"
        c.send(b"MAIL FROM:<a@example.net>\r\nRCPT TO:<pipe@example.org>\r\n"
               b"RCPT TO:<nobody@example.org>\r\nRCPT TO:<pipe2@example.org>\r\nDATA\r\n")
        self.assertEqual([r[0] for r in c.replies(5)], [250, 250, 550, 250, 354])
        c.send(stuff(one) + b"MAIL FROM:<b@example.net>\r\nRCPT TO:<pipe@example.org>\r\n"
               b"DATA\r\n")
        self.assertEqual([r[0] for r in c.replies(5)], [250, 250, 250, 250, 354])
        c.send(stuff(two) + b"RSET\r\nNOOP\r\nQUIT\r\n")
        self.assertEqual([r[0] for r in c.replies(4)], [250, 250, 250, 221])
        self.assertEqual(fetch(self.srv, "pipe@example.org", "INBOX", 1),
                         trace("a@example.net", "pipe@example.org") + one)
        self.assertEqual(fetch(self.srv, "pipe@example.org", "INBOX", 2),
                         trace("b@example.net", "pipe@example.org") + two)

    def test_bdat_chunking(self):
        binary = b"Subject: bin\r\n\r\n" + bytes(range(256)) + b"\r\n.\r\n"
        c = self.lmtp()
        self.assertEqual(c.cmd("MAIL FROM:<s@example.net> BODY=BINARYMIME")[0], 250)
        self.assertEqual(c.cmd("RCPT TO:<bdat@example.org>")[0], 250)
        self.assertEqual(c.cmd("RCPT TO:<bdat2@example.org>")[0], 250)
        self.assertEqual(c.cmd("DATA")[0], 503)   # BINARYMIME needs BDAT
        c.send(b"BDAT 10\r\n" + binary[:10])
        self.assertEqual(c.reply()[0], 250)
        rest = binary[10:]
        c.send(b"BDAT %d LAST\r\n" % len(rest) + rest)
        self.assertEqual([r[0] for r in c.replies(2)], [250, 250])
        # BDAT outside a transaction is refused and its bytes skipped.
        c.send(b"BDAT 6 LAST\r\nQUIT\r\n")
        self.assertEqual(c.reply()[0], 503)
        self.assertEqual(c.cmd("NOOP")[0], 250)
        c.cmd("QUIT")
        self.assertEqual(fetch(self.srv, "bdat@example.org", "INBOX", 1),
                         trace("s@example.net", "bdat@example.org") + binary)

    def test_unix_socket(self):
        c = RawLmtp(path=self.srv.lmtp_socket)
        self.addCleanup(c.close)
        self.assertEqual(c.cmd("LHLO local")[0], 250)
        c.cmd("MAIL FROM:<s@example.net>")
        c.cmd("RCPT TO:<unix@example.org>")
        c.cmd("DATA")
        c.send(stuff(MSG))
        self.assertEqual(c.reply()[0], 250)
        c.cmd("QUIT")
        self.assertEqual(mailbox_counts(self.srv, "unix@example.org")["INBOX"], 1)

    def test_swaks(self):
        r = subprocess.run(["swaks", "--protocol", "LMTP", "--server", "127.0.0.1",
                            "--port", str(self.port), "--from", "s@example.net",
                            "--to", "swaks@example.org,nobody@example.org,swaks2@example.org",
                            "--header", "Subject: from swaks", "--body", ".dot line\nend"],
                           capture_output=True, timeout=60)
        out = r.stdout.decode(errors="replace")
        self.assertIn("550 5.1.1 <nobody@example.org>", out)
        self.assertIn("250 2.0.0 <swaks@example.org>", out)
        self.assertIn("250 2.0.0 <swaks2@example.org>", out)
        stored = fetch(self.srv, "swaks@example.org", "INBOX", 1)
        self.assertTrue(stored.startswith(trace("s@example.net", "swaks@example.org")))
        self.assertIn(b"Subject: from swaks\r\n", stored)
        self.assertIn(b"\r\n.dot line\r\nend\r\n", stored)


    def test_covectl_deliver_shares_the_rules(self):
        """covectl deliver resolves recipients with the same code as LMTP."""
        self.srv.deliver("lda+Work", MSG)                      # default domain + detail
        self.srv.deliver("LDA+nosuch@example.org", MSG)        # case, unknown detail
        counts = mailbox_counts(self.srv, "lda@example.org")
        self.assertEqual((counts["Work"], counts["INBOX"]), (1, 1))
        r = self.srv.covectl("deliver", "ghost@example.org", input=MSG, check=False)
        self.assertEqual(r.returncode, 67)                     # EX_NOUSER
        r = self.srv.covectl("deliver", "full@example.org", input=MSG, check=False)
        self.assertEqual(r.returncode, 73)                     # EX_CANTCREAT, over quota


class LmtpQuotaTemporary(unittest.TestCase):
    def test_quota_temporary(self):
        srv = CoveServer(extra_conf="[lmtp]\nquota_temporary = yes\nplus_addressing = no\n")
        try:
            srv.add_user("q@example.org", "pw")
            srv.add_user("q+x@example.org", "pw")
            srv.covectl("quota", "set", "q@example.org", "--bytes", "10")
            srv.start("lmtpd")
            c = RawLmtp(srv.ports["lmtp"])
            self.addCleanup(c.close)
            c.cmd("LHLO x")
            c.cmd("MAIL FROM:<s@example.net> SIZE=100")
            code, lines = c.cmd("RCPT TO:<q@example.org>")
            self.assertEqual((code, lines[0][:5]), (452, "4.2.2"))
            self.assertEqual(c.cmd("RCPT TO:<bare>")[0], 501)   # no default domain
            self.assertEqual(c.cmd("RCPT TO:<q+x@example.org>")[0], 250)  # a user, no plus
            c.cmd("DATA")
            c.send(stuff(MSG))
            self.assertEqual(c.reply()[0], 250)
            c.cmd("QUIT")
            self.assertEqual(mailbox_counts(srv, "q+x@example.org")["INBOX"], 1)
            r = srv.covectl("deliver", "q@example.org", input=MSG * 10, check=False)
            self.assertEqual(r.returncode, 75)                 # EX_TEMPFAIL when temporary
        finally:
            srv.stop()


if __name__ == "__main__":
    unittest.main()
