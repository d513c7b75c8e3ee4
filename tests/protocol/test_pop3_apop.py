"""cove-pop3d: APOP (RFC 1939 section 7) with [pop3] apop = yes.

A user given an APOP secret by `covectl user add --apop` (or `user passwd
--apop`) logs in with poplib's apop(); a wrong digest, a user without a secret and a user whose
secret `covectl user passwd` (without --apop) cleared are refused with
[AUTH]; the greeting carries a fresh msg-id timestamp per session. With the
default (apop = no) the greeting has no timestamp and APOP is refused.
"""
import hashlib
import poplib
import re
import unittest

from coveharness import CoveServer

STAMP = re.compile(rb"^\+OK .*(<[^<>@ ]+@[^<> ]+>)\r?\n?$")


def digest(stamp, secret):
    return hashlib.md5(stamp + secret.encode()).hexdigest()


class Pop3Apop(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = CoveServer(extra_conf="")
        with open(cls.srv.conf) as f:
            text = f.read()
        text = text.replace("[pop3]\n", "[pop3]\napop = yes\n", 1)
        with open(cls.srv.conf, "w") as f:
            f.write(text)
        srv = cls.srv
        srv.covectl("user", "add", "ap@example.org", "--password-stdin", "--apop",
                    input=b"apop secret\n")
        srv.add_user("plain@example.org", "pw-plain")
        srv.covectl("user", "add", "cleared@example.org", "--password-stdin", "--apop",
                    input=b"old-secret\n")
        srv.covectl("user", "passwd", "cleared@example.org", "--password-stdin",
                    input=b"new-secret\n")
        srv.add_user("later@example.org", "first")
        srv.covectl("user", "passwd", "later@example.org", "--password-stdin", "--apop",
                    input=b"second\n")
        srv.deliver("ap@example.org", b"Subject: hi\r\n\r\nbody\r\n")
        srv.start("pop3d")
        cls.port = srv.ports["pop3"]

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def connect(self):
        p = poplib.POP3("127.0.0.1", self.port, timeout=30)
        m = STAMP.match(p.getwelcome())
        self.assertIsNotNone(m, p.getwelcome())
        return p, m.group(1)

    def test_success_and_fresh_stamps(self):
        p, stamp = self.connect()
        self.assertTrue(p.apop("ap@example.org", "apop secret").startswith(b"+OK"))
        self.assertEqual(p.stat()[0], 1)
        p.quit()
        # Raw, with an upper-case digest: accepted too; a new stamp per session.
        p2, stamp2 = self.connect()
        self.assertNotEqual(stamp, stamp2)
        reply = p2._shortcmd("APOP ap@example.org " + digest(stamp2, "apop secret").upper())
        self.assertTrue(reply.startswith(b"+OK"), reply)
        p2.quit()

    def test_wrong_digest(self):
        p, stamp = self.connect()
        with self.assertRaises(poplib.error_proto) as cm:
            p.apop("ap@example.org", "wrong secret")
        self.assertIn(b"[AUTH]", cm.exception.args[0])
        # The digest of an old stamp (replay) fails as well.
        p2, stamp2 = self.connect()
        with self.assertRaises(poplib.error_proto):
            p2._shortcmd("APOP ap@example.org " + digest(stamp, "apop secret"))
        # The session goes on: USER/PASS still works after a failed APOP.
        p.user("ap@example.org")
        self.assertTrue(p.pass_("apop secret").startswith(b"+OK"))
        p.quit()
        p2.quit()

    def test_user_without_secret(self):
        p, _ = self.connect()
        for name, secret in (("plain@example.org", "pw-plain"), ("plain@example.org", "")):
            with self.assertRaises(poplib.error_proto) as cm:
                p.apop(name, secret)
            self.assertIn(b"[AUTH]", cm.exception.args[0])
        p.quit()

    def test_cleared_secret(self):
        p, _ = self.connect()
        for secret in ("old-secret", "new-secret"):
            with self.assertRaises(poplib.error_proto) as cm:
                p.apop("cleared@example.org", secret)
            self.assertIn(b"[AUTH]", cm.exception.args[0])
        p.user("cleared@example.org")
        self.assertTrue(p.pass_("new-secret").startswith(b"+OK"))
        p.quit()

    def test_secret_set_by_passwd(self):
        p, _ = self.connect()
        with self.assertRaises(poplib.error_proto):
            p.apop("later@example.org", "first")
        self.assertTrue(p.apop("later@example.org", "second").startswith(b"+OK"))
        p.quit()

    def test_malformed(self):
        p, _ = self.connect()
        for line in ("APOP", "APOP ap@example.org", "APOP  abc"):
            with self.assertRaises(poplib.error_proto):
                p._shortcmd(line)
        self.assertIn("USER", p.capa(), "the session goes on")
        p.quit()


class Pop3ApopDisabled(unittest.TestCase):
    def test_disabled(self):
        srv = CoveServer()
        try:
            srv.covectl("user", "add", "ap@example.org", "--password-stdin", "--apop",
                        input=b"apop secret\n")
            srv.start("pop3d")
            p = poplib.POP3("127.0.0.1", srv.ports["pop3"], timeout=30)
            self.assertNotIn(b"<", p.getwelcome())
            reply = None
            try:
                reply = p._shortcmd("APOP ap@example.org " + digest(b"<1.1@x>", "apop secret"))
            except poplib.error_proto as e:
                reply = e.args[0]
            self.assertTrue(reply.startswith(b"-ERR [AUTH]"), reply)
            p.user("ap@example.org")
            self.assertTrue(p.pass_("apop secret").startswith(b"+OK"))
            p.quit()
        finally:
            srv.stop()


if __name__ == "__main__":
    unittest.main()
