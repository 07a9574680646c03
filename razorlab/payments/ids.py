"""Entity ids (``pay_…``, ``rfnd_…``) and API keys, random but reproducible when seeded.

Razorpay ids are a prefix naming the entity plus 14 base62 characters; we copy the
shape so a learner can tell a payment id from a refund id at a glance. A server uses
the operating system's CSPRNG (``seed=None``); notebooks and tests pass a seed so the
ids in stored outputs are the same on every run. Key secrets are only ever unseeded
in production use: a seeded secret is a teaching convenience, never a credential.
"""

from __future__ import annotations

import secrets
import string

from razorlab.rand import py_random

__all__ = ["IdFactory"]

ALPHABET = string.digits + string.ascii_letters  # base62
ID_LENGTH = 14
SECRET_LENGTH = 24
POOL_BYTES = 1024  # CSPRNG bytes read at once (about 70 ids)
#: Every two-character string, indexed by the two base62 digits it spells (low digit first):
#: one divmod by 62**2 writes two characters, so an id costs 7 divisions, not 14.
_PAIRS = tuple(lo + hi for hi in ALPHABET for lo in ALPHABET)


class IdFactory:
    """Makes ids; ``IdFactory(seed=7)`` repeats, ``IdFactory()`` uses ``secrets``."""

    def __init__(self, seed: int | None = None, stream: str = "payment-ids"):
        self._seed = seed
        self._random = py_random(seed, stream) if seed is not None else None
        self._pool = b""  # unseeded: CSPRNG bytes fetched ahead, POOL_BYTES at a time

    def stream(self, name: str) -> IdFactory:
        """A factory on its own named stream (same seed), so its draws shift no other ids."""
        return IdFactory(self._seed, name)

    def _chars(self, n: int) -> str:
        # one draw of enough random bits, written in base 62 (one urandom call, not n)
        bits = 6 * n + 32  # 62**n < 2**(6n); 32 spare bits make the modulo bias < 2**-32
        if self._random is None:
            value = self._randbits(bits)
        else:
            value = self._random.getrandbits(bits)
        chars = []
        for _ in range(n // 2):  # the same digits, least significant first, two at a time
            value, pair = divmod(value, len(_PAIRS))
            chars.append(_PAIRS[pair])
        if n % 2:
            chars.append(ALPHABET[value % len(ALPHABET)])
        return "".join(chars)

    def _randbits(self, bits: int) -> int:
        """``bits`` random bits from the OS CSPRNG, read ahead in blocks.

        ``secrets.randbits`` per id costs a system call per id, during which the event
        loop's thread gives up the GIL and may wait to get it back from another thread
        (the database's); one read per POOL_BYTES serves dozens of ids. The bytes are
        the same CSPRNG output, only fetched earlier.
        """
        n = (bits + 7) // 8
        if len(self._pool) < n:
            self._pool += secrets.token_bytes(POOL_BYTES)
        chunk, self._pool = self._pool[:n], self._pool[n:]
        return int.from_bytes(chunk, "big") >> (8 * n - bits)

    def new(self, prefix: str) -> str:
        """``new("pay")`` → ``"pay_" + 14 base62 characters``."""
        return f"{prefix}_{self._chars(ID_LENGTH)}"

    def secret(self) -> str:
        return self._chars(SECRET_LENGTH)
