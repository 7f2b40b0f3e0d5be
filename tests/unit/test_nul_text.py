"""JSON text without NUL escapes, for PostgreSQL's read models (infrastructure/nul_text.py)."""

from __future__ import annotations

import json

import pytest

from infrastructure.nul_text import has_nul, json_without_nul


@pytest.mark.parametrize("value", [
    "a\x00b", "\x00", "\\\x00", "\\u0000", "\\\\u0000\x00", "caf\u00e9 \x00 \\", "no nul at all"])
def test_every_nul_is_replaced_and_every_other_character_kept(value: str) -> None:
    for text in (json.dumps({"k": value}), json.dumps({"k": value}, ensure_ascii=False)):
        cleaned = json_without_nul(text)
        assert json.loads(cleaned) == {"k": value.replace("\x00", "\ufffd")}
        assert not has_nul(cleaned.encode())
        assert json_without_nul(text.encode()) == cleaned.encode()


def test_text_without_a_nul_comes_back_unchanged() -> None:
    plain = json.dumps({"path": "C:\\Users", "n": 1})
    assert json_without_nul(plain) is plain  # after one search, no copy
    text = json.dumps({"path": "C:\\u0000", "n": 1})  # a backslash, then the text u0000
    assert json_without_nul(text) == text
