"""cove-pop3d: AUTH (RFC 5034), STLS (RFC 2595) and implicit TLS (POP3S).

PLAIN with and without initial response ("=" for empty), LOGIN, SCRAM-SHA-256
(a client written here from RFC 5802), the "*" cancel, bad base64, unknown
mechanisms, [AUTH] on failure, the per-session failure limit, the bare AUTH
mechanism list, STLS then login, STLS twice, and a full session over POP3S.
"""
import base64
import hashlib
import hmac
import os
import poplib
import socket
import ssl
import unittest

from coveharness import CoveServer


def b64(data):
    return base64.b64encode(data).decode()


def tls_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class Raw:
    def __init__(self, port, tls=False):
        sock = socket.create_connection(("127.0.0.1", port), timeout=15)
        if tls:
            sock = tls_context().wrap_socket(sock)
        self.sock = sock
        self.f = sock.makefile("rb")
        self.greeting = self.f.readline()

    def cmd(self, text):
        self.sock.sendall(text.encode() + b"\r\n")
        return self.f.readline()

    def line(self):
        return self.f.readline()

    def close(self):
        self.f.close()
        self.sock.close()


def scram_client(raw, user, password, initial=True):
    """Runs SCRAM-SHA-256 on raw; returns the final server line."""
    cnonce = b64(os.urandom(18))
    first_bare = f"n={user},r={cnonce}"
    gs2 = "n,,"
    if initial:
        reply = raw.cmd("AUTH SCRAM-SHA-256 " + b64((gs2 + first_bare).encode()))
    else:
        assert raw.cmd("AUTH SCRAM-SHA-256") == b"+ \r\n"
        reply = raw.cmd(b64((gs2 + first_bare).encode()))
    assert reply.startswith(b"+ "), reply
    server_first = base64.b64decode(reply[2:].strip()).decode()
    attrs = dict(kv.split("=", 1) for kv in server_first.split(","))
    salt = base64.b64decode(attrs["s"])
    iters = int(attrs["i"])
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iters)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    final_wo_proof = f"c={b64(gs2.encode())},r={attrs['r']}"
    auth_msg = f"{first_bare},{server_first},{final_wo_proof}".encode()
    sig = hmac.new(stored_key, auth_msg, hashlib.sha256).digest()
    proof = bytes(a ^ b for a, b in zip(client_key, sig))
    reply = raw.cmd(b64(f"{final_wo_proof},p={b64(proof)}".encode()))
    if not reply.startswith(b"+ "):
        return reply
    server_final = base64.b64decode(reply[2:].strip()).decode()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    expect = b64(hmac.new(server_key, auth_msg, hashlib.sha256).digest())
    assert server_final == "v=" + expect, server_final
    return raw.cmd("")


