"""FETCH / UID FETCH against the real cove-imapd (python imaplib): every
FETCH item on a corpus of MIME shapes delivered with covectl deliver,
sections and partial fetches, byte-exact BODY[] of 8-bit and binary
messages, implicit \\Seen, macros, BINARY, errors, and curl imap://."""
import base64
import imaplib
import os
import re
import shutil
import subprocess
import unittest

from coveharness import CoveServer
from imapfetch import parse_fetch

HERE = os.path.dirname(os.path.abspath(__file__))
MIME_CORPUS = os.path.join(HERE, "..", "unit", "mime", "corpus")
FETCH_CORPUS = os.path.join(HERE, "..", "unit", "imapd-fetch", "corpus")

# Delivered in this order: message n has UID n.
CORPUS = [
    ("mime", "simple-text.eml"), ("mime", "alternative.eml"), ("mime", "mixed-attach.eml"),
    ("mime", "nested.eml"), ("mime", "rfc822-attach.eml"), ("mime", "digest.eml"),
    ("mime", "rfc2231.eml"), ("mime", "8bit.eml"), ("mime", "bare-lf.eml"),
    ("mime", "encoded-words.eml"), ("mime", "group.eml"), ("fetch", "quoting.eml"),
    ("fetch", "rfc822-single.eml"), ("fetch", "message-root.eml"), ("fetch", "headers.eml"),
    ("fetch", "header-only.eml"),
]


def load(kind, name):
    with open(os.path.join(MIME_CORPUS if kind == "mime" else FETCH_CORPUS, name), "rb") as f:
        return f.read()


def binary_message():
    """Every byte value but NUL in the body, bare CR and LF, a long line."""
    body = bytes(range(1, 256)) * 4 + b"\rbare CR\nbare LF\r\n" + b"x" * 5000 + b"\r\n"
    return (b"From: bin@example.org\r\nSubject: binary\r\n"
            b"Content-Type: application/octet-stream\r\n"
            b"Content-Transfer-Encoding: binary\r\n\r\n" + body)


MESSAGES = [load(k, n) for k, n in CORPUS] + [binary_message()]
BINARY_UID = len(MESSAGES)
USER, PASSWORD = "fetch@example.org", "secret"


def header_of(msg):
    for sep in (b"\r\n\r\n", b"\n\n"):
        i = msg.find(sep)
        if i >= 0:
            return msg[:i + len(sep)]
    return msg


