"""Opaque cursors round-trip and refuse anything this service did not issue for the same filters."""

from __future__ import annotations

import pytest

from catalog_api import cursor


def test_round_trip() -> None:
    digest = cursor.filter_digest("apparel", None, "10", None)
    token = cursor.encode(42, digest)
    assert cursor.decode(token, digest) == 42
    assert len(token) == 27


@pytest.mark.parametrize("position", range(27))
def test_any_changed_character_is_rejected(position: int) -> None:
    digest = cursor.filter_digest(None, None, None, None)
    token = cursor.encode(123456, digest)
    replacement = "A" if token[position] != "A" else "B"
    tampered = token[:position] + replacement + token[position + 1 :]
    with pytest.raises(cursor.InvalidCursorError):
        cursor.decode(tampered, digest)


def test_a_cursor_of_other_filters_is_rejected() -> None:
    token = cursor.encode(5, cursor.filter_digest("apparel", None, None, None))
    with pytest.raises(cursor.InvalidCursorError, match="other filters"):
        cursor.decode(token, cursor.filter_digest("shoes", None, None, None))


@pytest.mark.parametrize("token", ["", "abc", "!" * 27, "é" * 27, "A" * 26 + "=", "A" * 200])
def test_garbage_is_rejected(token: str) -> None:
    with pytest.raises(cursor.InvalidCursorError):
        cursor.decode(token, cursor.filter_digest(None, None, None, None))
