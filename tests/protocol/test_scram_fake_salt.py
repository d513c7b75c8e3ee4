"""SCRAM-SHA-256 must not reveal which users exist (docs/passwords.md): an
unknown user gets a made-up salt that is the same from cove-imapd and
cove-pop3d, the same after a restart and after the secret file was deleted
and remade only when deleted, and different in another installation."""
import base64
import os
import socket
import stat
import unittest

from coveharness import CoveServer
from imaptestlib import RawIMAP


def client_first(user):
    return base64.b64encode(f"n,,n={user},r=abcdefghijklmnop".encode()).decode()


def salt_of(server_first_b64):
    attrs = dict(kv.split("=", 1) for kv in
                 base64.b64decode(server_first_b64).decode().split(","))
    return attrs["s"], attrs["i"]


class ScramFakeSalt(unittest.TestCase):
    def setUp(self):
        self.servers = []

    def tearDown(self):
        for srv in self.servers:
            srv.stop()

    def server(self):
        srv = CoveServer()
        self.servers.append(srv)
        srv.add_user("real@example.org", "secret")
        return srv

    def imap_salt(self, srv, user):
        c = RawIMAP(srv.ports["imap"])
        try:
            c.send(b"s AUTHENTICATE SCRAM-SHA-256 " + client_first(user).encode() + b"\r\n")
            line = c.line()
            self.assertTrue(line.startswith(b"+ "), line)
            c.send(b"*\r\n")
            c.until_tagged(b"s")
            return salt_of(line[2:].decode())
        finally:
            c.close()

    def pop3_salt(self, srv, user):
        with socket.create_connection(("127.0.0.1", srv.ports["pop3"]), timeout=20) as s:
            f = s.makefile("rb")
            f.readline()
            s.sendall(b"AUTH SCRAM-SHA-256 " + client_first(user).encode() + b"\r\n")
            line = f.readline().rstrip(b"\r\n")
            self.assertTrue(line.startswith(b"+ "), line)
            s.sendall(b"*\r\n")
            f.readline()
            return salt_of(line[2:].decode())

    def test_fake_salt_stable_and_private(self):
        srv = self.server()
        secret = os.path.join(srv.dir, "store", "secret")
        self.assertTrue(os.path.isfile(secret))
        self.assertEqual(stat.S_IMODE(os.stat(secret).st_mode), 0o600)
        self.assertEqual(os.path.getsize(secret), 32)
        srv.start("imapd", "pop3d")
        ghost = self.imap_salt(srv, "ghost@example.org")
        real = self.imap_salt(srv, "real@example.org")
        # Same shape as a real salt, same from both daemons, per name.
        self.assertEqual(len(base64.b64decode(ghost[0])), len(base64.b64decode(real[0])))
        self.assertEqual(ghost[1], real[1])
        self.assertEqual(self.pop3_salt(srv, "ghost@example.org"), ghost)
        self.assertNotEqual(self.imap_salt(srv, "other@example.org"), ghost)
        p = srv.procs.pop("imapd")
        p.terminate()
        self.assertEqual(p.wait(timeout=20), 0)
        srv.start("imapd")
        self.assertEqual(self.imap_salt(srv, "ghost@example.org"), ghost)
        # Another installation has another secret, so another fake salt.
        other = self.server()
        other.start("imapd")
        self.assertNotEqual(self.imap_salt(other, "ghost@example.org"), ghost)

    def test_secret_made_by_first_daemon_when_missing(self):
        srv = self.server()
        secret = os.path.join(srv.dir, "store", "secret")
        os.unlink(secret)          # a store made before the secret existed
        srv.start("pop3d")
        # A worker that answers has run its init, which made the secret.
        first = self.pop3_salt(srv, "ghost@example.org")
        self.assertEqual(os.path.getsize(secret), 32)
        self.assertEqual(stat.S_IMODE(os.stat(secret).st_mode), 0o600)
        srv.start("imapd")
        self.assertEqual(self.imap_salt(srv, "ghost@example.org"), first)

    def test_unsafe_secret_stops_startup(self):
        srv = self.server()
        os.chmod(os.path.join(srv.dir, "store", "secret"), 0o644)
        try:
            srv.start("imapd")      # may see the port before the worker fails
        except AssertionError:
            pass
        p = srv.procs.pop("imapd")
        self.assertNotEqual(p.wait(timeout=30), 0)
        self.assertIn("group or others", srv.log_text("imapd"))


if __name__ == "__main__":
    unittest.main()
