"""NUL characters, which PostgreSQL's text and jsonb cannot hold.

The API refuses a NUL at the door (`has_nul` below, which interfaces/rest/middleware.py asks of
every JSON body). An installation that ran an earlier release may still hold events with one in
its log, and a read model that copies one on PostgreSQL failed on that page every time, so its
projection stopped for good. The read
models' connections therefore write text with each NUL replaced by U+FFFD, the character Unicode
keeps for what cannot be shown (`tolerate_nul`), and JSON text with its NUL escapes replaced by
U+FFFD's (`json_without_nul`). The log itself keeps what was received.
"""

from __future__ import annotations

import json
import re
from typing import Any, TypeVar

from psycopg import Connection
from psycopg.abc import Buffer
from psycopg.types.json import set_json_dumps
from psycopg.types.string import (
    StrBinaryDumper,
    StrBinaryDumperName,
    StrBinaryDumperVarchar,
    StrDumper,
    StrDumperName,
    StrDumperUnknown,
    StrDumperVarchar,
)

REPLACEMENT = "\ufffd"
_ESCAPE = re.compile(r"\\(?:\\|u0000)")  # an escaped backslash is consumed whole, left to right
JsonText = TypeVar("JsonText", str, bytes)


def has_nul(body: bytes) -> bool:
    """Whether a JSON body carries a NUL character: the escape \\u0000 (after an odd run of
    backslashes: `\\\\u0000` is a backslash and the text u0000) or, invalid JSON, the byte."""
    if b"\x00" in body:
        return True
    if b"\\" not in body:  # no escape at all: one byte searched (memchr) instead of five
        return False
    at = body.find(b"u0000")
    while at != -1:
        run = 0
        while at - run > 0 and body[at - run - 1] == 0x5C:  # backslashes before the u
            run += 1
        if run % 2:
            return True
        at = body.find(b"u0000", at + 5)
    return False


def _replaced(match: re.Match[str]) -> str:
    return match[0] if match[0] == "\\\\" else "\\ufffd"


def json_without_nul(text: JsonText) -> JsonText:
    """JSON text with every NUL escape (\\u0000) written as U+FFFD's (\\ufffd) instead; the text
    `\\\\u0000` (an escaped backslash, then u0000) stays. Text without one comes back as it is,
    after one search."""
    if isinstance(text, bytes):
        return text if b"u0000" not in text else json_without_nul(text.decode()).encode()
    if "u0000" not in text:
        return text
    return _ESCAPE.sub(_replaced, text)


def _dumps_without_nul(obj: Any) -> str:
    return json_without_nul(json.dumps(obj))


def _nul_free(base: type[Any]) -> type[Any]:
    """`base` (one of psycopg's str dumpers) writing U+FFFD for NUL; psycopg's own text dumpers
    raise on one, and the server refuses one in binary."""

    class NulFree(base):  # type: ignore[misc, valid-type]
        def dump(self, obj: str) -> Buffer | None:
            if "\x00" in obj:
                obj = obj.replace("\x00", REPLACEMENT)
            return obj.encode(self._encoding)  # what both of psycopg's do after their check

    NulFree.__name__ = NulFree.__qualname__ = f"NulFree{base.__name__}"
    return NulFree


# In psycopg's order of registration: the last one registered for a format is its default.
_DUMPERS = [_nul_free(base) for base in (
    StrBinaryDumperName, StrBinaryDumperVarchar, StrBinaryDumper,
    StrDumperName, StrDumperVarchar, StrDumper, StrDumperUnknown)]


def tolerate_nul(conn: Connection[Any]) -> None:
    """Make a connection write NUL as U+FFFD in text and in the JSON it dumps (a pool's
    `configure`)."""
    for dumper in _DUMPERS:
        conn.adapters.register_dumper(str, dumper)
    set_json_dumps(_dumps_without_nul, conn)
