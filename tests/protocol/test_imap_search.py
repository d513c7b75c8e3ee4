"""cove-imapd SEARCH / UID SEARCH: every RFC 3501 key on a corpus delivered
with covectl deliver, CHARSET UTF-8 with literals, ESEARCH (RFC 4731),
BADCHARSET, bad syntax answered BAD with the session going on, a 3 MB body
searched through the store's stream, and no EXPUNGE during SEARCH.

Driven with python imaplib, and a raw socket where exact bytes matter.
"""
import datetime
import imaplib
import os
import re
import socket
import unittest

from coveharness import CoveServer

CORPUS = os.path.join(os.path.dirname(__file__), "..", "unit", "mime", "corpus")
USER, PASSWORD = "s@example.org", "search-secret"


def corpus(name):
    with open(os.path.join(CORPUS, name), "rb") as f:
        return f.read()


B64 = (b"From: robot@example.net\r\nTo: s@example.org\r\nSubject: encoded body\r\n"
       b"Date: Sun, 1 Jan 2023 10:00:00 +0000\r\nMIME-Version: 1.0\r\n"
       b"Content-Type: text/plain; charset=utf-8\r\n"
       b"Content-Transfer-Encoding: base64\r\n\r\n"
       b"SGVsbG8gV29ybGQsIGJhc2U2NCBib2R5IMOgIGxhIGNhcnRlCg==\r\n")
LATIN1 = (b"From: chef@example.net\r\nTo: s@example.org\r\nSubject: menu\r\n"
          b"Date: Sun, 1 Jan 2023 12:00:00 +0000\r\n"
          b"Content-Type: text/plain; charset=ISO-8859-1\r\n"
          b"Content-Transfer-Encoding: 8bit\r\n\r\nCaf\xe9 cr\xe8me br\xfbl\xe9e\r\n")


