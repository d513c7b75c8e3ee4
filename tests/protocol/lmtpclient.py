"""A raw LMTP client for the protocol tests: exact bytes out, parsed replies
in (RFC 5321 multi-line replies), so per-recipient replies after DATA and
pipelined groups can be checked one by one."""
import json
import socket


class RawLmtp:
    def __init__(self, port=None, path=None, timeout=30):
        if path is not None:
            self.sock = socket.socket(socket.AF_UNIX)
            self.sock.settimeout(timeout)
            self.sock.connect(path)
        else:
            self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""
        self.greeting = self.reply()

    def send(self, data):
        self.sock.sendall(data if isinstance(data, bytes) else data.encode())

    def cmd(self, line):
        self.send(line + "\r\n")
        return self.reply()

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError(f"connection closed; pending {self.buf!r}")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode(errors="replace")

    def reply(self):
        """(code, [text lines]) of one possibly multi-line reply."""
        lines = []
        while True:
            line = self._line()
            lines.append(line[4:])
            if len(line) < 4 or line[3] != "-":
                return int(line[:3]), lines

    def replies(self, n):
        return [self.reply() for _ in range(n)]

    def closed(self):
        """True when the server has closed the connection (after any data)."""
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self.buf += chunk
        except (ConnectionResetError, socket.timeout):
            return False

    def close(self):
        self.sock.close()


def stuff(message):
    """Dot-stuffs a CRLF message and appends the end-of-data line."""
    if not message.endswith(b"\r\n"):
        message += b"\r\n"
    lines = message.split(b"\r\n")[:-1]
    return b"".join((b"." + l if l.startswith(b".") else l) + b"\r\n" for l in lines) + b".\r\n"


def mailbox_counts(srv, user):
    """{mailbox name: message count} through covectl."""
    r = srv.covectl("mailbox", "list", user, "--json")
    return {m["name"]: m["messages"] for m in json.loads(r.stdout)}


def fetch(srv, user, box, uid):
    return srv.covectl("fetch", user, box, str(uid)).stdout


def trace(sender, rcpt):
    return f"Return-Path: <{sender}>\r\nDelivered-To: {rcpt}\r\n".encode()
