"""cove-pop3d logins with every password scheme covectl can store.

`covectl user add|passwd --scheme yescrypt|sha512-crypt|pbkdf2-sha256
[--cost N]` makes the hash; USER/PASS and AUTH PLAIN must accept the right
password and refuse a wrong one for each. Unknown schemes and out-of-range
costs are usage errors (exit 64) that create nothing. Also: LIST sizes of
freshly delivered mail with bare LFs, a final CR and no final line end
(taken from the structure stored at append) equal RETR's octets.
"""
import base64
import poplib
import unittest

from coveharness import CoveServer

SCHEMES = [("yescrypt", None), ("sha512-crypt", "5000"), ("sha512-crypt", None),
           ("pbkdf2-sha256", "100000")]


class Pop3Schemes(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = CoveServer()
        for i, (scheme, cost) in enumerate(SCHEMES):
            args = ["user", "add", f"s{i}@example.org", "--password-stdin", "--scheme", scheme]
            if cost is not None:
                args += ["--cost", cost]
            cls.srv.covectl(*args, input=f"pw{i}\n".encode())
        cls.srv.start("pop3d")
        cls.port = cls.srv.ports["pop3"]

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def login(self, user, password):
        p = poplib.POP3("127.0.0.1", self.port, timeout=20)
        p.user(user)
        p.pass_(password)
        return p

    def test_each_scheme_logs_in(self):
        for i, (scheme, _) in enumerate(SCHEMES):
            p = self.login(f"s{i}@example.org", f"pw{i}")
            self.assertEqual(p.stat()[0], 0, scheme)
            p.quit()
            p = poplib.POP3("127.0.0.1", self.port, timeout=20)
            resp = p._shortcmd("AUTH PLAIN " + base64.b64encode(
                f"\0s{i}@example.org\0pw{i}".encode()).decode())
            self.assertTrue(resp.startswith(b"+OK"), scheme)
            p.quit()

    def test_wrong_password_refused(self):
        with self.assertRaises(poplib.error_proto) as cm:
            self.login("s1@example.org", "pw0")
        self.assertIn(b"[AUTH]", cm.exception.args[0])

    def test_passwd_changes_scheme(self):
        self.srv.covectl("user", "add", "c@example.org", "--password-stdin",
                         input=b"old\n")
        self.srv.covectl("user", "passwd", "c@example.org", "--password-stdin",
                         "--scheme", "pbkdf2-sha256", input=b"new\n")
        self.login("c@example.org", "new").quit()
        with self.assertRaises(poplib.error_proto):
            self.login("c@example.org", "old")

    def test_bad_scheme_or_cost_is_a_usage_error(self):
        for extra in (["--scheme", "md5"], ["--scheme", "sha512-crypt", "--cost", "10"],
                      ["--cost", "x"], ["--scheme"]):
            r = self.srv.covectl("user", "add", "bad@example.org", "--password-stdin",
                                 *extra, input=b"pw\n", check=False)
            self.assertEqual(r.returncode, 64, extra)
            self.assertEqual(len(r.stderr.splitlines()), 1, r.stderr)
        r = self.srv.covectl("user", "list", "--json")
        self.assertNotIn(b"bad@example.org", r.stdout)
        r = self.srv.covectl("user", "list", "--json", "--scheme", "yescrypt", check=False)
        self.assertEqual(r.returncode, 64)

    def test_sizes_from_stored_structure(self):
        bodies = [b"Subject: a\n\nbare\nlf\n", b"Subject: b\r\n\r\nends in cr\r",
                  b"Subject: c\r\n\r\nno end", b"Subject: d\r\n\r\nmixed\n\r\n.dot\r\n",
                  b"x"]
        self.srv.add_user("z@example.org", "pw")
        for b in bodies:
            self.srv.deliver("z@example.org", b)
        p = self.login("z@example.org", "pw")
        sizes = [int(l.split()[1]) for l in p.list()[1]]
        for n in range(1, len(bodies) + 1):
            resp, lines, _ = p.retr(n)
            self.assertEqual(resp, b"+OK %d octets" % sizes[n - 1])
            self.assertEqual(len(b"".join(l + b"\r\n" for l in lines)), sizes[n - 1])
        p.quit()
        self.assertNotIn("stored structure disagrees", self.srv.log_text("pop3d"))


if __name__ == "__main__":
    unittest.main()