def big_message():
    lines = [b"From: big@example.net\r\nSubject: large\r\n"
             b"Content-Type: text/plain; charset=utf-8\r\n"
             b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"]
    filler = b"nothing to see in this filler line, keep scrolling =\r\n"
    for i in range(60000):
        lines.append(filler)
        if i == 30000:
            lines.append(b"a needle=C3=BC in the middle\r\n")
    lines.append(b"at the very END of the message\r\n")
    return b"".join(lines)


# Delivered in this order: sequence number = index + 1.
MESSAGES = [corpus("simple-text.eml"), corpus("encoded-words.eml"),
            corpus("alternative.eml"), corpus("mixed-attach.eml"),
            corpus("rfc822-attach.eml"), corpus("group.eml"), B64, LATIN1,
            big_message()]
ALL = set(range(1, len(MESSAGES) + 1))


class Raw:
    """A raw IMAP client: one command, its untagged lines and tagged line."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=60)
        self.f = self.sock.makefile("rb")
        self.f.readline()
        self.n = 0

    def cmd(self, *parts):
        """parts: str pieces joined as is; bytes pieces are sent as
        synchronising literals."""
        self.n += 1
        tag = f"R{self.n}"
        line = tag.encode() + b" "
        for p in parts:
            if isinstance(p, bytes):
                self.sock.sendall(line + b"{%d}\r\n" % len(p))
                cont = self.f.readline()
                if not cont.startswith(b"+"):
                    return [], cont.decode(errors="replace").rstrip()
                line = p
            else:
                line += p.encode()
        self.sock.sendall(line + b"\r\n")
        untagged = []
        while True:
            r = self.f.readline()
            if not r:
                raise AssertionError("connection closed")
            text = r.decode(errors="replace").rstrip("\r\n")
            if text.startswith(tag + " "):
                return untagged, text[len(tag) + 1:]
            untagged.append(text)

    def close(self):
        self.f.close()
        self.sock.close()


class ImapSearch(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = CoveServer()
        cls.srv.add_user(USER, PASSWORD)
        for m in MESSAGES:
            cls.srv.deliver(USER, m)
        cls.srv.covectl("mailbox", "create", USER, "Exp")
        for i in range(3):
            cls.srv.deliver(USER, b"Subject: exp %d\r\n\r\nx\r\n" % i, mailbox="Exp")
        cls.srv.start("imapd")
        cls.c = imaplib.IMAP4("127.0.0.1", cls.srv.ports["imap"])
        cls.c.login(USER, PASSWORD)
        cls.c.select("INBOX")
        for seq, flags in (("1", r"(\Seen \Flagged)"), ("2", r"(\Answered $Work)"),
                           ("3", r"(\Deleted)"), ("4", r"(\Draft)"), ("5", r"(\Seen)")):
            typ, _ = cls.c.store(seq, "+FLAGS", flags)
            assert typ == "OK"

    @classmethod
    def tearDownClass(cls):
        try:
            cls.c.logout()
        finally:
            cls.srv.stop()

    def search(self, *criteria, charset=None, literal=None):
        if literal is not None:
            self.c.literal = literal
        typ, data = self.c.search(charset, *criteria)
        self.assertEqual(typ, "OK", criteria)
        return {int(x) for x in data[0].split()}

    def check(self, expected, *criteria, **kw):
        self.assertEqual(self.search(*criteria, **kw), set(expected), criteria)

    def raw(self):
        r = Raw(self.srv.ports["imap"])
        _, tagged = r.cmd(f"LOGIN {USER} {PASSWORD}")
        self.assertTrue(tagged.startswith("OK"), tagged)
        _, tagged = r.cmd("SELECT INBOX")
        self.assertTrue(tagged.startswith("OK"), tagged)
        return r

    # --- record keys --------------------------------------------------------
    def test_flags(self):
        self.check({1, 5}, "SEEN")
        self.check(ALL - {1, 5}, "UNSEEN")
        self.check({1}, "FLAGGED")
        self.check(ALL - {1}, "UNFLAGGED")
        self.check({2}, "ANSWERED")
        self.check(ALL - {2}, "UNANSWERED")
        self.check({3}, "DELETED")
        self.check(ALL - {3}, "UNDELETED")
        self.check({4}, "DRAFT")
        self.check(ALL - {4}, "UNDRAFT")
        self.check({2}, "KEYWORD", "$Work")
        self.check(ALL - {2}, "UNKEYWORD", "$work")
        self.check(set(), "KEYWORD", "$Nothing")

    def test_recent_new_old(self):
        recent, old = self.search("RECENT"), self.search("OLD")
        self.assertEqual(recent | old, ALL)
        self.assertEqual(recent & old, set())
        self.assertEqual(self.search("NEW"), recent & self.search("UNSEEN"))

    def test_internal_date(self):
        today = datetime.date.today()
        fmt = lambda d: f"{d.day}-{d.strftime('%b')}-{d.year}"
        yesterday, later = today - datetime.timedelta(days=1), today + datetime.timedelta(days=2)
        self.check(ALL, "SINCE", fmt(yesterday))
        self.check(ALL, "BEFORE", fmt(later))
        self.check(set(), "SINCE", fmt(later))
        self.check(set(), "BEFORE", fmt(yesterday))
        on = set()
        for d in (yesterday, today, today + datetime.timedelta(days=1)):
            on |= self.search("ON", fmt(d))
        self.assertEqual(on, ALL)

    def test_internal_date_in_its_own_zone(self):
        # 23:30 at -05:00 is already 2 January in UTC; SEARCH disregards the
        # zone, so the message is ON 1-Jan-2020 (RFC 3501 §6.4.4).
        c = imaplib.IMAP4("127.0.0.1", self.srv.ports["imap"])
        try:
            c.login(USER, PASSWORD)
            c.create("Dated")
            typ, _ = c.append("Dated", None, '"01-Jan-2020 23:30:00 -0500"',
                              b"Subject: dated\r\n\r\nx\r\n")
            self.assertEqual(typ, "OK")
            c.select("Dated")
            for criteria, expected in ((("ON", "1-Jan-2020"), [b"1"]),
                                       (("ON", "2-Jan-2020"), []),
                                       (("BEFORE", "2-Jan-2020"), [b"1"]),
                                       (("BEFORE", "1-Jan-2020"), []),
                                       (("SINCE", "1-Jan-2020"), [b"1"]),
                                       (("SINCE", "2-Jan-2020"), [])):
                typ, data = c.search(None, *criteria)
                self.assertEqual(data[0].split(), expected, criteria)
        finally:
            c.logout()

    def test_size(self):
        self.check({9}, "LARGER", "1000000")
        self.check(ALL - {9}, "SMALLER", "1000000")
        size = len(MESSAGES[5])
        self.check({6}, "LARGER", str(size - 1), "SMALLER", str(size + 1))

    def test_sequence_and_uid_sets(self):
        self.check({2, 3, 4}, "2:4")
        self.check({9}, "*")
        self.check({2, 3, 4, 9}, "4:2,9")
        self.check({8, 9}, "8:*")
        typ, data = self.c.uid("SEARCH", "ALL")
        uids = [int(x) for x in data[0].split()]
        self.assertEqual(len(uids), len(MESSAGES))
        typ, data = self.c.uid("SEARCH", "UID", f"{uids[1]}:{uids[2]}")
        self.assertEqual([int(x) for x in data[0].split()], uids[1:3])
        self.check({2, 3}, "UID", f"{uids[2]}:{uids[1]}")
        self.check({9}, "UID", "*")
        typ, data = self.c.uid("SEARCH", "SEEN")
        self.assertEqual({int(x) for x in data[0].split()}, {uids[0], uids[4]})

    def test_logic(self):
        self.check({1, 2, 5}, "OR", "SEEN", "ANSWERED")
        self.check({1, 2, 4, 5}, "OR", "OR", "SEEN", "ANSWERED", "DRAFT")
        self.check(ALL - {1, 5}, "NOT", "SEEN")
        self.check({1}, "(SEEN FLAGGED)")
        self.check({5}, "SEEN", "NOT", "(FLAGGED)")
        self.check({1, 3}, "OR", "FROM", "alice", "HEADER", "Message-ID", "sale-42")

    # --- header keys --------------------------------------------------------
    def test_addresses(self):
        self.check({1}, "FROM", "alice")
        self.check({1}, "FROM", "ALICE@EXAMPLE.ORG")
        self.check({3}, "FROM", '"Shop, Inc."')
        self.check({2}, "FROM", "pirard")
        self.check({2}, "CC", "keith")
        self.check({6}, "BCC", "sysservices")
        self.check({6}, "TO", '"ed jones"')
        self.check(set(), "FROM", "ivan")

    def test_utf8_literals(self):
        self.check({2}, "FROM", literal="andré".encode(), charset="UTF-8")
        self.check({2}, "TO", literal="JÖRG".encode(), charset="UTF-8")
        self.check({2}, "SUBJECT", literal="grüße aus köln".encode(), charset="UTF-8")
        self.check({3}, "BODY", literal="20% off – this week".encode(), charset="UTF-8")
        self.check({8}, "BODY", literal="CAFÉ CRÈME BRÛLÉE".encode(), charset="US-ASCII")

    def test_subject_and_header(self):
        self.check({1}, "SUBJECT", '"lunch tomorrow?"')
        self.check({3}, "HEADER", "Message-ID", "sale-42@shop")
        self.check({1}, "HEADER", "Received", "mx.example.org")
        self.check(ALL - {5, 6, 9}, "HEADER", "Date", '""')
        self.check(set(), "HEADER", "X-Nothing", '""')

    def test_sent_dates(self):
        self.check({2}, "SENTON", "8-Mar-2024")
        self.check({3}, "SENTON", "6-Mar-2024")
        self.check({1, 7, 8}, "SENTBEFORE", "6-Mar-2024")
        self.check({2, 4}, "SENTSINCE", "7-Mar-2024")
        self.check(ALL - {5, 6, 9}, "SENTSINCE", "1-Jan-2000")

    # --- body keys ----------------------------------------------------------
    def test_body(self):
        self.check({3}, "BODY", '"20% off"')
        self.check(set(), "BODY", "=E2=80=93")
        self.check({2}, "BODY", literal="GRÜßE".encode(), charset="UTF-8")
        self.check({7}, "BODY", '"hello world, base64"')
        self.check(set(), "BODY", "SGVsbG8")
        self.check({4}, "BODY", '"attached report"')
        self.check(set(), "BODY", "JVBERi")
        self.check({5}, "BODY", "ivan@example.net")
        self.check(set(), "BODY", "mx.example.org")
        self.check({1}, "TEXT", "mx.example.org")
        self.check({2}, "TEXT", "pirard")

    def test_large_body_streamed(self):
        self.check({9}, "BODY", literal="NEEDLEü IN THE".encode(), charset="UTF-8")
        self.check({9}, "BODY", '"the very end of the message"')
        self.check(set(), "BODY", '"the very end of the message!"')
        self.check({9}, "TEXT", "large", "BODY", "scrolling")

    # --- ESEARCH, errors, concurrency --------------------------------------
    def test_esearch(self):
        r = self.raw()
        try:
            untagged, tagged = r.cmd("SEARCH RETURN (MIN MAX COUNT ALL) UNSEEN")
            self.assertTrue(tagged.startswith("OK"), tagged)
            tag = f"R{r.n}"
            self.assertEqual(untagged, [f'* ESEARCH (TAG "{tag}") MIN 2 MAX 9 COUNT 7 ALL 2:4,6:9'])
            untagged, tagged = r.cmd("SEARCH RETURN (COUNT MIN) FROM nobody")
            self.assertEqual(untagged, [f'* ESEARCH (TAG "R{r.n}") COUNT 0'])
            untagged, tagged = r.cmd("UID SEARCH RETURN () 2:3")
            self.assertTrue(tagged.startswith("OK"), tagged)
            self.assertRegex(untagged[0], rf'^\* ESEARCH \(TAG "R{r.n}"\) UID ALL \d+:\d+$')
            untagged, tagged = r.cmd("SEARCH RETURN (MAX) CHARSET UTF-8 SUBJECT ",
                                     "köln".encode())
            self.assertEqual(untagged, [f'* ESEARCH (TAG "R{r.n}") MAX 2'])
            untagged, tagged = r.cmd("SEARCH SEEN")
            self.assertEqual(untagged, ["* SEARCH 1 5"])
            self.assertEqual(tagged, "OK SEARCH completed")
            untagged, tagged = r.cmd("SEARCH KEYWORD $Nothing")
            self.assertEqual(untagged, ["* SEARCH"])
        finally:
            r.close()

    def test_errors(self):
        r = self.raw()
        try:
            untagged, tagged = r.cmd("SEARCH CHARSET ISO-8859-1 TEXT x")
            self.assertTrue(tagged.startswith("NO [BADCHARSET (UTF-8 US-ASCII)]"), tagged)
            for bad in ("SEARCH", "SEARCH FOO", "SEARCH (SEEN", "SEARCH SEEN)",
                        "SEARCH BEFORE 32-Jan-2020", "SEARCH LARGER x", "SEARCH OR SEEN",
                        "SEARCH NOT", "SEARCH 0:3", "SEARCH RETURN (SAVE) ALL",
                        "SEARCH " + "(" * 40 + "SEEN" + ")" * 40,
                        "SEARCH " + "NOT " * 40 + "SEEN", "UID SEARCH UID x"):
                untagged, tagged = r.cmd(bad)
                self.assertTrue(tagged.startswith("BAD"), f"{bad}: {tagged}")
                self.assertEqual([u for u in untagged if "SEARCH" in u], [], bad)
            untagged, tagged = r.cmd("NOOP")
            self.assertTrue(tagged.startswith("OK"), tagged)
            _, tagged = r.cmd("SEARCH " + "OR SEEN " * 500 + "DRAFT")
            self.assertTrue(tagged.startswith("OK"), tagged)
            _, tagged = r.cmd("UNSELECT")
            self.assertTrue(tagged.startswith("OK"), tagged)
            _, tagged = r.cmd("SEARCH ALL")
            self.assertRegex(tagged, r"^(BAD|NO)")
        finally:
            r.close()

    def test_empty_mailbox(self):
        r = Raw(self.srv.ports["imap"])
        try:
            r.cmd(f"LOGIN {USER} {PASSWORD}")
            r.cmd("CREATE Empty")
            self.assertTrue(r.cmd("SELECT Empty")[1].startswith("OK"))
            self.assertEqual(r.cmd("SEARCH ALL")[0], ["* SEARCH"])
            self.assertEqual(r.cmd("UID SEARCH UID 1:* BODY x")[0], ["* SEARCH"])
            self.assertEqual(r.cmd("SEARCH *")[0], ["* SEARCH"])
            untagged, tagged = r.cmd("SEARCH RETURN (MIN MAX COUNT ALL) ALL")
            self.assertEqual(untagged, [f'* ESEARCH (TAG "R{r.n}") COUNT 0'])
        finally:
            r.close()

    def test_no_expunge_during_search(self):
        a, b = Raw(self.srv.ports["imap"]), Raw(self.srv.ports["imap"])
        try:
            for cl in (a, b):
                self.assertTrue(cl.cmd(f"LOGIN {USER} {PASSWORD}")[1].startswith("OK"))
                self.assertTrue(cl.cmd("SELECT Exp")[1].startswith("OK"))
            self.assertTrue(b.cmd(r"STORE 2 +FLAGS (\Deleted)")[1].startswith("OK"))
            untagged, tagged = b.cmd("EXPUNGE")
            self.assertIn("* 2 EXPUNGE", untagged)
            untagged, tagged = a.cmd("SEARCH ALL")
            self.assertTrue(tagged.startswith("OK"), tagged)
            self.assertFalse([u for u in untagged if u.endswith("EXPUNGE")], untagged)
            self.assertIn("* SEARCH 1 3", untagged)
            untagged, tagged = a.cmd("NOOP")
            self.assertIn("* 2 EXPUNGE", untagged)
            untagged, tagged = a.cmd("SEARCH ALL")
            self.assertIn("* SEARCH 1 2", untagged)
        finally:
            a.close()
            b.close()


if __name__ == "__main__":
    unittest.main()
