"""mbsync (isync) pulling a mailbox from cove-imapd into a local Maildir:
it drives UID FETCH with RFC822.SIZE, FLAGS, BODY.PEEK[HEADER.FIELDS ...]
and BODY.PEEK[]; every message must arrive intact (mbsync stores LF line
endings, so CRLF is compared as LF), flags included, and a second run must
find nothing new."""
import os
import shutil
import subprocess
import unittest

from coveharness import CoveServer
from test_imap_fetch import MESSAGES

USER, PASSWORD = "sync@example.org", "secret"


@unittest.skipIf(shutil.which("mbsync") is None, "mbsync (isync) not installed")
class ImapFetchMbsync(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = CoveServer()
        cls.srv.add_user(USER, PASSWORD)
        # The corpus without the binary message (bare CR does not survive a
        # Maildir's LF conversion, by mbsync's design) and without the
        # message that has no blank line after its header (mbsync skips it:
        # "incomplete header").
        cls.msgs = [m for m in MESSAGES[:-1] if b"\r\n\r\n" in m or b"\n\n" in m]
        for m in cls.msgs:
            cls.srv.deliver(USER, m)
        cls.srv.start("imapd")

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def mbsync(self, rc):
        r = subprocess.run(["mbsync", "-c", rc, "-a"], capture_output=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        return r

    def test_pull_inbox(self):
        top = os.path.join(self.srv.dir, "mbsync")
        os.makedirs(os.path.join(top, "mail"))
        rc = os.path.join(top, "mbsyncrc")
        with open(rc, "w") as f:
            f.write(f"""IMAPAccount cove
Host 127.0.0.1
Port {self.srv.ports['imap']}
User {USER}
Pass {PASSWORD}
SSLType None
AuthMechs LOGIN

IMAPStore cove-remote
Account cove

MaildirStore local
Path {top}/mail/
Inbox {top}/mail/INBOX

Channel pull
Far :cove-remote:
Near :local:
Patterns INBOX
Sync Pull
Create Near
SyncState *
""")
        self.mbsync(rc)
        cur = os.path.join(top, "mail", "INBOX", "cur")
        new = os.path.join(top, "mail", "INBOX", "new")
        files = [os.path.join(d, n) for d in (cur, new) for n in os.listdir(d)]
        got = []
        for path in files:
            with open(path, "rb") as f:
                got.append(f.read())
        want = [m.replace(b"\r\n", b"\n") for m in self.msgs]

        def strip_tuid(data):
            # mbsync adds an X-TUID header line while syncing.
            return b"".join(line for line in data.splitlines(keepends=True)
                            if not line.startswith(b"X-TUID: "))
        self.assertEqual(sorted(strip_tuid(g) for g in got), sorted(want))
        # Nothing was read with BODY[] without PEEK: messages stay unseen.
        self.assertTrue(all(":2," not in p or p.endswith(",") for p in files), files)
        r = self.mbsync(rc)
        self.assertEqual(len(os.listdir(cur)) + len(os.listdir(new)), len(self.msgs), r.stdout)


if __name__ == "__main__":
    unittest.main()
