"""Group commit in cove-imapd and cove-lmtpd, with [store] flush = commit
(the default: ORDERED commits, the root flushed by the shared flush) and
flush = group (NOSYNC commits): write commands (STORE, APPEND, EXPUNGE,
COPY) are answered only after the worker's shared flush, one flush serves
several sessions, pipelined commands still answer in order, a SIGKILL of the
daemon mid-burst loses no acknowledged APPEND, a failed flush answers
NO [UNAVAILABLE] while the session goes on; LMTP deliveries are acknowledged
after a shared flush too."""
import json
import os
import re
import smtplib
import socket
import signal
import threading
import time
import unittest

from coveharness import CoveServer
from imaptestlib import RawIMAP

PASSWORD = "pw-gc"
CLIENTS = 8


def message(tag):
    return b"From: gc@example.com\r\nSubject: %s\r\n\r\nbody of %s\r\n" % (tag, tag)


def login(port, user, box=b"INBOX"):
    c = RawIMAP(port)
    assert c.cmd(b"L", b"LOGIN " + user.encode() + b" " + PASSWORD.encode())[-1] \
        .startswith(b"L OK")
    if box is not None:
        assert c.cmd(b"S", b"SELECT " + box)[-1].startswith(b"S OK")
    return c


def acknowledgements(log, proto):
    """Replies released per flush or per durable batch commit, from the
    debug log: with flush = commit the batch's durable commit (on its helper
    thread) answers its waiters itself; with flush = group a flush does."""
    return [int(n) for n in re.findall(
        proto.encode() + rb": (?:group commit waiters|durable commit acknowledged)=(\d+)", log)]


def inbox_messages(srv, user):
    boxes = json.loads(srv.covectl("mailbox", "list", user, "--json").stdout)
    return [b for b in boxes if b["name"] == "INBOX"][0]["messages"]


def failing_batch_server(test, user, daemon):
    """daemon on the fault engine, the second commit of its store handle
    made to fail: the first is the client's work nested in the write batch,
    the second the batch itself."""
    srv = CoveServer(engine="fault", store_conf="fault_inner = lmdb\nfault_commit_fail = 2\n")
    test.addCleanup(srv.stop)
    srv.add_user(user, PASSWORD)
    srv.start(daemon)
    return srv


def append(c, tag, box, data):
    """APPEND with LITERAL+; returns the tagged line."""
    c.send(tag + b" APPEND " + box + b" {%d+}\r\n" % len(data) + data + b"\r\n")
    return c.until_tagged(tag)[-1]


