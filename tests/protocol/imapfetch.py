"""Helpers for the IMAP FETCH protocol tests: a small parser for FETCH
responses as imaplib hands them over (literals split out into tuples), so
tests can compare items exactly instead of by substring.

parse_fetch(data) -> {seq: {ITEM-NAME: value}}, where a value is bytes
(atoms, quoted strings, literals), None (NIL) or a list of values; item
names are upper-cased as sent, e.g. 'BODY[HEADER.FIELDS (FROM)]<0>'.
"""
import re


def flatten(data):
    """imaplib FETCH data -> the raw response lines joined (literals inline)."""
    out = b""
    for part in data:
        if isinstance(part, tuple):
            out += part[0] + b"\r\n" + part[1]
        elif part is not None:
            out += part + b"\r\n"
    return out


class _Parser:
    def __init__(self, raw):
        self.raw = raw
        self.pos = 0

    def peek(self):
        return self.raw[self.pos:self.pos + 1]

    def skip_spaces(self):
        while self.peek() == b" ":
            self.pos += 1

    def value(self):
        self.skip_spaces()
        c = self.peek()
        if c == b"(":
            self.pos += 1
            items = []
            while True:
                self.skip_spaces()
                if self.peek() == b")":
                    self.pos += 1
                    return items
                if self.peek() == b"":
                    raise ValueError("unterminated list")
                items.append(self.value())
        if c == b'"':
            self.pos += 1
            out = b""
            while True:
                ch = self.raw[self.pos:self.pos + 1]
                if ch == b"":
                    raise ValueError("unterminated quoted string")
                self.pos += 1
                if ch == b"\\":
                    out += self.raw[self.pos:self.pos + 1]
                    self.pos += 1
                elif ch == b'"':
                    return out
                else:
                    out += ch
        m = re.compile(rb"~?\{(\d+)\}\r\n").match(self.raw, self.pos)
        if m:
            n = int(m.group(1))
            start = m.end()
            self.pos = start + n
            if self.pos > len(self.raw):
                raise ValueError("short literal")
            return self.raw[start:start + n]
        return self.atom()

    def atom(self):
        start = self.pos
        depth = 0
        while self.pos < len(self.raw):
            ch = self.raw[self.pos:self.pos + 1]
            if ch == b"[":
                depth += 1
            elif ch == b"]":
                depth -= 1
            elif depth == 0 and ch in (b" ", b"(", b")", b"\r", b"\n"):
                break
            self.pos += 1
        word = self.raw[start:self.pos]
        if not word:
            raise ValueError(f"empty atom at {start}: {self.raw[start:start + 40]!r}")
        return None if word == b"NIL" else word


def parse_fetch(data):
    """Parses every '* n FETCH (...)' in imaplib's data into a dict."""
    raw = flatten(data)
    p = _Parser(raw)
    result = {}
    while p.pos < len(raw):
        while p.peek() in (b"\r", b"\n", b" "):
            p.pos += 1
        if p.pos >= len(raw):
            break
        m = re.compile(rb"(?:\* )?(\d+) (?:FETCH )?").match(raw, p.pos)
        if not m:
            raise ValueError(f"not a FETCH response: {raw[p.pos:p.pos + 60]!r}")
        p.pos = m.end()
        items = p.value()
        if not isinstance(items, list) or len(items) % 2:
            raise ValueError(f"bad FETCH item list: {items!r}")
        seq = int(m.group(1))
        entry = result.setdefault(seq, {})
        for i in range(0, len(items), 2):
            entry[items[i].decode().upper()] = items[i + 1]
    return result
