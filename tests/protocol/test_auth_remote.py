"""Plaintext authentication on a real non-loopback link (DESIGN.md limits;
RFC 3501 §6.2.3 LOGINDISABLED, RFC 5530 PRIVACYREQUIRED, RFC 2595 §2.2,
RFC 2449 / RFC 5034 [AUTH]).

cove-imapd and cove-pop3d run inside a network namespace (netns.py) and the
clients connect over a veth pair, so the daemons see a remote peer. Before
TLS: IMAP advertises LOGINDISABLED and no AUTH=PLAIN and answers LOGIN and
AUTHENTICATE PLAIN with NO [PRIVACYREQUIRED]; POP3 hides USER and the
plaintext SASL mechanisms and answers USER, PASS and AUTH PLAIN/LOGIN with
-ERR [AUTH]. SCRAM-SHA-256 never reveals the password and stays allowed in
both. After STARTTLS / STLS, on the implicit-TLS ports, and everywhere with
[server] allow_plaintext_auth = yes, plaintext logins work.

Skipped (with the reason) when not root or `ip netns` is unavailable.
"""
import base64
import socket
import ssl
import unittest

import netns
from coveharness import CoveServer
from imaptestlib import scram_sha256

USER, PASSWORD = "remote@example.org", "secret"
PLAIN_IR = base64.b64encode(f"\0{USER}\0{PASSWORD}".encode())


def tls_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class Link:
    """A line-level client for either protocol, with an in-place TLS upgrade."""

    def __init__(self, host, port, tls=False):
        self.sock = socket.create_connection((host, port), timeout=20)
        if tls:
            self.starttls()
        self.buf = b""
        self.greeting = self.line()

    def starttls(self):
        self.sock = tls_context().wrap_socket(self.sock)

    def send(self, text):
        self.sock.sendall(text.encode() + b"\r\n")

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError(repr(self.buf))
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode()

    def imap(self, tag, text):
        """Sends an IMAP command; returns (untagged lines, tagged line)."""
        self.send(f"{tag} {text}")
        lines = []
        while True:
            line = self.line()
            if line.startswith(tag + " "):
                return lines, line
            lines.append(line)

    def pop(self, text):
        self.send(text)
        return self.line()

    def pop_multi(self, text):
        first = self.pop(text)
        lines = []
        while first.startswith("+OK"):
            line = self.line()
            if line == ".":
                break
            lines.append(line)
        return first, lines

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class RemoteCase(unittest.TestCase):
    """Starts one installation in a namespace per class (extra_conf below)."""
    extra_conf = ""

    @classmethod
    def setUpClass(cls):
        reason = netns.skip_reason()
        if reason is not None:
            raise unittest.SkipTest(reason)
        cls.ns = netns.NetNS()
        try:
            cls.srv = CoveServer(extra_conf=cls.extra_conf, host=cls.ns.ns_addr,
                                 wrap=cls.ns.wrap())
            cls.srv.add_user(USER, PASSWORD)
            cls.srv.start("imapd", "pop3d")
        except BaseException:
            if hasattr(cls, "srv"):
                cls.srv.stop()
            cls.ns.close()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            cls.srv.stop()
        finally:
            cls.ns.close()

    def link(self, proto, tls=False):
        port = self.srv.ports[proto + ("s" if tls else "")]
        c = Link(self.ns.ns_addr, port, tls=tls)
        self.addCleanup(c.close)
        return c

    def imap_capabilities(self, c):
        lines, tagged = c.imap("c", "CAPABILITY")
        self.assertTrue(tagged.startswith("c OK"), tagged)
        caps = [l for l in lines if l.startswith("* CAPABILITY ")]
        self.assertEqual(len(caps), 1, lines)
        return caps[0].split()[2:]

    def imap_scram(self, c, user=USER, password=PASSWORD):
        """AUTHENTICATE SCRAM-SHA-256 with an initial response; the tagged reply."""
        client = scram_sha256(user, password)
        first = base64.b64encode(next(client)).decode()
        c.send(f"s AUTHENTICATE SCRAM-SHA-256 {first}")
        while True:
            line = c.line()
            if not line.startswith("+ "):
                return line
            try:
                msg = client.send(base64.b64decode(line[2:]))
            except AssertionError:
                c.send("*")
                continue
            c.send(base64.b64encode(msg).decode())

    def pop_scram(self, c, user=USER, password=PASSWORD):
        client = scram_sha256(user, password)
        reply = c.pop("AUTH SCRAM-SHA-256 " + base64.b64encode(next(client)).decode())
        while reply.startswith("+ "):
            msg = client.send(base64.b64decode(reply[2:]))
            reply = c.pop(base64.b64encode(msg).decode())
        return reply


