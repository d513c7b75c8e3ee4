#!/usr/bin/env python3
"""test_covectl.py - end-to-end tests of covectl, the admin CLI.

Each test gets a private temp directory with a generated cove.conf and an LMDB
store, and runs the real covectl binary. Checked: every verb and its --json
output (parsed with the json module), the sysexits exit codes, that every
failure prints exactly one "covectl: ..." line on stderr, and that a failure
changes nothing stored (the --json listings are identical before and after).

Run by ctest (label cli). COVE_TEST_KEEP=1 keeps the temp directories.
"""
import argparse
import json
import os
import pwd
import pty
import select
import shutil
import subprocess
import sys
import tempfile
import unittest

ARGS = None  # set in main(): covectl, plugin_dir, fixture_dir

EX_USAGE, EX_DATAERR, EX_NOUSER = 64, 65, 67
EX_SOFTWARE, EX_CANTCREAT, EX_IOERR = 70, 73, 74
EX_NOPERM, EX_CONFIG = 77, 78

MESSAGE = (b"From: Sender <sender@example.net>\r\n"
           b"To: alice@example.org\r\n"
           b"Subject: hello\r\n"
           b"Date: Mon, 1 Jan 2024 10:00:00 +0000\r\n"
           b"Message-ID: <1@example.net>\r\n"
           b"\r\n"
           b"Hello Alice.\r\n")


def message(n, body=b""):
    """A distinct small message."""
    return (b"From: s@example.net\r\nTo: alice@example.org\r\nSubject: msg %d\r\n"
            b"Message-ID: <%d@example.net>\r\n\r\nbody %d\r\n" % (n, n, n)) + body


