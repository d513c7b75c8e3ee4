"""cove-pop3d with a real client: fetchmail retrieves a maildrop byte-exactly.

fetchmail (POP3, plaintext on loopback and over STLS) hands each message to
an MDA script that stores it in a file. fetchmail gives the MDA LF line
endings, so each file must equal the stored message (covectl fetch) with
line endings normalised to LF. Keep mode leaves the maildrop intact (and a
second run with "uidl" fetches nothing new); flush mode empties it.
"""
import os
import poplib
import shutil
import stat
import subprocess
import tempfile
import unittest

from coveharness import CoveServer

MESSAGES = [
    b"From: a@example.org\r\nSubject: plain\r\n\r\nhello\r\n",
    b"Subject: bare lf\n\nfirst\nsecond\n",
    "Subject: 8bit\r\n\r\nGrüße — ½ €\r\n".encode(),
    b"Subject: dots\r\n\r\n.\r\n..\r\n.hidden\r\nlast line",
    b"Subject: big\r\n\r\n" + b"".join(b"line %05d %s\r\n" % (i, b"y" * 70)
                                       for i in range(20000)),
]

FETCHMAIL = shutil.which("fetchmail")


def as_lf(data):
    data = data.replace(b"\r\n", b"\n")
    return data if data.endswith(b"\n") else data + b"\n"


@unittest.skipIf(FETCHMAIL is None, "fetchmail is not installed")
class Pop3Fetchmail(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = CoveServer()
        cls.srv.add_user("keep@example.org", "pw-keep")
        cls.srv.add_user("flush@example.org", "pw-flush")
        for name in ("keep", "flush"):
            for m in MESSAGES:
                cls.srv.deliver(f"{name}@example.org", m)
        cls.srv.start("pop3d")

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def fetch(self, user, password, keep, tls=False, expect_rc=(0,)):
        home = tempfile.mkdtemp(prefix="cove-fetchmail-", dir=self.srv.dir)
        out = os.path.join(home, "out")
        os.mkdir(out)
        mda = os.path.join(home, "mda.sh")
        with open(mda, "w") as f:
            f.write(f'#!/bin/sh\nn=$(ls "{out}" | wc -l)\ncat > "{out}/$(printf %04d $n)"\n')
        os.chmod(mda, 0o755)
        rc = os.path.join(home, "fetchmailrc")
        with open(rc, "w") as f:
            f.write(f"""set no bouncemail
set no syslog
set invisible
poll 127.0.0.1 with proto POP3 port {self.srv.ports['pop3']} uidl
  user "{user}" there with password "{password}" is "nobody" here
  {"keep" if keep else "no keep"} fetchall
  {"sslproto TLS1.2+ no sslcertck" if tls else "sslproto ''"}
  mda "{mda}"
""")
        os.chmod(rc, stat.S_IRUSR | stat.S_IWUSR)
        env = dict(os.environ, HOME=home, FETCHMAILHOME=home)
        r = subprocess.run([FETCHMAIL, "-f", rc, "-v", "--nodetach", "-i",
                            os.path.join(home, "ids")],
                           env=env, capture_output=True, timeout=60)
        self.assertIn(r.returncode, expect_rc, r.stdout.decode(errors="replace") +
                      r.stderr.decode(errors="replace"))
        got = [open(os.path.join(out, n), "rb").read() for n in sorted(os.listdir(out))]
        return got, home

    def stored(self, user):
        return [self.srv.covectl("fetch", user, "INBOX", str(uid)).stdout
                for uid in range(1, len(MESSAGES) + 1)]

    def count(self, user, password):
        p = poplib.POP3("127.0.0.1", self.srv.ports["pop3"], timeout=10)
        p.user(user)
        p.pass_(password)
        n = p.stat()[0]
        p.quit()
        return n

    def test_keep_mode(self):
        stored = self.stored("keep@example.org")
        got, home = self.fetch("keep@example.org", "pw-keep", keep=True)
        self.assertEqual(len(got), len(MESSAGES))
        for g, s in zip(got, stored):
            self.assertEqual(g, as_lf(s))
        self.assertEqual(self.count("keep@example.org", "pw-keep"), len(MESSAGES))
        # Over STLS, a fresh run fetches the same bytes again.
        got, _ = self.fetch("keep@example.org", "pw-keep", keep=True, tls=True)
        self.assertEqual([as_lf(s) for s in stored], got)
        self.assertRegex(self.srv.log_text("pop3d"),
                         r"user=keep@example.org login method=\S+ ip=\S+ tls=yes")

    def test_flush_mode(self):
        stored = self.stored("flush@example.org")
        got, _ = self.fetch("flush@example.org", "pw-flush", keep=False)
        self.assertEqual(got, [as_lf(s) for s in stored])
        self.assertEqual(self.count("flush@example.org", "pw-flush"), 0)
        # Nothing left: fetchmail exits 1 ("no mail").
        got, _ = self.fetch("flush@example.org", "pw-flush", keep=False, expect_rc=(1,))
        self.assertEqual(got, [])


if __name__ == "__main__":
    unittest.main()
