"""cove-pop3d checks passwords on the worker's offload thread, not its loop.

One worker; slow0..slow3 have deliberately expensive hashes (sha512-crypt,
1,000,000 rounds: about a third of a second per check). While they log in
at once (USER/PASS and AUTH PLAIN), a logged-in session's NOOPs keep coming
back quickly; wrong passwords, unknown users and AUTH LOGIN answer as
before; a command pipelined behind PASS waits for the check's answer;
clients that disconnect mid-check are closed at once and their checks
cancelled (no login for nobody), leaving the worker serving (and no
sanitizer report at stop).
"""
import base64
import poplib
import socket
import threading
import time
import unittest

from coveharness import CoveServer


class Pop3AuthOffload(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = CoveServer(workers=1)
        for i in range(4):
            cls.srv.covectl("user", "add", f"slow{i}@example.org", "--password-stdin",
                            "--scheme", "sha512-crypt", "--cost", "1000000",
                            input=b"slow pw\n")
        cls.srv.add_user("fast@example.org", "fast pw")
        cls.srv.start("pop3d")
        cls.port = cls.srv.ports["pop3"]

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def connect(self):
        return poplib.POP3("127.0.0.1", self.port, timeout=30)

    def setUp(self):
        p = self.connect()   # a success forgets this address's failures
        p.user("fast@example.org")
        p.pass_("fast pw")
        p.quit()

    def slow_login(self, results, i):
        try:
            p = self.connect()
            start = time.monotonic()
            if i % 2 == 0:
                p.user(f"slow{i}@example.org")
                p.pass_("slow pw")
            else:
                resp = p._shortcmd("AUTH PLAIN " + base64.b64encode(
                    f"\0slow{i}@example.org\0slow pw".encode()).decode())
                assert resp.startswith(b"+OK"), resp
            results[i] = ("ok", time.monotonic() - start)
            p.quit()
        except Exception as e:  # noqa: BLE001 - reported by the test
            results[i] = ("error", repr(e))

    def test_loop_serves_noop_while_passwords_hash(self):
        p = self.connect()
        p.user("fast@example.org")
        p.pass_("fast pw")
        results = [None] * 4
        threads = [threading.Thread(target=self.slow_login, args=(results, i))
                   for i in range(4)]
        for t in threads:
            t.start()
        latencies = []
        while any(t.is_alive() for t in threads):
            start = time.monotonic()
            p.noop()
            latencies.append(time.monotonic() - start)
        for t in threads:
            t.join()
        p.quit()
        for r in results:
            self.assertEqual(r[0], "ok", r)
        self.assertGreater(max(r[1] for r in results), 0.6, results)
        self.assertGreater(len(latencies), 100, f"{len(latencies)} NOOPs")
        self.assertLess(max(latencies), 0.25, f"slowest NOOP {max(latencies):.3f}s")

    def test_failures_and_auth_login(self):
        for user, pw in (("slow0@example.org", "wrong"), ("nobody@example.org", "slow pw")):
            p = self.connect()
            p.user(user)
            with self.assertRaises(poplib.error_proto) as cm:
                p.pass_(pw)
            self.assertIn(b"[AUTH]", cm.exception.args[0])
            p.quit()
            self.setUp()
        p = self.connect()
        with self.assertRaises(poplib.error_proto) as cm:
            p._shortcmd("AUTH PLAIN " + base64.b64encode(
                b"\0slow1@example.org\0wrong").decode())
        self.assertIn(b"[AUTH]", cm.exception.args[0])
        p.quit()
        self.setUp()
        p = self.connect()
        self.assertTrue(p._shortcmd("AUTH LOGIN").startswith(b"+ "))
        self.assertTrue(p._shortcmd(base64.b64encode(b"slow2@example.org").decode())
                        .startswith(b"+ "))
        self.assertTrue(p._shortcmd(base64.b64encode(b"slow pw").decode())
                        .startswith(b"+OK"))
        self.assertEqual(p.stat()[0], 0)
        p.quit()

    def test_pipelined_command_waits_for_the_check(self):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        f = s.makefile("rb")
        f.readline()
        s.sendall(b"USER slow3@example.org\r\nPASS slow pw\r\nSTAT\r\nQUIT\r\n")
        lines = [f.readline() for _ in range(4)]
        s.close()
        self.assertTrue(lines[0].startswith(b"+OK"), lines)
        self.assertTrue(lines[1].startswith(b"+OK Logged in"), lines)
        self.assertTrue(lines[2].startswith(b"+OK 0 0"), lines)

    def logins(self, user):
        return self.srv.log_text("pop3d").count(f"user={user} login method=")

    def test_disconnect_while_the_password_is_checked(self):
        plain = base64.b64encode(b"\0slow0@example.org\0slow pw")
        before = (self.logins("slow0@example.org"), self.logins("slow1@example.org"))
        for i in range(3):
            for cmds in (b"USER slow1@example.org\r\nPASS slow pw\r\n",
                         b"AUTH PLAIN " + plain + b"\r\n"):
                s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
                s.recv(4096)
                s.sendall(cmds)
                time.sleep(0.01)
                s.close()
        p = self.connect()
        p.user("slow1@example.org")
        p.pass_("slow pw")
        self.assertEqual(p.stat()[0], 0)
        p.quit()
        self.assertNotIn("AddressSanitizer", self.srv.log_text("pop3d"))
        # Closed at once and their checks cancelled: no login for nobody,
        # only the last client's.
        after = (self.logins("slow0@example.org"), self.logins("slow1@example.org"))
        self.assertEqual((after[0] - before[0], after[1] - before[1]), (0, 1))


if __name__ == "__main__":
    unittest.main()
