"""A 20 MB FETCH BODY[] streamed by cove-imapd: byte-exact, read slowly by
the client while the worker's resident memory is sampled, so the message
is never held whole in the daemon (issue: memory per session stays small
whatever the message size)."""
import hashlib
import imaplib
import os
import random
import re
import socket
import ssl
import time
import unittest

from coveharness import CoveServer

USER, PASSWORD = "large@example.org", "secret"
SIZE = 20 * 1024 * 1024


def big_message():
    rnd = random.Random(20)
    header = (b"From: big@example.org\r\nSubject: 20 MB\r\n"
              b"Content-Type: application/octet-stream\r\n\r\n")
    body = bytearray()
    line = bytes(rnd.randrange(32, 127) for _ in range(998))
    while len(header) + len(body) < SIZE:
        body += line[rnd.randrange(0, 500):] + b"\r\n"
    return header + bytes(body[:SIZE - len(header)])


def anon_rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1])
    return 0


class ImapFetchLarge(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.msg = big_message()
        cls.srv = CoveServer()
        cls.srv.add_user(USER, PASSWORD)
        cls.srv.deliver(USER, cls.msg)
        cls.srv.start("imapd")

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def read_until(self, sock, buf, pattern):
        while True:
            m = re.search(pattern, buf)
            if m:
                return buf, m
            chunk = sock.recv(65536)
            self.assertTrue(chunk, f"connection closed; got {buf[-200:]!r}")
            buf += chunk

    def test_20mb_streamed_byte_exact(self):
        sock = socket.create_connection(("127.0.0.1", self.srv.ports["imap"]), timeout=60)
        self.addCleanup(sock.close)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        buf, _ = self.read_until(sock, b"", rb"\* OK[^\r\n]*\r\n")
        sock.sendall(f"a LOGIN {USER} {PASSWORD}\r\nb SELECT INBOX\r\n".encode())
        buf, _ = self.read_until(sock, b"", rb"b OK[^\r\n]*\r\n")
        workers = self.srv.worker_pids("imapd")
        base = max(anon_rss_kb(p) for p in workers)
        sock.sendall(b"c UID FETCH 1 (BODY.PEEK[])\r\n")
        buf, m = self.read_until(sock, b"", rb"BODY\[\] \{(\d+)\}\r\n")
        size = int(m.group(1))
        self.assertEqual(size, len(self.msg))
        data = bytearray(buf[m.end():])
        peak = base
        while len(data) < size:
            chunk = sock.recv(65536)
            self.assertTrue(chunk)
            data += chunk
            if len(data) // (1 << 20) != (len(data) - len(chunk)) // (1 << 20):
                peak = max(peak, max(anon_rss_kb(p) for p in workers))
                time.sleep(0.01)    # a slow reader: the server must wait, not buffer
        rest, _ = self.read_until(sock, bytes(data[size:]), rb"c OK[^\r\n]*\r\n")
        self.assertTrue(rest.startswith(b")\r\n"), rest[:50])
        got = bytes(data[:size])
        self.assertEqual(hashlib.sha256(got).hexdigest(), hashlib.sha256(self.msg).hexdigest())
        # The worker never held anything near the message: its anonymous
        # memory (the message store's mmap excluded) grows far less than
        # 20 MB (sanitizer builds included).
        self.assertLess(peak - base, 12 * 1024, f"RSS grew from {base} kB to {peak} kB")
        sock.sendall(b"d LOGOUT\r\n")

    def test_disconnect_mid_stream(self):
        """A client that goes away in the middle of a 20 MB literal costs the
        worker nothing: the next session is served (and stop() finds no
        sanitizer report or leak)."""
        for _ in range(3):
            sock = socket.create_connection(("127.0.0.1", self.srv.ports["imap"]), timeout=60)
            self.read_until(sock, b"", rb"\* OK[^\r\n]*\r\n")
            sock.sendall(f"a LOGIN {USER} {PASSWORD}\r\nb SELECT INBOX\r\n"
                         f"c FETCH 1 BODY.PEEK[]<1000.15000000>\r\n".encode())
            buf, m = self.read_until(sock, b"", rb"BODY\[\]<1000> \{15000000\}\r\n")
            while len(buf) < 2 * 1024 * 1024:
                buf += sock.recv(65536)
            self.assertEqual(buf[m.end():m.end() + 1000], self.msg[1000:2000])
            sock.close()
        sock = socket.create_connection(("127.0.0.1", self.srv.ports["imap"]), timeout=60)
        self.addCleanup(sock.close)
        self.read_until(sock, b"", rb"\* OK[^\r\n]*\r\n")
        sock.sendall(f"a LOGIN {USER} {PASSWORD}\r\nb SELECT INBOX\r\n"
                     f"c FETCH 1 (RFC822.SIZE BODY.PEEK[]<{SIZE - 10}.100>)\r\n".encode())
        buf, m = self.read_until(sock, b"", rb"c OK[^\r\n]*\r\n")
        self.assertIn(f"RFC822.SIZE {SIZE}".encode(), buf)
        self.assertIn(b"{10}\r\n" + self.msg[-10:] + b")\r\n", buf)

    def test_20mb_over_imaps(self):
        """The same literal through TLS (implicit TLS listener, imaplib)."""
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        m = imaplib.IMAP4_SSL("127.0.0.1", self.srv.ports["imaps"], ssl_context=ctx,
                              timeout=120)
        self.addCleanup(m.logout)
        m.login(USER, PASSWORD)
        m.select("INBOX", readonly=True)
        typ, data = m.uid("FETCH", "1", "(BODY.PEEK[]<5.20000000>)")
        self.assertEqual(typ, "OK")
        self.assertEqual(hashlib.sha256(data[0][1]).hexdigest(),
                         hashlib.sha256(self.msg[5:5 + 20000000]).hexdigest())


if __name__ == "__main__":
    unittest.main()