class GroupCommit(unittest.TestCase):
    """[store] flush = commit (the default)."""
    STORE_CONF = ""

    def setUp(self):
        self.srv = CoveServer(workers=1, store_conf=self.STORE_CONF)
        self.addCleanup(self.srv.stop)
        self.users = [f"gc{i}@example.org" for i in range(CLIENTS)]
        for u in self.users:
            self.srv.add_user(u, PASSWORD)

    def test_concurrent_writers_share_flushes(self):
        self.srv.start("imapd")
        errors = []

        def writer(user):
            try:
                c = login(self.srv.ports["imap"], user)
                for i in range(25):
                    t = b"A%d" % i
                    line = append(c, t, b"INBOX", message(t))
                    if not re.match(rb"A\d+ OK \[APPENDUID \d+ \d+\]", line):
                        errors.append((user, line))
                    line = c.cmd(b"F%d" % i, b"STORE 1 +FLAGS (\\Flagged)")[-1]
                    if b"OK" not in line:
                        errors.append((user, line))
                c.close()
            except Exception as e:   # reported below, the thread must end
                errors.append((user, repr(e)))

        threads = [threading.Thread(target=writer, args=(u,)) for u in self.users]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        self.assertEqual(errors, [])
        for u in self.users:
            c = login(self.srv.ports["imap"], u, box=None)
            status = c.cmd(b"s", b"STATUS INBOX (MESSAGES)")
            self.assertIn(b"(MESSAGES 25)", status[0])
            c.close()
        # The debug log names every flush and how many replies it released.
        log = self.srv.log_text("imapd").encode()
        counts = acknowledgements(log, "imap")
        self.assertTrue(counts, "no group commit logged")
        self.assertGreater(sum(counts), 0)
        self.assertGreater(max(counts), 1, "no flush ever served two commands")
        self.assertLess(len(counts), sum(counts), "one flush per command: nothing shared")
        # Write commands of several sessions share one commit (write batch).
        batches = [int(n) for n in re.findall(rb"imap: write batch entries=(\d+)", log)]
        self.assertEqual(sum(batches), CLIENTS * 50, "every write command ran in a batch")
        self.assertGreater(max(batches), 1, "no batch ever held two sessions' commands")

    def test_failed_write_command_syncs_new_mail_inside_the_batch(self):
        """A write command that fails (nothing to flush) answers from inside
        the write batch; the view sync before its reply finds new mail and
        claims it \\Recent, which must nest in the batch (a write txn of
        its own would wait for the batch's writer lock forever)."""
        self.srv.start("imapd")
        c = login(self.srv.ports["imap"], self.users[0])
        self.addCleanup(c.close)
        self.srv.deliver(self.users[0], message(b"arrived"))
        reply = c.cmd(b"a", b"CREATE INBOX")
        self.assertTrue(reply[-1].startswith(b"a NO"), reply)
        self.assertIn(b"* 1 EXISTS", reply)
        self.assertIn(b"* 1 RECENT", reply)
        self.assertTrue(c.cmd(b"b", b"NOOP")[-1].startswith(b"b OK"))

    def test_pipelined_writes_answer_in_order(self):
        self.srv.start("imapd")
        c = login(self.srv.ports["imap"], self.users[0])
        self.addCleanup(c.close)
        burst = b"".join(b"P%d APPEND INBOX {%d+}\r\n%s\r\nQ%d NOOP\r\n"
                         % (i, len(message(b"p%d" % i)), message(b"p%d" % i), i)
                         for i in range(40))
        c.send(burst)
        tagged = []
        while len(tagged) < 80:
            line = c.line()
            if not line.startswith(b"*"):
                tagged.append(line.split(b" ", 1)[0])
        want = [t for i in range(40) for t in (b"P%d" % i, b"Q%d" % i)]
        self.assertEqual(tagged, want)

    def test_sigkill_loses_no_acknowledged_append(self):
        self.srv.start("imapd")
        acked = {u: [] for u in self.users}
        stop = threading.Event()

        def writer(user):
            c = None
            try:
                c = login(self.srv.ports["imap"], user, box=None)
                i = 0
                while not stop.is_set():
                    t = b"K%d" % i
                    line = append(c, t, b"INBOX", message(b"%s-%d" % (user.encode(), i)))
                    m = re.match(rb"K\d+ OK \[APPENDUID \d+ (\d+)\]", line)
                    if m:
                        acked[user].append(int(m.group(1)))
                    i += 1
            except (EOFError, OSError):
                pass   # the daemon was killed under us
            finally:
                if c is not None:
                    c.close()

        threads = [threading.Thread(target=writer, args=(u,)) for u in self.users]
        for t in threads:
            t.start()
        time.sleep(1.5)
        proc = self.srv.procs["imapd"]
        pids = [proc.pid] + self.srv.worker_pids("imapd")
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        stop.set()
        for t in threads:
            t.join(30)
        proc.wait(10)
        del self.srv.procs["imapd"]
        self.assertGreater(sum(len(v) for v in acked.values()), 0, "nothing was acknowledged")
        # Nothing of the killed daemon may still listen, or the restarted one
        # could not bind and the checks below would talk to a ghost.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.srv.ports["imap"]), 0.2).close()
                time.sleep(0.05)
            except OSError:
                break
        else:
            self.fail("the killed daemon's port still accepts connections")
        self.srv.start("imapd")
        self.assertIsNone(self.srv.procs["imapd"].poll(), self.srv.log_text("imapd"))
        for user, uids in acked.items():
            c = login(self.srv.ports["imap"], user)
            lines = c.cmd(b"u", b"UID SEARCH ALL")
            found = set()
            for line in lines:
                if line.startswith(b"* SEARCH"):
                    found.update(int(x) for x in line.split()[2:])
            missing = sorted(set(uids) - found)
            self.assertEqual(missing, [], f"{user}: acknowledged UIDs lost")
            c.close()


class GroupCommitNosync(GroupCommit):
    """The same with [store] flush = group."""
    STORE_CONF = "flush = group\n"


