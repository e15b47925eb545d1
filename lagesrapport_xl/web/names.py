"""File names from browsers: shown to people (escaped, never a path) and safe to store.

A name from a browser is never used as a path: folders, `..`, control and direction characters
go; what is stored has letters, digits and a few marks, at most MAX_STORED_NAME_BYTES, its
extension kept.
"""

from __future__ import annotations

import re
import unicodedata

MAX_SHOWN_NAME = 255  # characters of the sent file name kept for the receipt
STORED_NAME = re.compile(r"\d{8}-\d{6}_[0-9a-f]{12}_")  # how intake._store names a file in the inbox
MAX_STORED_NAME_BYTES = 120  # of the sanitised name in the inbox (file systems allow 255 bytes)
DEFAULT_NAME = "rapport.xlsx"
_PATH_SEPARATORS = re.compile(r"[\\/]")
_UNSAFE = re.compile(r"[^\w .,()+~$#-]")  # \w: letters of any script (å, ä, ö), digits, "_"


def _visible(sent: str | None) -> str:
    """The sent name without a folder (old browsers send C:\\…\\x.xlsx) and without control or
    format characters (a right-to-left override can make "x.exe" look like "exe.x")."""
    base = _PATH_SEPARATORS.split(sent or "")[-1]
    return "".join(ch for ch in base if unicodedata.category(ch) not in ("Cc", "Cf")).strip()


def _shorten(name: str, limit: int, *, in_bytes: bool = False) -> str:
    """The name cut to `limit` characters (or UTF-8 bytes), its extension (up to 8 letters) kept."""
    stem, dot, suffix = name.rpartition(".")
    if not dot or not stem or len(suffix) > 8:
        stem, suffix = name, ""
    else:
        suffix = f".{suffix}"
    if in_bytes:
        return stem.encode("utf-8")[: limit - len(suffix.encode("utf-8"))].decode("utf-8", "ignore") + suffix
    return stem[: limit - len(suffix)] + suffix


def shown_name(sent: str | None) -> str:
    """The name as the coordinator knows it, shortened. Shown to people (escaped), never a path."""
    return _shorten(_visible(sent), MAX_SHOWN_NAME) or DEFAULT_NAME


def safe_name(sent: str | None) -> str:
    """A file name that is safe on any file system: letters, digits and a few marks, no folder,
    no leading dot, at most MAX_STORED_NAME_BYTES in UTF-8 with its extension kept. Excel's lock
    file marks (~$) survive, so that the reader still recognises a lock file."""
    name = unicodedata.normalize("NFC", _visible(sent))
    name = re.sub(r"_{2,}", "_", _UNSAFE.sub("_", name)).lstrip(". ").rstrip(". ")
    return _shorten(name, MAX_STORED_NAME_BYTES, in_bytes=True) if name else DEFAULT_NAME
