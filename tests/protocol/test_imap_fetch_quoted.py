"""FETCH BODY[HEADER.FIELDS (...)] with quoted header names (RFC 3501 §9:
header-fld-name is an astring) against the real cove-imapd: quoted, mixed
and escaped names, literal names, .NOT, nested parts, partials, imaplib,
and the errors that must stay BAD."""
import imaplib
import re
import unittest

from coveharness import CoveServer
from imaptestlib import RawIMAP

USER, PASSWORD = "quoted@example.org", "secret"
MESSAGE = (b"From: a@example.org\r\n"
           b"To: b@example.org\r\n"
           b"Subject: quoted names\r\n"
           b"X-Y: why\r\n"
           b"X-Odd]Name: odd\r\n"
           b"Content-Type: multipart/mixed; boundary=b\r\n\r\n"
           b"--b\r\nContent-Type: message/rfc822\r\n\r\n"
           b"From: inner@example.org\r\nSubject: inner\r\nX-Y: inner why\r\n\r\n"
           b"inner body\r\n"
           b"--b--\r\n")


class ImapFetchQuoted(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = CoveServer()
        cls.srv.add_user(USER, PASSWORD)
        cls.srv.deliver(USER, MESSAGE)
        cls.srv.start("imapd")
        cls.port = cls.srv.ports["imap"]

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def raw(self):
        c = RawIMAP(self.port)
        self.addCleanup(c.close)
        self.assertTrue(c.cmd(b"l", b"LOGIN " + USER.encode() + b" " +
                              PASSWORD.encode())[-1].startswith(b"l OK"))
        self.assertTrue(c.cmd(b"s", b"SELECT INBOX")[-1].startswith(b"s OK"))
        return c

    def fetch_literal(self, c, tag, att):
        """Sends FETCH 1 (att); returns (name echoed before the literal, bytes)."""
        c.send(tag + b" FETCH 1 (" + att + b")\r\n")
        first = c.line()
        m = re.match(rb"\* 1 FETCH \((\S+ \(.*\)\]|\S+\])(<\d+>)? \{(\d+)\}$", first)
        self.assertIsNotNone(m, first)
        data = c.read_exact(int(m.group(3)))
        rest = c.until_tagged(tag)
        self.assertTrue(rest[-1].startswith(tag + b" OK"), rest)
        return m.group(1), data

    def test_quoted_names(self):
        c = self.raw()
        name, data = self.fetch_literal(c, b"a", b'BODY.PEEK[HEADER.FIELDS ("X-Y")]')
        self.assertEqual(name, b"BODY[HEADER.FIELDS (X-Y)]")
        self.assertEqual(data, b"X-Y: why\r\n\r\n")
        _, data = self.fetch_literal(c, b"b",
                                     b'BODY.PEEK[HEADER.FIELDS ("From" "Subject")]')
        self.assertEqual(data, b"From: a@example.org\r\nSubject: quoted names\r\n\r\n")

    def test_mixed_and_escaped(self):
        c = self.raw()
        _, data = self.fetch_literal(c, b"a", b'BODY.PEEK[HEADER.FIELDS (To "x-y")]')
        self.assertEqual(data, b"To: b@example.org\r\nX-Y: why\r\n\r\n")
        # A ']' inside a quoted name does not close the section.
        name, data = self.fetch_literal(c, b"b", b'BODY.PEEK[HEADER.FIELDS ("X-Odd]Name")]')
        self.assertEqual(data, b"X-Odd]Name: odd\r\n\r\n")
        self.assertEqual(name, b'BODY[HEADER.FIELDS ("X-Odd]Name")]')

    def test_not_nested_partial(self):
        c = self.raw()
        _, data = self.fetch_literal(
            c, b"a", b'BODY.PEEK[HEADER.FIELDS.NOT ("Content-Type" "X-Odd]Name" To)]')
        self.assertEqual(data, b"From: a@example.org\r\nSubject: quoted names\r\n"
                               b"X-Y: why\r\n\r\n")
        _, data = self.fetch_literal(c, b"b", b'BODY.PEEK[1.HEADER.FIELDS ("X-Y" "Subject")]')
        self.assertEqual(data, b"Subject: inner\r\nX-Y: inner why\r\n\r\n")
        name, data = self.fetch_literal(c, b"c", b'BODY.PEEK[HEADER.FIELDS ("From")]<6.5>')
        self.assertEqual(data, b"a@exa")

    def test_literal_names(self):
        c = self.raw()
        c.send(b"a FETCH 1 (BODY.PEEK[HEADER.FIELDS (From {3}\r\n")
        self.assertTrue(c.line().startswith(b"+ "))
        c.send(b"X-Y {7+}\r\nSubject)])\r\n")
        first = c.line()
        self.assertEqual(first, b"* 1 FETCH (BODY[HEADER.FIELDS (From X-Y Subject)] {56}")
        self.assertEqual(c.read_exact(56), b"From: a@example.org\r\nSubject: quoted names\r\n"
                                           b"X-Y: why\r\n\r\n")
        self.assertTrue(c.until_tagged(b"a")[-1].startswith(b"a OK"))
        # A literal name holding a line break is refused; the session goes on.
        c.send(b"b FETCH 1 (BODY.PEEK[HEADER.FIELDS ({4+}\r\nX\r\nY)])\r\n")
        self.assertTrue(c.until_tagged(b"b")[-1].startswith(b"b BAD"))
        _, data = self.fetch_literal(c, b"c", b'BODY.PEEK[HEADER.FIELDS ("X-Y")]')
        self.assertEqual(data, b"X-Y: why\r\n\r\n")

    def test_imaplib(self):
        m = imaplib.IMAP4("127.0.0.1", self.port, timeout=30)
        m.login(USER, PASSWORD)
        m.select("INBOX", readonly=True)
        typ, data = m.fetch("1", '(BODY.PEEK[HEADER.FIELDS ("From" "Subject")])')
        self.assertEqual(typ, "OK")
        self.assertEqual(data[0][1], b"From: a@example.org\r\nSubject: quoted names\r\n\r\n")
        m.logout()

    def test_still_bad(self):
        c = self.raw()
        for att in (b'BODY.PEEK[HEADER.FIELDS ("")]', b'BODY.PEEK[HEADER.FIELDS ("X:Y")]',
                    b'BODY.PEEK[HEADER.FIELDS ("X-Y)]', b'BODY.PEEK[HEADER.FIELDS ("X\\q")]',
                    b'BODY.PEEK[HEADER.FIELDS ("X-Y"Subject)]', b'BINARY.PEEK["1"]',
                    b'BODY.PEEK["TEXT"]', b'BODY.PEEK[HEADER.FIELDS ("X-Y")"Z"]'):
            lines = c.cmd(b"x", b"FETCH 1 (" + att + b")")
            self.assertTrue(lines[-1].startswith(b"x BAD"), (att, lines))
        # The session goes on.
        _, data = self.fetch_literal(c, b"y", b'BODY.PEEK[HEADER.FIELDS ("X-Y")]')
        self.assertEqual(data, b"X-Y: why\r\n\r\n")


if __name__ == "__main__":
    unittest.main()
