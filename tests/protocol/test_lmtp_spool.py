"""cove-lmtpd: messages over [lmtp] spool_memory wait in an unlinked file in
the spool directory, and every path gives it back.

- The default spool directory is <state_dir>/spool, created 0700.
- A 20 MB dot-stuffed message goes through a spool file (seen open in the
  worker while DATA runs) and is stored byte-exact.
- After a delivery, a connection dropped mid-DATA (nothing stored), RSET
  after a BDAT chunk and a BDAT chunk over the size limit, the worker holds
  no spool file and the directory is empty.
- A message under the threshold never opens a spool file.
- A spool_dir that cannot be made stops start-up with one line naming it.
"""
import os
import shutil
import stat
import subprocess
import time
import unittest

from coveharness import DAEMONS, CoveServer
from lmtpclient import RawLmtp, fetch, mailbox_counts, stuff, trace


class LmtpSpool(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = CoveServer(extra_conf="[lmtp]\nspool_memory = 64k\n"
                                        "[limits]\nmax_message_size = 24M\n")
        for name in ("big", "drop", "bdat", "small"):
            cls.srv.add_user(f"{name}@example.org", "pw")
        cls.srv.start("lmtpd")
        cls.port = cls.srv.ports["lmtp"]
        cls.spool = os.path.join(cls.srv.dir, "store", "spool")

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def client(self):
        c = RawLmtp(self.port)
        self.addCleanup(c.close)
        self.assertEqual(c.cmd("LHLO x")[0], 250)
        return c

    def spool_fds(self):
        """Descriptors of the worker that point into the spool directory."""
        found = []
        for pid in self.srv.worker_pids("lmtpd"):
            fd_dir = f"/proc/{pid}/fd"
            for fd in os.listdir(fd_dir):
                try:
                    target = os.readlink(os.path.join(fd_dir, fd))
                except OSError:
                    continue
                if target.startswith(self.spool + "/"):
                    found.append(target)
        return found

    def wait_spool_fds(self, want_open, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if bool(self.spool_fds()) == want_open:
                return
            time.sleep(0.05)
        self.fail(f"spool files open: {self.spool_fds()}, wanted open={want_open}")

    def assert_spool_clean(self):
        self.wait_spool_fds(False)
        self.assertEqual(os.listdir(self.spool), [])

    def test_directory_created_private(self):
        st = os.stat(self.spool)
        self.assertTrue(stat.S_ISDIR(st.st_mode))
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o700)

    def test_20mb_through_file_byte_exact(self):
        line = b"0123456789" * 9 + b"\r\n"
        huge = b"Subject: big\r\n\r\n" + b"".join(
            (b"." if i % 7 == 0 else b"") + line + (b"\r\n" if i % 1000 == 0 else b"")
            for i in range(20 * 1024 * 1024 // 92)) + bytes(range(256)) + b"\r\n"
        self.assertGreater(len(huge), 20 * 1024 * 1024)
        wire = stuff(huge)
        c = self.client()
        c.cmd("MAIL FROM:<s@example.net>")
        self.assertEqual(c.cmd("RCPT TO:<big@example.org>")[0], 250)
        self.assertEqual(c.cmd("DATA")[0], 354)
        half = len(wire) // 2
        c.send(wire[:half])
        self.wait_spool_fds(True)   # past 64k: the message is in a file
        self.assertEqual(os.listdir(self.spool), [], "the file has no name")
        c.send(wire[half:])
        code, text = c.reply()
        self.assertEqual(code, 250, text)
        self.assertEqual(c.cmd("QUIT")[0], 221)
        self.assertEqual(fetch(self.srv, "big@example.org", "INBOX", 1),
                         trace("s@example.net", "big@example.org") + huge)
        self.assert_spool_clean()

    def test_dropped_mid_data_stores_nothing(self):
        c = self.client()
        c.cmd("MAIL FROM:<s@example.net>")
        self.assertEqual(c.cmd("RCPT TO:<drop@example.org>")[0], 250)
        self.assertEqual(c.cmd("DATA")[0], 354)
        c.send(b"Subject: cut\r\n\r\n" + (b"x" * 998 + b"\r\n") * 3000)
        self.wait_spool_fds(True)
        c.close()
        self.assert_spool_clean()
        self.assertEqual(mailbox_counts(self.srv, "drop@example.org")["INBOX"], 0)

    def test_rset_and_oversize_bdat_release_the_file(self):
        c = self.client()
        c.cmd("MAIL FROM:<s@example.net>")
        self.assertEqual(c.cmd("RCPT TO:<bdat@example.org>")[0], 250)
        chunk = b"Subject: chunk\r\n\r\n" + b"y" * 300000
        c.send(b"BDAT %d\r\n" % len(chunk) + chunk)
        self.assertEqual(c.reply()[0], 250)
        self.wait_spool_fds(True)
        self.assertEqual(c.cmd("RSET")[0], 250)
        self.assert_spool_clean()
        # A chunk that would pass max_message_size: 552, nothing kept.
        c.cmd("MAIL FROM:<s@example.net>")
        self.assertEqual(c.cmd("RCPT TO:<bdat@example.org>")[0], 250)
        c.send(b"BDAT %d\r\n" % len(chunk) + chunk)
        self.assertEqual(c.reply()[0], 250)
        self.wait_spool_fds(True)
        big = 24 * 1024 * 1024
        c.send(b"BDAT %d LAST\r\n" % big)
        self.assert_spool_clean()   # dropped at once, before the chunk arrives
        c.send(b"z" * big)
        self.assertEqual(c.reply()[0], 552)
        self.assertEqual(mailbox_counts(self.srv, "bdat@example.org")["INBOX"], 0)
        self.assertEqual(c.cmd("QUIT")[0], 221)

    def test_small_message_stays_in_memory(self):
        c = self.client()
        c.cmd("MAIL FROM:<s@example.net>")
        self.assertEqual(c.cmd("RCPT TO:<small@example.org>")[0], 250)
        self.assertEqual(c.cmd("DATA")[0], 354)
        body = b"Subject: small\r\n\r\n" + b"s" * 60000 + b"\r\n"
        c.send(stuff(body)[:-3])   # all but the end-of-data line
        time.sleep(0.3)
        self.assertEqual(self.spool_fds(), [])
        c.send(b".\r\n")
        self.assertEqual(c.reply()[0], 250)
        self.assertEqual(fetch(self.srv, "small@example.org", "INBOX", 1),
                         trace("s@example.net", "small@example.org") + body)


class LmtpSpoolDirBad(unittest.TestCase):
    def test_unusable_spool_dir_stops_start_up(self):
        srv = CoveServer(extra_conf="[lmtp]\nspool_dir = /nonexistent/cove/spool\n")
        try:
            r = subprocess.run([DAEMONS["lmtpd"], "-F", "-c", srv.conf],
                               capture_output=True, timeout=30)
            err = r.stderr.decode(errors="replace")
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("[lmtp] spool_dir /nonexistent/cove/spool: cannot create", err)
        finally:
            shutil.rmtree(srv.dir, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
