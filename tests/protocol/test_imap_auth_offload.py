"""cove-imapd checks passwords on the worker's offload thread, not its loop.

One worker; "slow@example.org" has a deliberately expensive hash
(sha512-crypt, 1,000,000 rounds: about a third of a second per check).
While several clients LOGIN / AUTHENTICATE as that user at once, a logged-in
session's NOOPs keep coming back quickly (the loop is not blocked); wrong
passwords, unknown users and every plaintext mechanism answer as before;
clients that disconnect while their password is being checked are closed
at once and their checks cancelled (no login for nobody, no crash, no
sanitizer report at stop, the worker still serves); and
the failed-login throttle still delays repeated failures.
"""
import base64
import imaplib
import socket
import threading
import time
import unittest

from coveharness import CoveServer

SLOW_ROUNDS = "1000000"


class ImapAuthOffload(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = CoveServer(workers=1)
        cls.srv.covectl("user", "add", "slow@example.org", "--password-stdin", "--scheme",
                        "sha512-crypt", "--cost", SLOW_ROUNDS, input=b"slow pw\n")
        cls.srv.add_user("fast@example.org", "fast pw")
        cls.srv.start("imapd")
        cls.port = cls.srv.ports["imap"]

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def connect(self):
        return imaplib.IMAP4("127.0.0.1", self.port, timeout=30)

    def setUp(self):
        # A success forgets this address's failures (the throttle is per worker).
        c = self.connect()
        c.login("fast@example.org", "fast pw")
        c.logout()

    def slow_login(self, results, i, how):
        try:
            c = self.connect()
            start = time.monotonic()
            if how == "login":
                c.login("slow@example.org", "slow pw")
            else:
                c.authenticate("PLAIN", lambda _: b"\0slow@example.org\0slow pw")
            results[i] = ("ok", time.monotonic() - start)
            c.logout()
        except Exception as e:  # noqa: BLE001 - reported by the test
            results[i] = ("error", repr(e))

    def test_loop_serves_noop_while_passwords_hash(self):
        c = self.connect()
        c.login("fast@example.org", "fast pw")
        c.noop()
        hows = ["login", "plain", "login", "plain"]
        results = [None] * len(hows)
        threads = [threading.Thread(target=self.slow_login, args=(results, i, h))
                   for i, h in enumerate(hows)]
        for t in threads:
            t.start()
        latencies = []
        while any(t.is_alive() for t in threads):
            start = time.monotonic()
            typ, _ = c.noop()
            latencies.append(time.monotonic() - start)
            self.assertEqual(typ, "OK")
        for t in threads:
            t.join()
        c.logout()
        for r in results:
            self.assertEqual(r[0], "ok", r)
        # Four checks run one after another on the single offload thread.
        self.assertGreater(max(r[1] for r in results), 0.6, results)
        # Blocking the loop would let only a few NOOPs through (one between
        # two hashes) and make one wait a whole hash (~0.3 s).
        self.assertGreater(len(latencies), 100, f"{len(latencies)} NOOPs")
        self.assertLess(max(latencies), 0.25, f"slowest NOOP {max(latencies):.3f}s")

    def test_wrong_password_unknown_user_and_mechanisms(self):
        for user, pw in (("slow@example.org", "wrong"), ("nobody@example.org", "slow pw"),
                         ("slow@example.org", "")):
            c = self.connect()
            with self.assertRaises(imaplib.IMAP4.error) as cm:
                c.login(user, pw)
            self.assertIn("AUTHENTICATIONFAILED", str(cm.exception))
            c.logout()
            self.setUp()    # keep the throttle at zero delay
        c = self.connect()
        with self.assertRaises(imaplib.IMAP4.error) as cm:
            c.authenticate("PLAIN", lambda _: b"\0nobody@example.org\0slow pw")
        self.assertIn("AUTHENTICATIONFAILED", str(cm.exception))
        c.logout()
        self.setUp()
        # AUTHENTICATE LOGIN: "Username:" then "Password:" challenges.
        answers = iter([b"slow@example.org", b"slow pw"])
        c = self.connect()
        typ, _ = c.authenticate("LOGIN", lambda _: next(answers))
        self.assertEqual(typ, "OK")
        self.assertEqual(c.select("INBOX")[0], "OK")
        c.logout()

    def raw_command(self, line):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        s.recv(4096)   # greeting
        s.sendall(line)
        return s

    def logins(self):
        return self.srv.log_text("imapd").count("user=slow@example.org login ip=")

    def test_disconnect_while_the_password_is_checked(self):
        plain = base64.b64encode(b"\0slow@example.org\0slow pw").decode()
        before = self.logins()
        socks = []
        for i in range(3):
            socks.append(self.raw_command(b'a LOGIN slow@example.org "slow pw"\r\n'))
            socks.append(self.raw_command(f"b AUTHENTICATE PLAIN {plain}\r\n".encode()))
        time.sleep(0.05)   # the first check is running, the others queued
        for s in socks:
            s.close()
        # The worker goes on: a check queued behind the cancelled ones runs.
        c = self.connect()
        c.login("slow@example.org", "slow pw")
        self.assertEqual(c.noop()[0], "OK")
        c.logout()
        log = self.srv.log_text("imapd")
        self.assertNotIn("AddressSanitizer", log)
        # Closed at once and their checks cancelled: none of the six logged
        # in for nobody (the one running when they hung up finished without
        # an answer); only the last client did.
        self.assertEqual(self.logins() - before, 1, log[-3000:])

    def test_throttle_still_delays_failures(self):
        delays = []
        for _ in range(3):
            c = self.connect()
            start = time.monotonic()
            with self.assertRaises(imaplib.IMAP4.error):
                c.login("slow@example.org", "wrong")
            delays.append(time.monotonic() - start)
            c.logout()
        # 0, 1 and 2 s of throttle on top of the hash.
        self.assertLess(delays[0], 0.9, delays)
        self.assertGreater(delays[1], 1.0, delays)
        self.assertGreater(delays[2], 2.0, delays)
        self.assertIn("auth failed ip=127.0.0.1", self.srv.log_text("imapd"))


if __name__ == "__main__":
    unittest.main()
