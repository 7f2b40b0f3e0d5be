"""Whole numbers that clients send as text: stream positions, ETags, cursors, headers."""

from __future__ import annotations


def is_numeral(text: str) -> bool:
    """ASCII digits only, at least one: `str.isdigit` also takes "²", which `int` refuses (a
    500 where the client deserved a 400)."""
    return text.isascii() and text.isdigit()