class RemoteRefused(RemoteCase):
    def test_peer_is_remote(self):
        # The daemon logs the peer: the test's side of the veth pair.
        c = self.link("imap")
        c.imap("n", "NOOP")
        self.assertIn(self.ns.host_addr, self.srv.log_text("imapd"))

    def test_imap_capability_before_tls(self):
        caps = self.imap_capabilities(self.link("imap"))
        self.assertIn("LOGINDISABLED", caps)
        self.assertIn("STARTTLS", caps)
        self.assertIn("AUTH=SCRAM-SHA-256", caps)
        self.assertNotIn("AUTH=PLAIN", caps)

    def test_imap_login_and_plain_refused(self):
        c = self.link("imap")
        _, tagged = c.imap("a", f"LOGIN {USER} {PASSWORD}")
        self.assertTrue(tagged.startswith("a NO [PRIVACYREQUIRED]"), tagged)
        _, tagged = c.imap("b", "AUTHENTICATE PLAIN " + PLAIN_IR.decode())
        self.assertTrue(tagged.startswith("b NO [PRIVACYREQUIRED]"), tagged)
        _, tagged = c.imap("c", "AUTHENTICATE LOGIN")
        self.assertTrue(tagged.startswith("c NO [PRIVACYREQUIRED]"), tagged)
        # Still not authenticated; SCRAM (no password on the wire) works.
        _, tagged = c.imap("d", "SELECT INBOX")
        self.assertTrue(tagged.startswith("d BAD") or tagged.startswith("d NO"), tagged)
        self.assertTrue(self.imap_scram(c).startswith("s OK"))

    def test_imap_after_starttls(self):
        c = self.link("imap")
        _, tagged = c.imap("t", "STARTTLS")
        self.assertTrue(tagged.startswith("t OK"), tagged)
        c.starttls()
        caps = self.imap_capabilities(c)
        self.assertNotIn("LOGINDISABLED", caps)
        self.assertNotIn("STARTTLS", caps)
        self.assertIn("AUTH=PLAIN", caps)
        _, tagged = c.imap("a", f"LOGIN {USER} {PASSWORD}")
        self.assertTrue(tagged.startswith("a OK"), tagged)

    def test_imaps(self):
        c = self.link("imap", tls=True)
        self.assertIn("AUTH=PLAIN", self.imap_capabilities(c))
        _, tagged = c.imap("a", "AUTHENTICATE PLAIN " + PLAIN_IR.decode())
        self.assertTrue(tagged.startswith("a OK"), tagged)

    def test_pop3_capa_before_tls(self):
        first, caps = self.link("pop3").pop_multi("CAPA")
        self.assertTrue(first.startswith("+OK"), first)
        self.assertNotIn("USER", caps)
        self.assertIn("STLS", caps)
        self.assertIn("SASL SCRAM-SHA-256", caps)

    def test_pop3_plaintext_refused(self):
        c = self.link("pop3")
        self.assertTrue(c.pop(f"USER {USER}").startswith("-ERR [AUTH]"))
        self.assertTrue(c.pop(f"PASS {PASSWORD}").startswith("-ERR [AUTH]"))
        self.assertTrue(c.pop("AUTH PLAIN " + PLAIN_IR.decode()).startswith("-ERR [AUTH]"))
        self.assertTrue(c.pop("AUTH LOGIN").startswith("-ERR [AUTH]"))
        first, mechs = c.pop_multi("AUTH")
        self.assertTrue(first.startswith("+OK"), first)
        self.assertEqual(mechs, ["SCRAM-SHA-256"])
        self.assertTrue(self.pop_scram(c).startswith("+OK"))
        self.assertTrue(c.pop("STAT").startswith("+OK"))
        c.pop("QUIT")

    def test_pop3_after_stls_and_pop3s(self):
        c = self.link("pop3")
        self.assertTrue(c.pop("STLS").startswith("+OK"))
        c.starttls()
        _, caps = c.pop_multi("CAPA")
        self.assertIn("USER", caps)
        self.assertNotIn("STLS", caps)
        self.assertTrue(c.pop(f"USER {USER}").startswith("+OK"))
        self.assertTrue(c.pop(f"PASS {PASSWORD}").startswith("+OK"))
        c.pop("QUIT")
        c = self.link("pop3", tls=True)
        self.assertTrue(c.pop("AUTH PLAIN " + PLAIN_IR.decode()).startswith("+OK"))
        c.pop("QUIT")


class RemoteAllowed(RemoteCase):
    """[server] allow_plaintext_auth = yes lifts the rule on every link."""
    extra_conf = "[server]\nallow_plaintext_auth = yes\n"

    def test_imap(self):
        c = self.link("imap")
        caps = self.imap_capabilities(c)
        self.assertNotIn("LOGINDISABLED", caps)
        self.assertIn("AUTH=PLAIN", caps)
        _, tagged = c.imap("a", f"LOGIN {USER} {PASSWORD}")
        self.assertTrue(tagged.startswith("a OK"), tagged)

    def test_pop3(self):
        c = self.link("pop3")
        _, caps = c.pop_multi("CAPA")
        self.assertIn("USER", caps)
        self.assertTrue(c.pop(f"USER {USER}").startswith("+OK"))
        self.assertTrue(c.pop(f"PASS {PASSWORD}").startswith("+OK"))
        c.pop("QUIT")


if __name__ == "__main__":
    unittest.main()
