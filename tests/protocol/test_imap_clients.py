"""cove-imapd with real clients: mbsync (isync) syncing a folder tree both
ways against a local Maildir, and curl listing and fetching over imap://
and imaps://."""
import os
import shutil
import subprocess
import unittest

from coveharness import CoveServer

USER, PASSWORD = "erin@example.com", "pw-erin"


def msg(n, subject):
    return (b"From: x@example.com\r\nTo: erin@example.com\r\nMessage-ID: <m%d@example.com>\r\n"
            b"Subject: %s\r\n\r\nbody %d\r\n" % (n, subject, n))


@unittest.skipUnless(shutil.which("mbsync") and shutil.which("curl"), "mbsync/curl missing")
class ImapClients(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = CoveServer()
        cls.srv.add_user(USER, PASSWORD)
        cls.srv.covectl("mailbox", "create", USER, "Projects/Alpha")
        cls.srv.deliver(USER, msg(1, b"inbox one"))
        cls.srv.deliver(USER, msg(2, b"alpha two"), mailbox="Projects/Alpha")
        cls.srv.start("imapd")

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def mbsync(self, maildir):
        conf = os.path.join(self.srv.dir, "mbsyncrc")
        with open(conf, "w") as f:
            f.write(f"""IMAPAccount cove
Host 127.0.0.1
Port {self.srv.ports['imap']}
User {USER}
Pass {PASSWORD}
SSLType None
AuthMechs LOGIN

IMAPStore cove-remote
Account cove

MaildirStore cove-local
Path {maildir}/
Inbox {maildir}/INBOX
SubFolders Verbatim

Channel cove
Far :cove-remote:
Near :cove-local:
Patterns *
Create Both
Expunge Both
SyncState *
""")
        r = subprocess.run(["mbsync", "-c", conf, "-a"], capture_output=True, timeout=60)
        self.last = r.stdout.decode() + r.stderr.decode()
        self.assertEqual(r.returncode, 0, self.last)

    @staticmethod
    def maildir_messages(path):
        out = []
        for sub in ("cur", "new"):
            d = os.path.join(path, sub)
            if os.path.isdir(d):
                for name in os.listdir(d):
                    with open(os.path.join(d, name), "rb") as f:
                        out.append(f.read())
        return out

    def test_mbsync_both_ways(self):
        maildir = os.path.join(self.srv.dir, "maildir")
        os.makedirs(maildir)
        self.mbsync(maildir)
        inbox = self.maildir_messages(os.path.join(maildir, "INBOX"))
        self.assertEqual(len(inbox), 1, self.last)
        self.assertIn(b"Subject: inbox one", inbox[0])
        alpha = self.maildir_messages(os.path.join(maildir, "Projects", "Alpha"))
        self.assertEqual(len(alpha), 1)
        self.assertIn(b"body 2", alpha[0])
        # Local to server: a new folder with a message, and a new message.
        local = os.path.join(maildir, "Projects", "Beta")
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(local, sub))
        with open(os.path.join(local, "new", "1.local:2,"), "wb") as f:
            f.write(msg(3, b"beta three"))
        self.srv.deliver(USER, msg(4, b"inbox four"))
        self.mbsync(maildir)
        self.assertEqual(len(self.maildir_messages(os.path.join(maildir, "INBOX"))), 2)
        r = self.srv.covectl("mailbox", "list", USER)
        self.assertIn(b"Projects/Beta", r.stdout)
        out = self.curl(f"imap://127.0.0.1:{self.srv.ports['imap']}/Projects%2FBeta/;UID=1")
        self.assertIn(b"Subject: beta three", out)

    def curl(self, url, *extra):
        r = subprocess.run(["curl", "-sS", "--insecure", "--user", f"{USER}:{PASSWORD}",
                            *extra, url], capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        return r.stdout

    def test_curl_list_and_fetch(self):
        out = self.curl(f"imap://127.0.0.1:{self.srv.ports['imap']}/")
        self.assertIn(b'"INBOX"', out)
        self.assertIn(b'"Projects/Alpha"', out)
        out = self.curl(f"imaps://127.0.0.1:{self.srv.ports['imaps']}/INBOX/;UID=1")
        self.assertEqual(out, msg(1, b"inbox one"))
        out = self.curl(f"imap://127.0.0.1:{self.srv.ports['imap']}/INBOX?SUBJECT%20one",
                        "--ssl-reqd")
        self.assertIn(b"SEARCH 1", out)


if __name__ == "__main__":
    unittest.main()
