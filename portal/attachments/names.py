"""File names people gave their uploads, made safe to store, to show and to send back in Content-Disposition.

A name is text from a stranger: it may hold path separators in any of their Unicode look-alikes (fullwidth
"／", "．", the division slash, ...), control characters, quotes, or nothing usable at all. Compatibility
normalisation (NFKC) first turns the look-alikes into the characters they stand for, so that one filter then
sees every separator; what is left keeps its Vietnamese letters. The download header carries that Unicode name
in RFC 5987 `filename*` and an ASCII fallback built from it by the same rules, never by a looser one.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

DEFAULT_NAME = "file"
MAX_NAME = 200
# Characters that mean something to a path, a shell or a header; NFKC has already folded their look-alikes.
UNSAFE = re.compile(r'[/\\:*?"<>|;\x00-\x1f\x7f]')
# Separators NFKC leaves alone but some systems still treat as slashes.
SLASH_LIKE = str.maketrans(
    dict.fromkeys("\u2044\u2215\u29f8\u2afd\u2afb", "/") | dict.fromkeys("\u29f9\u2216\u29f5", "\\")
)
ASCII_FOLD = {"đ": "d", "Đ": "D"}  # not decomposable: NFKD keeps them as they are


def _visible(ch: str) -> bool:
    """Letters, marks, digits, punctuation, symbols and the plain space; no controls, format or other spaces."""
    category = unicodedata.category(ch)
    return ch == " " or category[0] not in ("C", "Z")


def clean_filename(name: str | None, default: str = DEFAULT_NAME) -> str:
    """The last part of the name (browsers may send a whole path), with no separators, no leading dots, no
    control characters or quotes; `default` when nothing usable is left."""
    text = unicodedata.normalize("NFKC", name or "").translate(SLASH_LIKE)
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    text = "".join(ch for ch in text if _visible(ch))
    text = UNSAFE.sub("_", text)
    text = re.sub(r"_{2,}", "_", text)
    stem, suffix = _split(text)
    stem = stem.strip(" ._")  # nothing hidden (".x"), nothing that walks up (".._")
    if not stem:
        return f"{default}{suffix}"
    return stem[: MAX_NAME - len(suffix)].rstrip(" ._") + suffix


def _split(name: str) -> tuple[str, str]:
    """("giấy tờ", ".pdf"): the suffix only when it looks like one (letters and digits, 1 to 8 of them)."""
    stem, dot, suffix = name.rpartition(".")
    if dot and re.fullmatch(r"[A-Za-z0-9]{1,8}", suffix):
        return stem, f".{suffix}"
    return name, ""


def ascii_filename(name: str, default: str = DEFAULT_NAME) -> str:
    """The ASCII fallback of `filename=`: Vietnamese letters without their marks, other letters dropped."""
    folded = "".join(ASCII_FOLD.get(ch, ch) for ch in clean_filename(name, default))
    plain = unicodedata.normalize("NFKD", folded).encode("ascii", "ignore").decode("ascii")
    return clean_filename(plain, default)


def content_disposition(name: str | None, *, inline: bool) -> str:
    """`attachment; filename="…"; filename*=UTF-8''…` with both names sanitised (RFC 6266 / RFC 5987)."""
    unicode_name = clean_filename(name)
    fallback = ascii_filename(unicode_name)
    value = f'{"inline" if inline else "attachment"}; filename="{fallback}"'
    if unicode_name != fallback:
        value += f"; filename*=UTF-8''{quote(unicode_name, safe='')}"
    return value