class CovectlTest(unittest.TestCase):
    """Base: a temp dir, a config and helpers to run covectl."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="cove-cli-")
        self.store = os.path.join(self.dir, "store")
        self.conf = os.path.join(self.dir, "cove.conf")
        self.write_conf()

    def tearDown(self):
        if os.environ.get("COVE_TEST_KEEP") == "1":
            print("kept %s" % self.dir, file=sys.stderr)
            return
        for root, dirs, _ in os.walk(self.dir):
            for d in dirs:
                os.chmod(os.path.join(root, d), 0o700)
        shutil.rmtree(self.dir, ignore_errors=True)

    def write_conf(self, engine="lmdb", plugin_dir=None, path=None, extra=""):
        with open(self.conf, "w") as f:
            f.write("[store]\nengine = %s\npath = %s\nplugin_dir = %s\n%s" % (
                engine, path or self.store, plugin_dir or ARGS.plugin_dir, extra))

    def run_cli(self, *args, stdin=b"", conf=True, env=None, prefix=()):
        argv = list(prefix) + [ARGS.covectl] + (["-c", self.conf] if conf else []) + list(args)
        full_env = dict(os.environ)
        full_env.pop("COVE_CONF", None)
        full_env.update(env or {})
        return subprocess.run(argv, input=stdin, capture_output=True, env=full_env,
                              timeout=120)

    def ok(self, *args, stdin=b"", **kw):
        """Runs covectl, expects exit 0 and a quiet stderr; returns stdout."""
        r = self.run_cli(*args, stdin=stdin, **kw)
        self.assertEqual(r.returncode, 0, "covectl %s: rc %d, stderr %r" % (
            " ".join(args), r.returncode, r.stderr))
        self.assertEqual(r.stderr, b"", "covectl %s wrote to stderr" % " ".join(args))
        return r.stdout

    def fails(self, code, match, *args, stdin=b"", **kw):
        """Runs covectl, expects exit `code` and exactly one stderr line
        "covectl: ..." containing `match`; returns that line."""
        r = self.run_cli(*args, stdin=stdin, **kw)
        err = r.stderr.decode("utf-8", "replace")
        self.assertEqual(r.returncode, code, "covectl %s: rc %d (want %d), stderr %r" % (
            " ".join(args), r.returncode, code, err))
        lines = err.splitlines()
        self.assertEqual(len(lines), 1, "want one stderr line, got %r" % err)
        self.assertTrue(err.endswith("\n"))
        self.assertTrue(lines[0].startswith("covectl: "), lines[0])
        self.assertIn(match, lines[0])
        return lines[0]

    def json_out(self, *args):
        return json.loads(self.ok(*args).decode("utf-8"))

    def init(self):
        self.ok("init")

    def add_user(self, name="alice@example.org", password=b"s3cret pass\n"):
        self.ok("user", "add", name, "--password-stdin", stdin=password)

    def snapshot(self, users=("alice@example.org",)):
        """Everything covectl can see, for "nothing changed" checks."""
        snap = {"stats": self.json_out("stats", "--json"),
                "users": self.json_out("user", "list", "--json")}
        known = {u["name"] for u in snap["users"]}
        for u in users:
            if u in known:
                snap[u] = self.json_out("mailbox", "list", u, "--json")
        return snap

    def mailboxes(self, user="alice@example.org"):
        return {m["name"]: m for m in self.json_out("mailbox", "list", user, "--json")}


class TestHelpAndUsage(CovectlTest):
    def test_help(self):
        out = self.ok("-h", conf=False).decode()
        for words in ("init", "user add", "user del", "user list", "user passwd",
                      "mailbox list", "mailbox create", "mailbox delete", "mailbox rename",
                      "deliver", "quota set", "quota get", "stats", "fetch", "--json"):
            self.assertIn(words, out)
        self.assertIn("user add NAME [--password-stdin]", self.ok("user", "-h").decode())
        self.assertIn("--mailbox BOX", self.ok("deliver", "--help").decode())
        self.assertIn("--bytes", self.ok("quota", "set", "-h").decode())
        # Help needs no config file.
        self.ok("stats", "-h", conf=False)

    def test_usage_errors(self):
        self.fails(EX_USAGE, "no command", conf=False)
        self.fails(EX_USAGE, "unknown command 'frobnicate'", "frobnicate")
        self.fails(EX_USAGE, "unknown command 'user frob'", "user", "frob")
        self.fails(EX_USAGE, "needs a subcommand", "user")
        self.fails(EX_USAGE, "missing argument", "user", "add")
        self.fails(EX_USAGE, "unexpected argument 'extra'", "user", "del", "a@b.c", "extra")
        self.fails(EX_USAGE, "unknown option '--bogus'", "user", "list", "--bogus")
        self.fails(EX_USAGE, "unknown option '--json'", "user", "add", "a@b.c", "--json")
        self.fails(EX_USAGE, "--json is not supported", "--json", "init")
        self.fails(EX_USAGE, "needs a value", "deliver", "a@b.c", "--mailbox")
        self.fails(EX_USAGE, "give --bytes N", "quota", "set", "a@b.c")
        self.fails(EX_USAGE, "invalid number '12x'", "quota", "set", "a@b.c", "--bytes", "12x")
        self.fails(EX_USAGE, "invalid number '1k'", "quota", "set", "a@b.c", "--messages", "1k")
        self.fails(EX_USAGE, "invalid number", "quota", "set", "a@b.c", "--bytes",
                   "99999999999999999999")
        self.fails(EX_USAGE, "invalid UID '0'", "fetch", "a@b.c", "INBOX", "0")
        self.fails(EX_USAGE, "needs a value", "-c", conf=False)
        self.fails(EX_USAGE, "unknown option '-x'", "-x", "stats")
        # Usage errors are found before the config is read.
        self.fails(EX_USAGE, "missing argument", "-c", "/nonexistent/cove.conf", "user", "add",
                   conf=False)


class TestConfigErrors(CovectlTest):
    def test_missing_config(self):
        missing = os.path.join(self.dir, "nope.conf")
        self.fails(EX_CONFIG, missing, "-c", missing, "stats", conf=False)

    def test_cove_conf_env(self):
        missing = os.path.join(self.dir, "from-env.conf")
        self.fails(EX_CONFIG, missing, "stats", conf=False, env={"COVE_CONF": missing})
        self.ok("init", conf=False, env={"COVE_CONF": self.conf})
        # -c wins over $COVE_CONF.
        self.ok("stats", env={"COVE_CONF": missing})

    def test_unknown_key(self):
        self.write_conf(extra="[server]\nbogus_key = 1\n")
        line = self.fails(EX_CONFIG, "bogus_key", "init")
        self.assertIn(self.conf, line)
        self.assertFalse(os.path.exists(self.store))

    def test_unknown_engine(self):
        self.write_conf(engine="nosuch")
        line = self.fails(EX_CONFIG, "nosuch", "init")
        self.assertIn("engine", line)
        self.fails(EX_CONFIG, "nosuch", "user", "list")
        self.assertFalse(os.path.exists(self.store))

    def test_missing_plugin_dir(self):
        missing = os.path.join(self.dir, "no-plugins")
        self.write_conf(plugin_dir=missing)
        self.fails(EX_CONFIG, missing, "init")
        self.fails(EX_CONFIG, missing, "stats")
        self.assertFalse(os.path.exists(self.store))

    def test_missing_plugin_file(self):
        empty = os.path.join(self.dir, "empty-plugins")
        os.mkdir(empty)
        self.write_conf(plugin_dir=empty)
        self.fails(EX_CONFIG, "cove_store_lmdb.so", "init")

    def test_abi_mismatch(self):
        self.write_conf(engine="abifuture", plugin_dir=ARGS.fixture_dir)
        line = self.fails(EX_CONFIG, "cove_store_abifuture.so", "init")
        self.assertIn("ABI", line)
        self.fails(EX_CONFIG, "ABI", "stats")

    def test_missing_entry_symbol(self):
        self.write_conf(engine="noentry", plugin_dir=ARGS.fixture_dir)
        self.fails(EX_CONFIG, "cove_store_entry", "init")

    def test_bad_engine_option(self):
        self.write_conf(path="relative/store")
        line = self.fails(EX_CONFIG, "path", "init")
        self.assertIn(self.conf, line)

    def test_store_not_initialised(self):
        self.fails(EX_CONFIG, self.conf, "stats")
        self.fails(EX_CONFIG, self.conf, "user", "list")


class TestInit(CovectlTest):
    def test_init_and_twice(self):
        self.init()
        stats = self.json_out("stats", "--json")
        self.assertEqual(stats["users"], 0)
        self.add_user()
        before = self.snapshot()
        self.fails(EX_CANTCREAT, "already holds a store", "init")
        self.assertEqual(self.snapshot(), before)

    def test_unwritable_store_path(self):
        parent = os.path.join(self.dir, "ro")
        os.mkdir(parent, 0o500)
        os.chmod(parent, 0o500)
        path = os.path.join(parent, "store")
        self.write_conf(path=path)
        prefix = []
        if self.permissions_ignored(parent):
            # Root ignores directory modes: run covectl as nobody instead.
            if shutil.which("setpriv") is None:
                self.skipTest("running as root and setpriv(1) is missing: a 0500 directory "
                              "is writable, cannot test EX_CANTCREAT")
            os.chmod(self.dir, 0o755)
            prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        self.fails(EX_CANTCREAT, parent, "init", prefix=prefix)
        self.assertFalse(os.path.exists(path))

    @staticmethod
    def permissions_ignored(directory):
        probe = os.path.join(directory, "probe")
        try:
            os.mkdir(probe)
        except PermissionError:
            return False
        os.rmdir(probe)
        return True


class TestServerUser(CovectlTest):
    """Run as root with [server] user set, covectl leaves every file it
    creates to that user, so the daemons (which drop to it) can use the store."""

    def setUp(self):
        super().setUp()
        if os.geteuid() != 0:
            self.skipTest("not running as root: there is no user to switch to")
        try:
            self.nobody = pwd.getpwnam("nobody")
        except KeyError:
            self.skipTest("no user 'nobody' on this system")
        os.chmod(self.dir, 0o755)   # nobody must reach the config and the store

    def owners(self, top):
        found = {}
        for root, dirs, files in os.walk(top):
            for name in [""] + dirs + files:
                path = os.path.join(root, name) if name else root
                found[path] = os.lstat(path).st_uid
        return found

    def test_init_and_verbs_as_server_user(self):
        self.write_conf(extra="[server]\nuser = nobody\n")
        self.ok("init")
        self.add_user()
        self.ok("deliver", "alice@example.org", stdin=MESSAGE)
        self.assertEqual(self.ok("fetch", "alice@example.org", "INBOX", "1"), MESSAGE)
        owners = self.owners(self.store)
        self.assertGreater(len(owners), 1)
        for path, uid in owners.items():
            self.assertEqual(uid, self.nobody.pw_uid, "%s is not owned by nobody" % path)

    def test_existing_directory_keeps_its_files(self):
        os.mkdir(self.store, 0o755)
        keep = os.path.join(self.store, "keep")
        open(keep, "w").close()
        self.write_conf(extra="[server]\nuser = nobody\n")
        self.ok("init")
        owners = self.owners(self.store)
        self.assertEqual(owners.pop(self.store), 0)
        self.assertEqual(owners.pop(keep), 0)
        self.assertTrue(owners)
        for path, uid in owners.items():
            self.assertEqual(uid, self.nobody.pw_uid, "%s is not owned by nobody" % path)

    def test_unknown_server_user(self):
        self.write_conf(extra="[server]\nuser = no_such_cove_user\n")
        self.fails(EX_CONFIG, "[server] user: no such user 'no_such_cove_user'", "init")
        self.assertFalse(os.path.exists(self.store))


class TestUsers(CovectlTest):
    def setUp(self):
        super().setUp()
        self.init()

    def test_add_list_del(self):
        self.add_user("alice@example.org")
        self.add_user("Bob@Example.ORG", b"pw\r\n")
        users = self.json_out("user", "list", "--json")
        self.assertEqual([u["name"] for u in users], ["Bob@example.org", "alice@example.org"]
                         if users[0]["name"].startswith("B") else
                         ["alice@example.org", "Bob@example.org"])
        for u in users:
            self.assertEqual((u["quota_bytes"], u["quota_messages"], u["used_bytes"],
                              u["used_messages"]), (0, 0, 0, 0))
        text = self.ok("user", "list").decode()
        self.assertIn("alice@example.org", text)
        self.assertIn("unlimited", text)
        # --json before the command works too.
        self.assertEqual(self.json_out("--json", "user", "list"), users)
        self.ok("user", "del", "alice@example.org")
        names = [u["name"] for u in self.json_out("user", "list", "--json")]
        self.assertEqual(names, ["Bob@example.org"])
        self.assertEqual(self.json_out("stats", "--json")["users"], 1)

    def test_default_mailboxes(self):
        self.add_user()
        boxes = self.mailboxes()
        self.assertIn("INBOX", boxes)
        uses = {u for m in boxes.values() for u in m["special_use"]}
        for use in ("\\Sent", "\\Trash", "\\Drafts", "\\Junk"):
            self.assertIn(use, uses)
        inbox = boxes["INBOX"]
        self.assertEqual((inbox["messages"], inbox["unseen"], inbox["bytes"]), (0, 0, 0))
        self.assertGreater(inbox["uidvalidity"], 0)
        self.assertEqual(inbox["uidnext"], 1)

    def test_add_errors_change_nothing(self):
        self.add_user()
        before = self.snapshot()
        self.fails(EX_CANTCREAT, "already exists", "user", "add", "alice@example.org",
                   "--password-stdin", stdin=b"x\n")
        self.fails(EX_DATAERR, "invalid user name", "user", "add", "bad name@example.org",
                   "--password-stdin", stdin=b"x\n")
        self.fails(EX_DATAERR, "empty password", "user", "add", "carol@example.org",
                   "--password-stdin", stdin=b"\n")
        self.fails(EX_DATAERR, "no password", "user", "add", "carol@example.org",
                   "--password-stdin", stdin=b"")
        self.fails(EX_DATAERR, "NUL", "user", "add", "carol@example.org",
                   "--password-stdin", stdin=b"a\0b\n")
        line = self.fails(EX_DATAERR, "password longer than", "user", "add",
                          "carol@example.org", "--password-stdin", stdin=b"x" * 5000 + b"\n")
        limit = int(line.split("longer than ")[1].split()[0])
        self.fails(EX_DATAERR, "longer than %d" % limit, "user", "add", "carol@example.org",
                    "--password-stdin", stdin=b"x" * (limit + 1) + b"\r\n")
        # Not a terminal and no --password-stdin: a usage error, no prompt.
        self.fails(EX_USAGE, "--password-stdin", "user", "add", "carol@example.org",
                   stdin=b"x\n")
        self.assertEqual(self.snapshot(), before)
        # The longest password is accepted, with or without a line ending.
        self.add_user("carol@example.org", b"y" * limit + b"\r\n")
        self.add_user("dave@example.org", b"y" * limit)

    def test_passwd(self):
        self.add_user()
        self.ok("user", "passwd", "alice@example.org", "--password-stdin", stdin=b"new\n")
        self.fails(EX_NOUSER, "no such user 'nobody@example.org'", "user", "passwd",
                   "nobody@example.org", "--password-stdin", stdin=b"new\n")
        self.fails(EX_USAGE, "not a terminal", "user", "passwd", "alice@example.org",
                   stdin=b"new\n")

    def run_on_tty(self, args, answers):
        """Runs covectl on a pseudo-terminal, answering each prompt in turn.
        Returns (exit code, everything the terminal showed)."""
        argv = [ARGS.covectl, "-c", self.conf] + list(args)
        pid, fd = pty.fork()
        if pid == 0:
            try:
                os.execv(argv[0], argv)
            finally:
                os._exit(127)
        shown = b""
        pending = list(answers)
        while True:
            ready, _, _ = select.select([fd], [], [], 60)
            if not ready:
                os.kill(pid, 9)
                self.fail("covectl hung on the terminal; it showed %r" % shown)
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
            if pending and shown.rstrip().endswith(b"password:"):
                os.write(fd, pending.pop(0) + b"\n")
                shown += b"<answered>"
        os.close(fd)
        _, status = os.waitpid(pid, 0)
        return os.waitstatus_to_exitcode(status), shown

    def test_password_prompt(self):
        secret = b"Zq9-tty-secret"
        code, shown = self.run_on_tty(["user", "add", "tty@example.org"], [secret, secret])
        self.assertEqual(code, 0, shown)
        self.assertIn(b"New password:", shown)
        self.assertIn(b"Retype new password:", shown)
        self.assertNotIn(secret, shown)   # echo was off
        self.assertIn("tty@example.org", [u["name"] for u in
                                          self.json_out("user", "list", "--json")])
        code, shown = self.run_on_tty(["user", "passwd", "tty@example.org"],
                                      [secret, b"something else"])
        self.assertEqual(code, EX_DATAERR, shown)
        self.assertIn(b"covectl: the passwords do not match", shown)
        self.assertNotIn(secret, shown)

    def test_del_unknown(self):
        self.add_user()
        before = self.snapshot()
        self.fails(EX_NOUSER, "no such user 'nobody@example.org'", "user", "del",
                   "nobody@example.org")
        self.assertEqual(self.snapshot(), before)

    def test_json_escaping(self):
        self.add_user()
        name = 'Ünïcödé "quoted" back\\slash'
        self.ok("mailbox", "create", "alice@example.org", name)
        self.assertIn(name, self.mailboxes())

    def test_stdout_write_error(self):
        if not os.path.exists("/dev/full"):
            self.skipTest("no /dev/full")
        with open("/dev/full", "wb") as full:
            r = subprocess.run([ARGS.covectl, "-c", self.conf, "user", "list"],
                               stdout=full, stderr=subprocess.PIPE, timeout=60)
        self.assertEqual(r.returncode, EX_IOERR)
        self.assertEqual(len(r.stderr.decode().splitlines()), 1)
        self.assertIn("writing to stdout", r.stderr.decode())


class TestMailboxes(CovectlTest):
    def setUp(self):
        super().setUp()
        self.init()
        self.add_user()

    def test_create_rename_delete(self):
        u = "alice@example.org"
        self.ok("mailbox", "create", u, "Work/Projects")
        boxes = self.mailboxes()
        self.assertIn("Work", boxes)
        self.assertIn("Work/Projects", boxes)
        self.ok("mailbox", "rename", u, "Work", "Job")
        boxes = self.mailboxes()
        self.assertNotIn("Work", boxes)
        self.assertIn("Job/Projects", boxes)
        self.ok("mailbox", "delete", u, "Job/Projects")
        self.assertNotIn("Job/Projects", self.mailboxes())
        text = self.ok("mailbox", "list", u).decode()
        self.assertIn("INBOX", text)
        self.assertIn("UIDVALIDITY", text)

    def test_errors_change_nothing(self):
        u = "alice@example.org"
        self.ok("mailbox", "create", u, "Work")
        before = self.snapshot()
        self.fails(EX_CANTCREAT, "already has a mailbox 'Work'", "mailbox", "create", u, "Work")
        self.fails(EX_NOPERM, "INBOX", "mailbox", "delete", u, "inbox")
        self.fails(EX_DATAERR, "no mailbox 'Nope'", "mailbox", "delete", u, "Nope")
        self.fails(EX_DATAERR, "no mailbox 'Nope'", "mailbox", "rename", u, "Nope", "Other")
        self.fails(EX_CANTCREAT, "already has a mailbox 'Sent'", "mailbox", "rename", u,
                   "Work", "Sent")
        self.fails(EX_DATAERR, "invalid mailbox name", "mailbox", "create", u, "a//b")
        self.fails(EX_NOUSER, "no such user", "mailbox", "create", "x@example.org", "Work")
        self.fails(EX_NOUSER, "no such user", "mailbox", "list", "x@example.org")
        self.assertEqual(self.snapshot(), before)


class TestDeliverAndFetch(CovectlTest):
    def setUp(self):
        super().setUp()
        self.write_conf(extra="[limits]\nmax_message_size = 4k\n")
        self.init()
        self.add_user()

    def test_deliver_fetch_byte_exact(self):
        u = "alice@example.org"
        self.ok("deliver", u, stdin=MESSAGE)
        self.assertEqual(self.ok("fetch", u, "INBOX", "1"), MESSAGE)
        inbox = self.mailboxes()["INBOX"]
        self.assertEqual((inbox["messages"], inbox["unseen"], inbox["bytes"], inbox["uidnext"]),
                         (1, 1, len(MESSAGE), 2))
        # Odd bytes survive untouched: bare LF, bare CR, NUL, 8-bit, no final newline.
        odd = b"Subject: odd\n\nline\rcr\x00nul \xff\xfe 8bit\r\nlast"
        self.ok("deliver", u, stdin=odd)
        self.assertEqual(self.ok("fetch", u, "INBOX", "2"), odd)

    def test_deliver_crlf(self):
        u = "alice@example.org"
        self.ok("deliver", u, "--crlf", stdin=b"Subject: lf\n\nbare\nmixed\r\nend\n")
        self.assertEqual(self.ok("fetch", u, "INBOX", "1"),
                         b"Subject: lf\r\n\r\nbare\r\nmixed\r\nend\r\n")
        # The limit (4k) applies to the converted message.
        before = self.snapshot()
        self.fails(EX_DATAERR, "with CRLF line endings", "deliver", u, "--crlf",
                   stdin=b"Subject: big\n\n" + b"x\n" * 2040)
        self.assertEqual(self.snapshot(), before)

    def test_deliver_to_mailbox_and_fallback(self):
        u = "alice@example.org"
        self.ok("mailbox", "create", u, "Lists")
        self.ok("deliver", u, "--mailbox", "Lists", stdin=message(1))
        self.assertEqual(self.mailboxes()["Lists"]["messages"], 1)
        self.assertEqual(self.ok("fetch", u, "Lists", "1"), message(1))
        # A mailbox that does not exist falls back to INBOX.
        self.ok("deliver", u, "--mailbox", "Missing", stdin=message(2))
        boxes = self.mailboxes()
        self.assertNotIn("Missing", boxes)
        self.assertEqual(boxes["INBOX"]["messages"], 1)
        self.assertEqual(self.ok("fetch", u, "INBOX", "1"), message(2))

    def test_deliver_errors_change_nothing(self):
        u = "alice@example.org"
        self.ok("deliver", u, stdin=message(1))
        before = self.snapshot()
        self.fails(EX_NOUSER, "no such user 'bob@example.org'", "deliver", "bob@example.org",
                   stdin=message(2))
        self.fails(EX_DATAERR, "empty message", "deliver", u, stdin=b"")
        self.fails(EX_DATAERR, "max_message_size (4096 bytes)", "deliver", u,
                   stdin=message(3, b"x" * 5000))
        self.fails(EX_DATAERR, "invalid mailbox name", "deliver", u, "--mailbox", "a//b",
                   stdin=message(4))
        self.fails(EX_DATAERR, "invalid user name", "deliver", "no at sign", stdin=message(5))
        self.assertEqual(self.snapshot(), before)
        # Exactly at the limit is fine.
        exact = message(6)
        exact += b"y" * (4096 - len(exact))
        self.ok("deliver", u, stdin=exact)
        self.assertEqual(self.ok("fetch", u, "INBOX", "2"), exact)

    def test_fetch_errors(self):
        u = "alice@example.org"
        self.ok("deliver", u, stdin=message(1))
        self.fails(EX_DATAERR, "has no message UID 7", "fetch", u, "INBOX", "7")
        self.fails(EX_DATAERR, "no mailbox 'Nope'", "fetch", u, "Nope", "1")
        self.fails(EX_NOUSER, "no such user", "fetch", "bob@example.org", "INBOX", "1")


class TestQuotaAndStats(CovectlTest):
    def setUp(self):
        super().setUp()
        self.init()
        self.add_user()

    def test_quota_set_get(self):
        u = "alice@example.org"
        self.ok("quota", "set", u, "--bytes", "2M", "--messages", "10")
        q = self.json_out("quota", "get", u, "--json")
        self.assertEqual(q, {"name": u, "quota_bytes": 2 * 1024 * 1024, "quota_messages": 10,
                             "used_bytes": 0, "used_messages": 0})
        # An omitted limit is kept; 0 means unlimited.
        self.ok("quota", "set", u, "--bytes", "0")
        q = self.json_out("quota", "get", u, "--json")
        self.assertEqual((q["quota_bytes"], q["quota_messages"]), (0, 10))
        self.ok("quota", "set", u, "--messages", "0", "--bytes", "1k")
        q = self.json_out("quota", "get", u, "--json")
        self.assertEqual((q["quota_bytes"], q["quota_messages"]), (1024, 0))
        text = self.ok("quota", "get", u).decode()
        self.assertIn("of unlimited", text)
        self.assertIn("of 1024", text)
        self.fails(EX_NOUSER, "no such user", "quota", "set", "bob@example.org", "--bytes", "1")
        self.fails(EX_NOUSER, "no such user", "quota", "get", "bob@example.org")

    def test_over_quota(self):
        u = "alice@example.org"
        self.ok("quota", "set", u, "--messages", "2")
        self.ok("deliver", u, stdin=message(1))
        self.ok("deliver", u, stdin=message(2))
        before = self.snapshot()
        self.fails(EX_CANTCREAT, "over quota", "deliver", u, stdin=message(3))
        self.assertEqual(self.snapshot(), before)
        self.ok("quota", "set", u, "--messages", "0", "--bytes", str(len(message(1)) * 2 + 10))
        before = self.snapshot()
        self.fails(EX_CANTCREAT, "over quota", "deliver", u, stdin=message(3))
        self.assertEqual(self.snapshot(), before)
        q = self.json_out("quota", "get", u, "--json")
        self.assertEqual((q["used_messages"], q["used_bytes"]),
                         (2, len(message(1)) + len(message(2))))

    def test_stats(self):
        u = "alice@example.org"
        self.add_user("bob@example.org")
        self.ok("deliver", u, stdin=message(1))
        self.ok("deliver", "bob@example.org", stdin=message(1))
        self.ok("deliver", u, stdin=message(2))
        st = self.json_out("stats", "--json")
        for key in ("engine", "engine_version", "users", "mailboxes", "messages",
                    "bytes_received", "bytes_stored", "file_bytes"):
            self.assertIn(key, st)
        self.assertEqual(st["engine"], "lmdb")
        self.assertEqual(st["users"], 2)
        self.assertEqual(st["messages"], 3)
        self.assertEqual(st["bytes_received"], 2 * len(message(1)) + len(message(2)))
        self.assertEqual(st["mailboxes"], len(self.mailboxes(u)) + len(self.mailboxes(
            "bob@example.org")))
        self.assertGreater(st["file_bytes"], 0)
        text = self.ok("stats").decode()
        self.assertIn("users:", text)
        self.assertIn("bytes stored:", text)


def main():
    global ARGS
    parser = argparse.ArgumentParser()
    parser.add_argument("--covectl", required=True)
    parser.add_argument("--plugin-dir", required=True)
    parser.add_argument("--fixture-dir", required=True)
    ARGS, rest = parser.parse_known_args()
    if not os.path.exists(os.path.join(ARGS.plugin_dir, "cove_store_lmdb.so")):
        print("test_covectl: %s/cove_store_lmdb.so is not built" % ARGS.plugin_dir,
              file=sys.stderr)
        return 1
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
