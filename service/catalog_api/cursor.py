"""Opaque keyset cursors: the last id of a page, bound to the filters that produced it.

A cursor is base64url of 8 bytes of id, 8 bytes of filter digest and a 4-byte check. The
check catches truncated or edited cursors; it is not a signature (there is no key to keep),
and it needs none: a forged cursor only selects a position inside results the same query
parameters already allow.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct

_ID_MAX = 2**63 - 1
_RAW_LEN = 20
# The shape of every token encode() writes: 20 bytes in unpadded URL-safe base64.
SHAPE = r"[A-Za-z0-9_-]{27}"
_CHECK_KEY = b"catalog-cursor-v1"


class InvalidCursorError(ValueError):
    """Not a cursor this service issued for this query."""


def filter_digest(*parts: str | None) -> bytes:
    canonical = "\x1f".join("" if p is None else p for p in parts).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(canonical, digest_size=8).digest()


def _check(body: bytes) -> bytes:
    return hashlib.blake2b(body, digest_size=4, key=_CHECK_KEY).digest()


def encode_raw(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def encode(after_id: int, digest: bytes) -> str:
    body = struct.pack(">Q", after_id) + digest
    return encode_raw(body + _check(body))


def decode(token: str, digest: bytes) -> int:
    """The id after which the next page starts; InvalidCursorError if tampered with or foreign."""
    if len(token) != 27 or not token.isascii():
        raise InvalidCursorError("cursor is malformed")
    try:
        raw = base64.urlsafe_b64decode(token + "=")
    except (binascii.Error, ValueError) as exc:
        raise InvalidCursorError("cursor is malformed") from exc
    if len(raw) != _RAW_LEN or raw[16:] != _check(raw[:16]):
        raise InvalidCursorError("cursor is malformed")
    if raw[8:16] != digest:
        raise InvalidCursorError("cursor belongs to a query with other filters")
    if encode_raw(raw) != token:
        # Base64 leaves two spare bits in the last character; only the canonical spelling is ours.
        raise InvalidCursorError("cursor is malformed")
    (after_id,) = struct.unpack(">Q", raw[:8])
    if not 0 < after_id <= _ID_MAX:
        raise InvalidCursorError("cursor is malformed")
    return int(after_id)