class FlushFailure(unittest.TestCase):
    def check_failed_flush(self, store_conf):
        srv = CoveServer(engine="fault",
                         store_conf=store_conf + "fault_inner = lmdb\nfault_sync = fail\n")
        self.addCleanup(srv.stop)
        srv.add_user("ff@example.org", PASSWORD)
        srv.deliver("ff@example.org", message(b"first"))
        srv.start("imapd")
        c = login(srv.ports["imap"], "ff@example.org")
        self.addCleanup(c.close)
        reply = c.cmd(b"a", b"STORE 1 +FLAGS (\\Seen)")
        self.assertTrue(reply[-1].startswith(b"a NO [UNAVAILABLE]"), reply)
        # Reads go on; the change itself was committed (visible) all the same.
        reply = c.cmd(b"b", b"FETCH 1 (FLAGS)")
        self.assertTrue(reply[-1].startswith(b"b OK"), reply)
        self.assertIn(b"\\Seen", b" ".join(reply))
        self.assertTrue(c.cmd(b"c", b"NOOP")[-1].startswith(b"c OK"))
        log = srv.log_text("imapd").encode()
        self.assertIn(b"imap: store flush failed: fault: injected sync failure", log)

    def test_failed_flush_answers_no_unavailable(self):
        # flush = group: the flush is what makes the change durable. (With
        # flush = commit the batch's own commit is durable and no flush is
        # waited for; its failure is BatchFailure's case.)
        self.check_failed_flush("flush = group\n")


class BatchFailure(unittest.TestCase):
    def test_failed_batch_commit_closes_the_session_and_keeps_nothing(self):
        # The batch holding CREATE's nested txn fails at its commit.
        srv = failing_batch_server(self, "bf@example.org", "imapd")
        c = login(srv.ports["imap"], "bf@example.org", box=None)
        self.addCleanup(c.close)
        c.send(b"a CREATE Lost\r\n")
        lines = []
        try:
            while True:
                lines.append(c.line())
        except (EOFError, OSError):
            pass
        self.assertTrue(any(l.startswith(b"* BYE [UNAVAILABLE]") for l in lines), lines)
        self.assertFalse(any(l.startswith(b"a OK") for l in lines), lines)
        d = login(srv.ports["imap"], "bf@example.org", box=None)
        self.addCleanup(d.close)
        listing = d.cmd(b"l", b'LIST "" "*"')
        self.assertNotIn(b"Lost", b" ".join(listing), "the failed batch was stored")
        self.assertTrue(d.cmd(b"m", b"CREATE Kept")[-1].startswith(b"m OK"))
        self.assertIn("write batch failed", srv.log_text("imapd"))
        self.assertIn("imap: batch commit failed", srv.log_text("imapd"))


class LmtpGroupCommit(unittest.TestCase):
    def check_deliveries(self, store_conf):
        srv = CoveServer(store_conf=store_conf)
        self.addCleanup(srv.stop)
        srv.add_user("lg@example.org", PASSWORD)
        srv.start("lmtpd")
        errors = []

        def sender(n):
            try:
                with smtplib.LMTP("127.0.0.1", srv.ports["lmtp"]) as l:
                    for i in range(10):
                        l.sendmail("s@example.com", ["lg@example.org"],
                                   message(b"l%d-%d" % (n, i)))
            except Exception as e:   # reported below
                errors.append(repr(e))

        threads = [threading.Thread(target=sender, args=(n,)) for n in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(errors, [])
        log = srv.log_text("lmtpd").encode()
        counts = acknowledgements(log, "lmtp")
        self.assertEqual(sum(counts), 60, "every delivery waited for a flush")
        batches = [int(n) for n in re.findall(rb"lmtp: write batch entries=(\d+)", log)]
        self.assertEqual(sum(batches), 60, "every delivery ran in a write batch")
        self.assertEqual(inbox_messages(srv, "lg@example.org"), 60)

    def test_deliveries_acknowledged_after_a_shared_flush(self):
        self.check_deliveries("")

    def test_failed_batch_commit_answers_451_and_stores_nothing(self):
        # The batch holding the delivery's nested txn fails at its commit.
        srv = failing_batch_server(self, "lf@example.org", "lmtpd")
        with smtplib.LMTP("127.0.0.1", srv.ports["lmtp"]) as l:
            # One recipient: its reply is the DATA reply.
            with self.assertRaises(smtplib.SMTPDataError) as cm:
                l.sendmail("s@example.com", ["lf@example.org"], message(b"lost"))
            self.assertEqual(cm.exception.smtp_code, 451)
            l.sendmail("s@example.com", ["lf@example.org"], message(b"kept"))
        self.assertEqual(inbox_messages(srv, "lf@example.org"), 1)
        self.assertIn("lmtp: batch commit failed", srv.log_text("lmtpd"))

    def test_deliveries_acknowledged_after_a_shared_flush_nosync(self):
        self.check_deliveries("flush = group\n")


if __name__ == "__main__":
    unittest.main()
