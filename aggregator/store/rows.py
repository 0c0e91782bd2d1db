"""What both backends derive the same way: item keys and the JSON of list columns."""

from __future__ import annotations

import hashlib
import json
from typing import Any

__all__ = ["first_key", "json_text", "sha1", "without_nones"]


def first_key(source_id: str, item_id: str) -> str:
    """An item's key: 8 hex digits of its first source (so one fetch's inserts land
    together in the indexes), 12 of that source's item id; see sqlite.py's notes."""
    return sha1(source_id)[:8] + sha1(f"{source_id}\0{item_id}")[:12]


def sha1(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()


def json_text(value: Any) -> str:
    if not value and isinstance(value, list):
        return "[]"  # most items have no enclosures, many no authors
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def without_nones(mapping: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if v is not None}