class ImapFetch(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = CoveServer()
        for user in (USER, "seen@example.org", "big@example.org"):
            cls.srv.add_user(user, PASSWORD)
        for m in MESSAGES:
            cls.srv.deliver(USER, m)
        for m in MESSAGES[:3]:
            cls.srv.deliver("seen@example.org", m)
        cls.srv.start("imapd")
        cls.port = cls.srv.ports["imap"]

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def connect(self, user=USER, readonly=True):
        m = imaplib.IMAP4("127.0.0.1", self.port, timeout=60)
        m.login(user, PASSWORD)
        typ, _ = m.select("INBOX", readonly=readonly)
        self.assertEqual(typ, "OK")
        self.addCleanup(self.logout, m)
        return m

    @staticmethod
    def logout(m):
        try:
            m.logout()
        except (imaplib.IMAP4.error, OSError):
            pass

    def uid_fetch(self, m, uid, items):
        typ, data = m.uid("FETCH", str(uid), items)
        self.assertEqual(typ, "OK", data)
        parsed = parse_fetch(data)
        self.assertEqual(len(parsed), 1, data)
        entry = next(iter(parsed.values()))
        self.assertEqual(entry["UID"], str(uid).encode())
        return entry

    # --- whole messages -------------------------------------------------

    def test_body_byte_exact_and_sizes(self):
        m = self.connect()
        for uid, msg in enumerate(MESSAGES, 1):
            e = self.uid_fetch(m, uid, "(RFC822.SIZE BODY.PEEK[] BODY.PEEK[HEADER])")
            self.assertEqual(e["BODY[]"], msg, f"uid {uid}")
            self.assertEqual(int(e["RFC822.SIZE"]), len(msg))
            self.assertEqual(e["BODY[HEADER]"], header_of(msg), f"uid {uid}")

    def test_rfc822_items(self):
        m = self.connect()
        msg = MESSAGES[0]
        e = self.uid_fetch(m, 1, "(RFC822 RFC822.HEADER RFC822.TEXT)")
        self.assertEqual(e["RFC822"], msg)
        self.assertEqual(e["RFC822.HEADER"], header_of(msg))
        self.assertEqual(e["RFC822.TEXT"], msg[len(header_of(msg)):])

    def test_binary_message_exact(self):
        m = self.connect()
        e = self.uid_fetch(m, BINARY_UID, "(BODY.PEEK[] BODY.PEEK[TEXT] BINARY.PEEK[1])")
        msg = MESSAGES[-1]
        self.assertEqual(e["BODY[]"], msg)
        self.assertEqual(e["BODY[TEXT]"], msg[len(header_of(msg)):])
        self.assertEqual(e["BINARY[1]"], msg[len(header_of(msg)):])

    # --- structure --------------------------------------------------------

    def test_envelope_and_bodystructure(self):
        m = self.connect()
        typ, data = m.uid("FETCH", "1", "(ENVELOPE BODY BODYSTRUCTURE)")
        self.assertEqual(typ, "OK")
        line = data[0]
        self.assertIn(b'ENVELOPE ("Tue, 5 Mar 2024 09:59:58 +0100" "Lunch tomorrow?" '
                      b'(("Alice Example" NIL "alice" "example.org")) '
                      b'(("Alice Example" NIL "alice" "example.org")) '
                      b'(("Alice Example" NIL "alice" "example.org")) '
                      b'((NIL NIL "bob" "example.net")) NIL NIL NIL '
                      b'"<20240305095958.1234@example.org>")', line)
        self.assertIn(b'BODY ("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 50 3)',
                      line)
        self.assertIn(b'BODYSTRUCTURE ("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" '
                      b'50 3 NIL NIL NIL NIL)', line)
        e = self.uid_fetch(m, 5, "BODYSTRUCTURE")
        bs = e["BODYSTRUCTURE"]
        self.assertEqual(bs[2], b"MIXED")
        self.assertEqual(bs[3], [b"BOUNDARY", b"fwd"])
        rfc822 = bs[1]
        self.assertEqual(rfc822[:7], [b"MESSAGE", b"RFC822", None, None, None, b"7BIT", b"373"])
        self.assertEqual(rfc822[7][1], b"original")          # nested envelope
        self.assertEqual(rfc822[8][2], b"ALTERNATIVE")       # nested body
        self.assertEqual(rfc822[9], b"18")                   # lines
        self.assertEqual(rfc822[11], [b"INLINE", None])      # disposition

    def test_group_and_literal_envelope(self):
        m = self.connect()
        env = self.uid_fetch(m, 11, "ENVELOPE")["ENVELOPE"]
        self.assertEqual(env[5][0], [None, None, b"A Group", None])
        self.assertEqual(env[5][-1], [None, None, None, None])
        self.assertEqual(env[3], [[None, None, b"local-only", b".MISSING-HOST-NAME."]])
        env = self.uid_fetch(m, 12, "ENVELOPE")["ENVELOPE"]
        self.assertEqual(env[1], 'a "quoted" \\ word \u20ac'.encode())
        self.assertEqual(env[2][0][0], 'Zo\u00eb "Z" Doe'.encode())
        self.assertEqual(env[3], env[2])                     # Sender defaults to From
        self.assertEqual(env[4], env[2])                     # empty Reply-To, too

    def test_every_shape_parses(self):
        m = self.connect()
        typ, data = m.fetch("1:*", "(ENVELOPE BODY BODYSTRUCTURE FLAGS INTERNALDATE UID)")
        self.assertEqual(typ, "OK")
        parsed = parse_fetch(data)
        self.assertEqual(sorted(parsed), list(range(1, len(MESSAGES) + 1)))
        for seq, e in parsed.items():
            self.assertEqual(len(e["ENVELOPE"]), 10)
            self.assertIsInstance(e["BODYSTRUCTURE"], list)
            self.assertRegex(e["INTERNALDATE"].decode(),
                             r"^[ 0-9]\d-[A-Z][a-z]{2}-\d{4} \d\d:\d\d:\d\d [+-]\d{4}$")

    # --- sections -----------------------------------------------------------

    def test_sections(self):
        m = self.connect()
        e = self.uid_fetch(m, 5, "(BODY.PEEK[1] BODY.PEEK[1.MIME] BODY.PEEK[2.1] "
                                 "BODY.PEEK[2.HEADER.FIELDS (Subject)] BODY.PEEK[2.2.MIME] "
                                 "BODY.PEEK[3] BODY.PEEK[1.HEADER] BODY.PEEK[2.TEXT])")
        self.assertEqual(e["BODY[1]"], b"Forwarding this.")
        self.assertEqual(e["BODY[1.MIME]"], b"Content-Type: text/plain\r\n\r\n")
        self.assertEqual(e["BODY[2.1]"], b"hello")
        self.assertEqual(e["BODY[2.HEADER.FIELDS (SUBJECT)]"], b"Subject: original\r\n\r\n")
        self.assertEqual(e["BODY[2.2.MIME]"], b"Content-Type: text/html\r\n\r\n")
        self.assertEqual(e["BODY[3]"], b"")
        self.assertEqual(e["BODY[1.HEADER]"], b"")
        self.assertTrue(e["BODY[2.TEXT]"].startswith(b"--orig-alt\r\n"))
        e = self.uid_fetch(m, 14, "(BODY.PEEK[1.1] BODY.PEEK[1.HEADER.FIELDS (subject)])")
        self.assertEqual(e["BODY[1.1]"], b"plain")
        self.assertEqual(e["BODY[1.HEADER.FIELDS (SUBJECT)]"], b"Subject: inner\r\n\r\n")

    def test_header_fields(self):
        m = self.connect()
        e = self.uid_fetch(m, 15, '(BODY.PEEK[HEADER.FIELDS (x-folded To)] '
                                  'BODY.PEEK[HEADER.FIELDS.NOT (Subject X-Folded Date)])')
        self.assertEqual(e["BODY[HEADER.FIELDS (X-FOLDED TO)]"],
                         b"X-Folded: first\r\n\tsecond\r\n\tthird\r\nTo: y@example.org\r\n\r\n")
        self.assertEqual(e["BODY[HEADER.FIELDS.NOT (SUBJECT X-FOLDED DATE)]"],
                         b"From: x@example.org\r\nTo: y@example.org\r\nX-Empty:\r\n\r\n")
        e = self.uid_fetch(m, 16, "BODY.PEEK[HEADER.FIELDS (From)]")
        self.assertEqual(e["BODY[HEADER.FIELDS (FROM)]"], b"From: a@example.org\r\n")

    def test_partial(self):
        m = self.connect()
        msg = MESSAGES[0]
        e = self.uid_fetch(m, 1, f"(BODY.PEEK[]<0.12> BODY.PEEK[TEXT]<3.3> "
                                 f"BODY.PEEK[HEADER.FIELDS (Subject)]<9.5>)")
        self.assertEqual(e["BODY[]<0>"], b"Return-Path:")
        self.assertEqual(e["BODY[TEXT]<3>"], b"Bob")
        self.assertEqual(e["BODY[HEADER.FIELDS (SUBJECT)]<9>"], b"Lunch")
        e = self.uid_fetch(m, 1, f"BODY.PEEK[]<{len(msg) - 3}.100>")
        self.assertEqual(e[f"BODY[]<{len(msg) - 3}>"], msg[-3:])
        e = self.uid_fetch(m, 1, f"BODY.PEEK[]<{len(msg)}.10>")
        self.assertEqual(e[f"BODY[]<{len(msg)}>"], b"")
        # Partial windows walk the binary message byte-exactly.
        binmsg = MESSAGES[-1]
        got = b""
        for origin in range(0, len(binmsg), 997):
            e = self.uid_fetch(m, BINARY_UID, f"BODY.PEEK[]<{origin}.997>")
            got += e[f"BODY[]<{origin}>"]
        self.assertEqual(got, binmsg)

    def test_binary(self):
        m = self.connect()
        e = self.uid_fetch(m, 3, "(BINARY.PEEK[2] BINARY.SIZE[2] BINARY.PEEK[2]<4.4>)")
        pdf = base64.b64decode(b"JVBERi0xLjQKJcfsj6IKMSAwIG9iago8PC9UeXBlL0NhdGFsb2c+PgplbmRvYmoK")
        self.assertEqual(e["BINARY[2]"], pdf)
        self.assertEqual(int(e["BINARY.SIZE[2]"]), len(pdf))
        self.assertEqual(e["BINARY[2]<4>"], pdf[4:8])
        # BINARY[] is the whole message as stored.
        e = self.uid_fetch(m, 3, "(BINARY.PEEK[] BINARY.SIZE[] BINARY.PEEK[]<3.4>)")
        self.assertEqual(e["BINARY[]"], MESSAGES[2])
        self.assertEqual(int(e["BINARY.SIZE[]"]), len(MESSAGES[2]))
        self.assertEqual(e["BINARY[]<3>"], MESSAGES[2][3:7])
        e = self.uid_fetch(m, 3, "(BINARY.PEEK[9] BINARY.SIZE[9])")
        self.assertEqual(e["BINARY[9]"], b"")
        self.assertEqual(e["BINARY.SIZE[9]"], b"0")
        e = self.uid_fetch(m, 2, "(BINARY.PEEK[1] BINARY.SIZE[1])")
        text = "Everything is 20% off \u2013 this week only.".encode()
        self.assertEqual(e["BINARY[1]"], text)
        self.assertEqual(int(e["BINARY.SIZE[1]"]), len(text))

    def test_binary_unknown_cte(self):
        user = "cte@example.org"
        self.srv.add_user(user, PASSWORD)
        self.srv.deliver(user, b"From: a@example.org\r\nSubject: uu\r\n"
                               b"Content-Type: text/plain\r\n"
                               b"Content-Transfer-Encoding: x-uuencode\r\n\r\nbegin 644 x\r\n")
        m = self.connect(user)
        typ, data = m._simple_command("UID", "FETCH", "1", "(BINARY.PEEK[1] BODY.PEEK[1])")
        self.assertEqual(typ, "NO")
        self.assertIn(b"[UNKNOWN-CTE]", data[0])
        got = parse_fetch(m.untagged_responses.pop("FETCH"))
        self.assertIsNone(got[1]["BINARY[1]"])
        self.assertEqual(got[1]["BODY[1]"], b"begin 644 x\r\n")

    # --- flags --------------------------------------------------------------

    def test_implicit_seen(self):
        m = self.connect("seen@example.org", readonly=False)
        e = self.uid_fetch(m, 1, "(FLAGS BODY.PEEK[TEXT])")
        self.assertNotIn(b"\\Seen", e["FLAGS"] or [])
        self.assertNotIn(b"\\Seen", self.uid_fetch(m, 1, "FLAGS")["FLAGS"] or [])
        # Not PEEK: \Seen is set and reported in the same response, once
        # (the view sync after the command does not repeat it).
        typ, data = m.uid("FETCH", "1", "BODY[TEXT]")
        self.assertEqual(typ, "OK")
        starts = [d for d in data
                  if isinstance(d, tuple) or re.match(rb"\d+ \(", d or b"")]
        self.assertEqual(len(starts), 1, data)
        e = parse_fetch(data)[1]
        self.assertIn(b"\\Seen", e["FLAGS"])
        typ, data = m.noop()
        self.assertNotIn("FETCH", m.untagged_responses)
        self.assertIn(b"\\Seen", self.uid_fetch(m, 1, "FLAGS")["FLAGS"])
        e = self.uid_fetch(m, 2, "RFC822")
        self.assertIn(b"\\Seen", e["FLAGS"])
        # Already seen: no FLAGS added unasked.
        self.assertNotIn("FLAGS", self.uid_fetch(m, 2, "BODY[]<0.5>"))
        # EXAMINE changes nothing.
        m2 = self.connect("seen@example.org", readonly=True)
        e = self.uid_fetch(m2, 3, "BODY[]")
        self.assertNotIn("FLAGS", e)
        self.assertNotIn(b"\\Seen", self.uid_fetch(m2, 3, "FLAGS")["FLAGS"] or [])

    def test_no_expunge_during_fetch(self):
        """Another session expunges a message: FETCH skips it and announces
        no EXPUNGE (RFC 3501 §7.4.1); the next NOOP does."""
        user = "expunge@example.org"
        self.srv.add_user(user, PASSWORD)
        for msg in MESSAGES[:4]:
            self.srv.deliver(user, msg)
        a = self.connect(user, readonly=False)
        b = self.connect(user, readonly=False)
        b.uid("STORE", "2", "+FLAGS.SILENT", "(\\Deleted)")
        self.assertEqual(b.expunge()[0], "OK")
        typ, data = a.fetch("1:4", "(UID RFC822.SIZE)")
        self.assertEqual(typ, "OK")
        self.assertNotIn("EXPUNGE", a.untagged_responses)
        got = parse_fetch(data)
        self.assertEqual(sorted(got), [1, 3, 4])
        self.assertEqual({k: v["UID"] for k, v in got.items()}, {1: b"1", 3: b"3", 4: b"4"})
        a.noop()
        self.assertEqual(a.untagged_responses.get("EXPUNGE"), [b"2"])

    # --- macros, UID, errors -----------------------------------------------------

    def test_macros(self):
        m = self.connect()
        typ, data = m.fetch("1", "ALL")
        self.assertEqual(set(parse_fetch(data)[1]),
                         {"FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE"})
        typ, data = m.fetch("1", "FAST")
        self.assertEqual(set(parse_fetch(data)[1]), {"FLAGS", "INTERNALDATE", "RFC822.SIZE"})
        typ, data = m.fetch("1", "FULL")
        self.assertEqual(set(parse_fetch(data)[1]),
                         {"FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", "BODY"})
        typ, data = m.uid("FETCH", "1", "FAST")
        self.assertEqual(set(parse_fetch(data)[1]),
                         {"UID", "FLAGS", "INTERNALDATE", "RFC822.SIZE"})

    def test_sequence_sets_and_uid(self):
        m = self.connect()
        typ, data = m.fetch("3,1:2", "UID")
        self.assertEqual({k: v["UID"] for k, v in parse_fetch(data).items()},
                         {1: b"1", 2: b"2", 3: b"3"})
        typ, data = m.uid("FETCH", "2:*", "FLAGS")
        self.assertEqual(len(parse_fetch(data)), len(MESSAGES) - 1)
        typ, data = m.uid("FETCH", "9999", "FLAGS")
        self.assertEqual(typ, "OK")
        self.assertEqual(data, [None])

    def test_errors(self):
        m = self.connect()
        for items in ("(FOO)", "BODY[", "(BODY[0])", "()", "(BODY[HEADER.FIELDS ()])",
                      "(BODY[]<0.0>)", "(ALL)", "(BINARY[HEADER])"):
            with self.assertRaises(imaplib.IMAP4.error, msg=items):
                m.fetch("1", items)
        with self.assertRaises(imaplib.IMAP4.error):
            m.fetch("9999", "FLAGS")
        with self.assertRaises(imaplib.IMAP4.error):
            m.fetch("0", "FLAGS")
        # The session goes on.
        self.assertEqual(self.uid_fetch(m, 1, "RFC822.SIZE")["RFC822.SIZE"],
                         str(len(MESSAGES[0])).encode())

    def test_curl_fetch(self):
        if shutil.which("curl") is None:
            self.skipTest("curl not installed")
        url = f"imap://127.0.0.1:{self.port}/INBOX;UID={BINARY_UID}"
        r = subprocess.run(["curl", "-s", "--max-time", "30", "-u", f"{USER}:{PASSWORD}", url],
                           capture_output=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, MESSAGES[-1])
        url = f"imap://127.0.0.1:{self.port}/INBOX;UID=5;SECTION=2.1"
        r = subprocess.run(["curl", "-s", "--max-time", "30", "-u", f"{USER}:{PASSWORD}", url],
                           capture_output=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, b"hello")


if __name__ == "__main__":
    unittest.main()
