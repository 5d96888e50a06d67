"""Keyed pseudonyms: HMAC-SHA256 under a key per grant, so joins work inside a grant only."""

from __future__ import annotations

import hashlib
import hmac

import polars as pl

from desensitize.config import settings
from desensitize.exceptions import KeyFileError

PSEUDONYM_HEX = 24  # 96 bits: no collision among billions of values


def check_key(key: bytes) -> bytes:
    """``key`` if it is long enough to be a secret, else :class:`KeyFileError`."""
    if len(key) < settings().min_key_bytes:
        raise KeyFileError(
            f"pseudonymization key too short: {len(key)} bytes, need {settings().min_key_bytes}"
        )
    return key


def pseudonymize(value: str, key: bytes) -> str:
    """The pseudonym of ``value`` under ``key``: the same value gives the same pseudonym."""
    digest = hmac.new(check_key(key), value.encode("utf-8"), hashlib.sha256).hexdigest()
    return digest[:PSEUDONYM_HEX]


def pseudonymize_series(values: pl.Series, key: bytes) -> pl.Series:
    """:func:`pseudonymize` over a column (nulls stay null).

    HMAC (RFC 2104) with the padded key hashed once: each value costs two hash copies.
    """
    block = _block(check_key(key))
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))
    half = PSEUDONYM_HEX // 2

    def one(value: str) -> str:
        h = inner.copy()
        h.update(value.encode("utf-8"))
        o = outer.copy()
        o.update(h.digest())
        return o.digest()[:half].hex()

    pseudonyms = [None if v is None else one(v) for v in values.cast(pl.String).to_list()]
    return pl.Series(values.name, pseudonyms, dtype=pl.String)


def _block(key: bytes) -> bytes:
    """The HMAC key block for SHA-256: the key (hashed if longer than a block), zero-padded."""
    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    return key.ljust(64, b"\0")
