"""Password hashing with Argon2id (argon2-cffi), and the dummy hash that equalises timing."""

from __future__ import annotations

from functools import cached_property

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError


class Passwords:
    """Hash and verify. `verify_nobody` costs what a real verify costs, for unknown emails."""

    def __init__(self, hasher: PasswordHasher | None = None):
        self.hasher = hasher or PasswordHasher()

    def hash(self, password: str) -> str:
        return self.hasher.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            return self.hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    @cached_property
    def _dummy(self) -> str:
        return self.hasher.hash("a password nobody has")

    def verify_nobody(self, password: str) -> bool:
        """Spend a verify's time on an email no user has, so timing tells nothing. Always False."""
        self.verify(self._dummy, password)
        return False
