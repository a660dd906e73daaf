"""Identifiers that look like Pendo's: catalog ids, anonymous visitor ids and ``idhash`` values.

Everything is drawn from a numpy ``Generator`` (never Python's ``hash()``, which is salted per
process), so the same seed always gives the same ids.
"""

from __future__ import annotations

import zlib

import numpy as np

_ID_ALPHABET = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"))

# Pendo catalog ids (pages, features, guides, reports...) are 27 url-safe base64 characters.
CATALOG_ID_LENGTH = 27
# Anonymous visitors get `_PENDO_T_` and 11 random characters (reference 6.13 picks `_PENDO_T_`).
ANONYMOUS_PREFIX = "_PENDO_T_"
_ANONYMOUS_SUFFIX_LENGTH = 11


def random_tokens(rng: np.random.Generator, count: int, length: int) -> list[str]:
    """``count`` distinct url-safe tokens of ``length`` characters."""
    tokens: list[str] = []
    seen: set[str] = set()
    while len(tokens) < count:
        letters = rng.choice(_ID_ALPHABET, size=(count - len(tokens), length))
        for row in letters:
            token = "".join(row)
            if token not in seen:  # collisions are astronomically rare; keep ids unique anyway
                seen.add(token)
                tokens.append(token)
    return tokens


def catalog_ids(rng: np.random.Generator, count: int) -> list[str]:
    """``count`` distinct Pendo-style object ids."""
    return random_tokens(rng, count, CATALOG_ID_LENGTH)


def anonymous_visitor_ids(rng: np.random.Generator, count: int) -> list[str]:
    """``count`` distinct anonymous visitor ids (``_PENDO_T_`` + 11 characters)."""
    return [ANONYMOUS_PREFIX + t for t in random_tokens(rng, count, _ANONYMOUS_SUFFIX_LENGTH)]


def idhash(object_id: str) -> int:
    """The ``metadata.auto.idhash`` of an id: a stable unsigned 32-bit hash (CRC-32 of UTF-8)."""
    return zlib.crc32(object_id.encode("utf-8"))