class Pop3Auth(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = CoveServer()
        for i in range(1, 10):
            cls.srv.add_user(f"a{i}@example.org", f"secret{i}")
            cls.srv.deliver(f"a{i}@example.org", b"Subject: hi\r\n\r\nhello\r\n")
        cls.srv.start("pop3d")
        cls.port = cls.srv.ports["pop3"]

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def test_plain_initial_response(self):
        r = Raw(self.port)
        reply = r.cmd("AUTH PLAIN " + b64(b"\0a1@example.org\0secret1"))
        self.assertTrue(reply.startswith(b"+OK"), reply)
        self.assertTrue(r.cmd("STAT").startswith(b"+OK 1 "))
        r.cmd("QUIT")
        r.close()

    def test_plain_continuation_and_authzid(self):
        r = Raw(self.port)
        self.assertEqual(r.cmd("AUTH PLAIN"), b"+ \r\n")
        reply = r.cmd(b64(b"a2@example.org\0a2@example.org\0secret2"))
        self.assertTrue(reply.startswith(b"+OK"), reply)
        r.cmd("QUIT")
        r.close()
        r = Raw(self.port)
        # Empty initial response "=" is a (failing) PLAIN message, not a prompt.
        reply = r.cmd("AUTH PLAIN =")
        self.assertTrue(reply.startswith(b"-ERR [AUTH]"), reply)
        # An authzid naming someone else fails.
        reply = r.cmd("AUTH PLAIN " + b64(b"a1@example.org\0a2@example.org\0secret2"))
        self.assertTrue(reply.startswith(b"-ERR [AUTH]"), reply)
        r.close()

    def test_login_mechanism(self):
        r = Raw(self.port)
        reply = r.cmd("AUTH LOGIN")
        self.assertTrue(reply.startswith(b"+ "), reply)
        reply = r.cmd(b64(b"a3@example.org"))
        self.assertTrue(reply.startswith(b"+ "), reply)
        reply = r.cmd(b64(b"secret3"))
        self.assertTrue(reply.startswith(b"+OK"), reply)
        r.cmd("QUIT")
        r.close()

    def test_scram_sha_256(self):
        r = Raw(self.port)
        reply = scram_client(r, "a4@example.org", "secret4")
        self.assertTrue(reply.startswith(b"+OK"), reply)
        self.assertTrue(r.cmd("STAT").startswith(b"+OK 1 "))
        r.cmd("QUIT")
        r.close()
        r = Raw(self.port)
        reply = scram_client(r, "a4@example.org", "secret4", initial=False)
        self.assertTrue(reply.startswith(b"+OK"), reply)
        r.cmd("QUIT")
        r.close()
        r = Raw(self.port)
        reply = scram_client(r, "a4@example.org", "wrong")
        self.assertTrue(reply.startswith(b"-ERR [AUTH]"), reply)
        r.close()

    def test_cancel_bad_base64_unknown_mech(self):
        r = Raw(self.port)
        self.assertEqual(r.cmd("AUTH PLAIN"), b"+ \r\n")
        self.assertTrue(r.cmd("*").startswith(b"-ERR"))
        self.assertTrue(r.cmd("AUTH PLAIN !!!notbase64").startswith(b"-ERR"))
        self.assertEqual(r.cmd("AUTH LOGIN"), b"+ VXNlcm5hbWU6\r\n")
        self.assertTrue(r.cmd("%%%").startswith(b"-ERR"))
        self.assertTrue(r.cmd("AUTH CRAM-MD5").startswith(b"-ERR"))
        self.assertTrue(r.cmd("AUTH X" * 1).startswith(b"-ERR"))
        # The session is still usable.
        reply = r.cmd("AUTH PLAIN " + b64(b"\0a5@example.org\0secret5"))
        self.assertTrue(reply.startswith(b"+OK"), reply)
        r.cmd("QUIT")
        r.close()

    def test_bare_auth_lists_mechanisms(self):
        r = Raw(self.port)
        self.assertTrue(r.cmd("AUTH").startswith(b"+OK"))
        mechs = []
        while True:
            line = r.line()
            if line == b".\r\n":
                break
            mechs.append(line.strip().decode())
        self.assertEqual(sorted(mechs), ["LOGIN", "PLAIN", "SCRAM-SHA-256"])
        r.close()

    def test_failures_disconnect(self):
        r = Raw(self.port)
        replies = []
        for _ in range(5):
            replies.append(r.cmd("AUTH PLAIN " + b64(b"\0a6@example.org\0bad")))
        self.assertTrue(all(x.startswith(b"-ERR [AUTH]") for x in replies), replies)
        self.assertEqual(r.line(), b"", "closed after the 5th failure")
        r.close()

    def test_stls(self):
        p = poplib.POP3("127.0.0.1", self.port, timeout=15)
        self.assertIn("STLS", p.capa())
        p.stls(tls_context())
        self.assertNotIn("STLS", p.capa())
        with self.assertRaisesRegex(poplib.error_proto, "-ERR"):
            p._shortcmd("STLS")
        p.user("a7@example.org")
        p.pass_("secret7")
        self.assertEqual(p.stat()[0], 1)
        self.assertEqual(p.retr(1)[1][-1], b"hello")
        p.quit()

    def test_stls_discards_injected_commands(self):
        r = Raw(self.port)
        # Commands pipelined after STLS in plaintext must not be executed.
        r.sock.sendall(b"STLS\r\nUSER a8@example.org\r\n")
        self.assertTrue(r.line().startswith(b"+OK"))
        tls = tls_context().wrap_socket(r.sock)
        f = tls.makefile("rb")
        tls.sendall(b"PASS secret8\r\n")
        self.assertTrue(f.readline().startswith(b"-ERR"), "USER was discarded")
        tls.close()

    def test_pop3s(self):
        p = poplib.POP3_SSL("127.0.0.1", self.srv.ports["pop3s"], context=tls_context(),
                            timeout=15)
        self.assertTrue(p.getwelcome().startswith(b"+OK"))
        caps = p.capa()
        self.assertNotIn("STLS", caps)
        self.assertIn("USER", caps)
        p.user("a9@example.org")
        p.pass_("secret9")
        resp, lines, _ = p.retr(1)
        self.assertEqual(lines, [b"Subject: hi", b"", b"hello"])
        p.quit()
        r = Raw(self.srv.ports["pop3s"], tls=True)
        reply = scram_client(r, "a9@example.org", "secret9")
        self.assertTrue(reply.startswith(b"+OK"), reply)
        r.cmd("QUIT")
        r.close()


if __name__ == "__main__":
    unittest.main()
