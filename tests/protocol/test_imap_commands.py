"""cove-imapd: every non-FETCH/SEARCH command through imaplib (plain,
STARTTLS, IMAPS), SASL (PLAIN with SASL-IR, SCRAM-SHA-256), mailbox
management, LIST extensions, APPEND, STORE, COPY/MOVE, EXPUNGE, QUOTA."""
import base64
import imaplib
import re
import ssl
import unittest

from coveharness import CoveServer
from imaptestlib import RawIMAP, scram_sha256

USER, PASSWORD = "alice@example.com", "s3cret pass"
MSG = b"From: bob@example.com\r\nTo: alice@example.com\r\nSubject: hello\r\n\r\nbody text\r\n"


def no_verify():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class ImapCommands(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = CoveServer(extra_conf="[limits]\nmax_message_size = 1M\n")
        cls.srv.add_user(USER, PASSWORD)
        cls.srv.add_user("bob@example.com", "bobpass")
        for i in range(3):
            cls.srv.deliver(USER, MSG.replace(b"hello", b"hello %d" % i))
        cls.srv.start("imapd")

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def login(self, user=USER, password=PASSWORD):
        m = imaplib.IMAP4("127.0.0.1", self.srv.ports["imap"])
        m.login(user, password)
        self.addCleanup(self.logout, m)
        return m

    @staticmethod
    def logout(m):
        try:
            m.logout()
        except (imaplib.IMAP4.error, OSError):
            pass

    # --- not authenticated ---------------------------------------------------
    def test_capability_states(self):
        m = imaplib.IMAP4("127.0.0.1", self.srv.ports["imap"])
        caps = m.capabilities
        for c in ("IMAP4REV1", "STARTTLS", "AUTH=PLAIN", "AUTH=SCRAM-SHA-256", "SASL-IR",
                  "LITERAL+", "IDLE", "UIDPLUS", "MOVE", "NAMESPACE", "ID", "ENABLE",
                  "UNSELECT", "CHILDREN", "SPECIAL-USE", "LIST-EXTENDED", "LIST-STATUS",
                  "QUOTA"):
            self.assertIn(c, caps)
        self.assertTrue(any(c.startswith("APPENDLIMIT=") for c in caps))
        typ, data = m.noop()
        self.assertEqual(typ, "OK")
        m.login(USER, PASSWORD)
        typ, data = m.capability()
        after = data[0].decode().split()
        self.assertNotIn("STARTTLS", after)
        self.assertNotIn("AUTH=PLAIN", after)
        typ, data = m.logout()
        self.assertEqual(typ, "BYE")

    def test_login_failure_and_wrong_state(self):
        m = imaplib.IMAP4("127.0.0.1", self.srv.ports["imap"])
        with self.assertRaisesRegex(imaplib.IMAP4.error, "AUTHENTICATIONFAILED"):
            m.login(USER, "wrong")
        c = RawIMAP(self.srv.ports["imap"])
        self.assertTrue(c.cmd(b"w1", b"SELECT INBOX")[-1].startswith(b"w1 BAD"))
        self.assertTrue(c.cmd(b"w2", b"CHECK")[-1].startswith(b"w2 BAD"))
        c.cmd(b"w3", b"LOGIN " + USER.encode() + b' "' + PASSWORD.encode() + b'"')
        self.assertTrue(c.cmd(b"w4", b"EXPUNGE")[-1].startswith(b"w4 BAD No mailbox"))
        self.assertTrue(c.cmd(b"w5", b"LOGIN a b")[-1].startswith(b"w5 BAD Already"))
        c.close()
        m.login(USER, PASSWORD)
        m.logout()

    def test_starttls(self):
        m = imaplib.IMAP4("127.0.0.1", self.srv.ports["imap"])
        m.starttls(ssl_context=no_verify())
        self.assertNotIn("STARTTLS", m.capabilities)
        m.login(USER, PASSWORD)
        self.assertEqual(m.select("INBOX")[0], "OK")
        m.logout()

    def test_imaps(self):
        m = imaplib.IMAP4_SSL("127.0.0.1", self.srv.ports["imaps"], ssl_context=no_verify())
        m.login(USER, PASSWORD)
        self.assertEqual(m.select("inbox", readonly=True)[0], "OK")
        m.logout()

    def test_authenticate_plain_sasl_ir(self):
        c = RawIMAP(self.srv.ports["imap"])
        ir = base64.b64encode(b"\0" + USER.encode() + b"\0" + PASSWORD.encode())
        lines = c.cmd(b"a1", b"AUTHENTICATE PLAIN " + ir)
        self.assertTrue(lines[-1].startswith(b"a1 OK"), lines)
        c.close()
        c = RawIMAP(self.srv.ports["imap"])
        c.send(b"a1 AUTHENTICATE PLAIN\r\n")
        self.assertEqual(c.line(), b"+ ")
        c.send(b"*\r\n")
        self.assertTrue(c.line().startswith(b"a1 BAD"))
        self.assertTrue(c.cmd(b"a2", b"NOOP")[-1].startswith(b"a2 OK"))
        c.close()

    def test_authenticate_scram(self):
        c = RawIMAP(self.srv.ports["imap"])
        client = scram_sha256(USER, PASSWORD)
        first = next(client)
        c.send(b"s1 AUTHENTICATE SCRAM-SHA-256 " + base64.b64encode(first) + b"\r\n")
        line = c.line()
        self.assertTrue(line.startswith(b"+ "), line)
        final = client.send(base64.b64decode(line[2:]))
        c.send(base64.b64encode(final) + b"\r\n")
        line = c.line()
        self.assertTrue(line.startswith(b"+ "), line)   # server-final as a challenge
        client.send(base64.b64decode(line[2:]))
        c.send(b"\r\n")
        self.assertTrue(c.line().startswith(b"s1 OK"))
        self.assertTrue(c.cmd(b"s2", b"SELECT INBOX")[-1].startswith(b"s2 OK"))
        c.close()

    def test_id_namespace_enable(self):
        m = self.login()
        typ, data = m.xatom("ID", '("name" "test")')
        self.assertEqual(typ, "OK")
        self.assertIn(b'"Cove"', m.untagged_responses.pop("ID")[0])
        typ, data = m.namespace()
        self.assertEqual(data[0], b'(("" "/")) NIL NIL')
        typ, data = m.xatom("ENABLE", "CONDSTORE")
        self.assertEqual(typ, "OK")

    # --- mailboxes -------------------------------------------------------------
    def test_create_rename_delete_subscribe(self):
        m = self.login()
        self.assertEqual(m.create("Work/Projects")[0], "OK")
        typ, data = m.create("Work")
        self.assertEqual(typ, "NO")
        self.assertIn(b"ALREADYEXISTS", data[0])
        typ, data = m.list('""', "Work*")
        self.assertIn(b'(\\HasChildren) "/" "Work"', data)
        self.assertIn(b'(\\HasNoChildren) "/" "Work/Projects"', data)
        self.assertEqual(m.rename("Work", "Job")[0], "OK")
        typ, data = m.list('""', "Job/%")
        self.assertEqual(data, [b'(\\HasNoChildren) "/" "Job/Projects"'])
        self.assertEqual(m.subscribe("Job/Projects")[0], "OK")
        typ, data = m.lsub('""', "*")
        self.assertIn(b'() "/" "Job/Projects"', data)
        self.assertEqual(m.unsubscribe("Job/Projects")[0], "OK")
        typ, data = m.lsub('""', "Job*")
        self.assertEqual(data, [None])
        self.assertEqual(m.delete("Job/Projects")[0], "OK")
        self.assertEqual(m.delete("Job")[0], "OK")
        typ, data = m.delete("Job")
        self.assertIn(b"NONEXISTENT", data[0])
        typ, data = m.delete("INBOX")
        self.assertEqual(typ, "NO")

    def test_inbox_rename_and_case(self):
        m = self.login("bob@example.com", "bobpass")
        self.srv.deliver("bob@example.com", MSG)
        typ, data = m.select("iNbOx")
        self.assertEqual(data, [b"1"])
        m.close()
        self.assertEqual(m.rename("INBOX", "Old"), ("OK", [b"RENAME completed"]))
        self.assertEqual(m.select("Old")[1], [b"1"])
        self.assertEqual(m.select("INBOX")[1], [b"0"])

    def test_modified_utf7_names(self):
        m = self.login()
        self.assertEqual(m.create("Entw&APw-rfe")[0], "OK")
        typ, data = m.list('""', "Entw*")
        self.assertEqual(data, [b'(\\HasNoChildren) "/" "Entw&APw-rfe"'])
        typ, data = m.create("Bad&Jjo")
        self.assertEqual(typ, "NO")
        self.assertEqual(m.delete("Entw&APw-rfe")[0], "OK")

    def test_list_extended_status_special_use(self):
        m = self.login()
        typ, data = m.list('""', '""')
        self.assertEqual(data, [b'(\\Noselect) "/" ""'])
        typ, data = m._simple_command("LIST", "(SPECIAL-USE)", '""', "*")
        lines = m.untagged_responses.pop("LIST")
        self.assertIn(b'(\\HasNoChildren \\Sent) "/" "Sent"', lines)
        self.assertNotIn(b'(\\HasNoChildren) "/" "INBOX"', lines)
        typ, data = m._simple_command("LIST", '""', "INBOX", "RETURN",
                                      "(CHILDREN STATUS (MESSAGES UIDNEXT))")
        self.assertEqual(typ, "OK")
        status = m.untagged_responses.pop("STATUS")[0]
        self.assertRegex(status, rb'^INBOX \(MESSAGES \d+ UIDNEXT \d+\)$')
        m.untagged_responses.pop("LIST", None)
        typ, data = m._simple_command("LIST", '""', "(INBOX Sent)")
        self.assertEqual(len(m.untagged_responses.pop("LIST")), 2)

    def test_status(self):
        m = self.login()
        typ, data = m.status("INBOX", "(MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN SIZE)")
        self.assertRegex(data[0], rb"MESSAGES \d+ RECENT 0 UIDNEXT \d+ UIDVALIDITY \d+ "
                                  rb"UNSEEN \d+ SIZE \d+")
        with self.assertRaisesRegex(imaplib.IMAP4.error, "Invalid STATUS items"):
            m.status("INBOX", "(BOGUS)")
        typ, data = m.status("Nope", "(MESSAGES)")
        self.assertIn(b"NONEXISTENT", data[0])

    # --- messages ------------------------------------------------------------
    def test_append_flags_date_appenduid(self):
        m = self.login()
        m.create("Ap")
        typ, data = m.append("Ap", r"(\Seen $Label1)", '"05-Jan-2024 10:20:30 +0100"', MSG)
        self.assertEqual(typ, "OK")
        uv, uid = re.match(rb"\[APPENDUID (\d+) (\d+)\]", data[0]).groups()
        typ, data = m.select("Ap")
        self.assertEqual(data, [b"1"])
        typ, data = m.fetch("1", "(FLAGS INTERNALDATE UID)")
        self.assertIn(b"\\Seen", data[0])
        self.assertIn(b"$Label1", data[0])
        self.assertRegex(data[0], rb'INTERNALDATE "( 5|05)-Jan-2024 10:20:30 \+0100"')
        typ, data = m.append("NoSuchBox", None, None, MSG)
        self.assertIn(b"TRYCREATE", data[0])
        big = b"Subject: big\r\n\r\n" + b"x" * 300000 + b"\r\n"
        typ, data = m.append("Ap", None, None, big)   # spooled to a temp file
        self.assertEqual(typ, "OK")
        typ, data = m.fetch("2", "(RFC822.SIZE)")
        self.assertIn(b"RFC822.SIZE %d" % len(big), data[0])
        m.close()
        m.delete("Ap")

    def test_store_copy_move_expunge(self):
        m = self.login()
        m.create("Src")
        m.create("Dst")
        for i in range(5):
            m.append("Src", None, None, MSG)
        m.select("Src")
        typ, data = m.store("1:2", "+FLAGS", r"(\Flagged)")
        self.assertEqual(len(data), 2)
        self.assertIn(b"\\Flagged", data[0])
        typ, data = m.store("1", "-FLAGS.SILENT", r"(\Flagged)")
        self.assertEqual(data, [None])
        typ, data = m.uid("STORE", "1:*", "FLAGS", r"(\Seen)")
        self.assertIn(b"UID", data[0])
        with self.assertRaisesRegex(imaplib.IMAP4.error, "Invalid system flag"):
            m.store("1", "+FLAGS", r"(\Bogus)")
        typ, data = m.copy("1:2", "Dst")
        self.assertRegex(data[0], rb"\[COPYUID \d+ 1:2 1:2\]")
        typ, data = m._simple_command("MOVE", "3", "Dst")
        self.assertEqual(typ, "OK")
        self.assertEqual(m.untagged_responses.pop("EXPUNGE"), [b"3"])
        typ, data = m.uid("MOVE", "5", "Dst")
        self.assertEqual(typ, "OK")
        self.assertEqual(m.untagged_responses.pop("EXPUNGE"), [b"4"])
        m.store("1", "+FLAGS", r"(\Deleted)")
        typ, data = m.expunge()
        self.assertEqual(data, [b"1"])
        m.store("1:2", "+FLAGS", r"(\Deleted)")
        typ, data = m.uid("EXPUNGE", "2")
        self.assertEqual(m.untagged_responses.pop("EXPUNGE"), [b"1"])
        typ, data = m.search(None, "ALL")
        self.assertEqual(data, [b"1"])
        typ, data = m.status("Dst", "(MESSAGES)")
        self.assertIn(b"MESSAGES 4", data[0])
        with self.assertRaisesRegex(imaplib.IMAP4.error, "Invalid message sequence"):
            m.fetch("5", "FLAGS")
        m.store("1", "+FLAGS", r"(\Deleted)")
        self.assertEqual(m.close()[0], "OK")
        typ, data = m.status("Src", "(MESSAGES)")
        self.assertIn(b"MESSAGES 0", data[0])
        m.select("Dst", readonly=True)
        typ, data = m.store("1", "+FLAGS", r"(\Deleted)")
        self.assertIn(b"READ-ONLY", data[0])
        self.assertEqual(m._simple_command("UNSELECT")[0], "OK")
        m.delete("Src")
        m.delete("Dst")

    def test_select_reports(self):
        m = self.login()
        typ, data = m.select("INBOX")
        self.assertEqual(typ, "OK")
        for key in ("FLAGS", "EXISTS", "RECENT", "UIDVALIDITY", "UIDNEXT", "PERMANENTFLAGS"):
            self.assertIn(key, m.untagged_responses, key)
        self.assertIn(b"READ-WRITE", m.untagged_responses["READ-WRITE"][0] + b"READ-WRITE")
        typ, data = m.select("Nope")
        self.assertEqual(typ, "NO")
        self.assertEqual(m.state, "AUTH")   # a failed SELECT leaves SELECTED (RFC 3501)

    def test_quota(self):
        self.srv.covectl("quota", "set", USER, "--bytes", "10M", "--messages", "1000")
        m = self.login()
        typ, data = m.getquotaroot("INBOX")
        self.assertEqual(data[0], [b'INBOX ""'])
        self.assertRegex(data[1][0], rb'^"" \(STORAGE \d+ 10240 MESSAGE \d+ 1000\)$')
        typ, data = m.getquota('""')
        self.assertEqual(typ, "OK")
        typ, data = m.setquota('""', "(STORAGE 1)")
        self.assertIn(b"NOPERM", data[0])
        typ, data = m.getquota("other")
        self.assertEqual(typ, "NO")


if __name__ == "__main__":
    unittest.main()


class ImapDotDelimiter(unittest.TestCase):
    """[imap] hierarchy_delimiter = . maps client "a.b" to the store's "a/b"."""

    @classmethod
    def setUpClass(cls):
        cls.srv = CoveServer(extra_conf="")
        with open(cls.srv.conf) as f:
            text = f.read()
        with open(cls.srv.conf, "w") as f:
            f.write(text.replace("[imap]\n", "[imap]\nhierarchy_delimiter = .\n"))
        cls.srv.add_user(USER, PASSWORD)
        cls.srv.start("imapd")

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def test_dot_delimiter(self):
        m = imaplib.IMAP4("127.0.0.1", self.srv.ports["imap"])
        m.login(USER, PASSWORD)
        self.assertEqual(m.namespace()[1], [b'(("" ".")) NIL NIL'])
        self.assertEqual(m.create("Lists.cove")[0], "OK")
        typ, data = m.list('""', "Lists*")
        self.assertEqual(data, [b'(\\HasChildren) "." "Lists"',
                                b'(\\HasNoChildren) "." "Lists.cove"'])
        self.assertIn(b"Lists/cove", self.srv.covectl("mailbox", "list", USER).stdout)
        typ, data = m.create("with/slash")
        self.assertEqual(typ, "NO")
        m.logout()
