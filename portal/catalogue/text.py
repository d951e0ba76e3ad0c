"""Vietnamese text folded for searching: "Đăng ký khai sinh" and "dang ky khai sinh" match.

Both the stored search column and the query go through `fold`, so a search typed with, without or with only
some diacritics finds the same procedures.
"""

from __future__ import annotations

import re
import unicodedata

_NOT_WORD = re.compile(r"[^0-9a-z]+")


def fold(text: str | None) -> str:
    """Lowercase, without diacritics (đ → d), punctuation as single spaces."""
    if not text:
        return ""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text.lower())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NOT_WORD.sub(" ", bare).strip()


def search_text(*parts: str | None) -> str:
    """The value of a procedure's search column: every part folded, separated by ` | ` so no word spans two."""
    return " | ".join(folded for folded in (fold(p) for p in parts) if folded)


def words(query: str | None, limit: int = 8) -> list[str]:
    """The folded words of a query (at most `limit`: a pasted paragraph must not become 500 LIKEs)."""
    return fold(query).split()[:limit]
