"""What a file that is not a zip archive is, by its first bytes: an old Office compound file
(xls, an encrypted workbook, a Word document), a PDF, a web page, text; and lock files by name.
"""

from __future__ import annotations

import struct


def is_lock_file_name(name: str) -> bool:
    """Excel writes '~$rapport.xlsx' and LibreOffice '.~lock.rapport.xlsx#' beside an open file."""
    return name.startswith("~$") or (name.startswith(".~lock.") and name.endswith("#"))


OLE2_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")  # a local header, an empty archive, a spanned one


def sniff_other(head: bytes) -> str:
    if head.startswith(b"%PDF"):
        return "pdf"
    if b"\x00" in head:
        return "unknown"
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n").lower()
    if "urn:schemas-microsoft-com:office:spreadsheet" in text:
        return "xml_spreadsheet"
    if text.startswith(("<!doctype html", "<html", "<table")) or "<html" in text[:512]:
        return "html"
    return "csv"


def ole2_kind(data: bytes) -> str:
    """xls, encrypted (Office's EncryptionInfo/EncryptedPackage streams), doc or plain ole2."""
    names = _ole2_stream_names(data)
    if names is None:  # a damaged directory: fall back to looking for the stream name itself
        names = {"EncryptionInfo"} if "EncryptionInfo".encode("utf-16-le") in data else set()
    if names & {"EncryptionInfo", "EncryptedPackage"}:
        return "encrypted"
    if names & {"Workbook", "Book"}:
        return "xls"
    if "WordDocument" in names:
        return "doc"
    return "ole2"


def _ole2_stream_names(data: bytes) -> set[str] | None:
    """Names in a compound file's directory (MS-CFB), following the FAT with bounded loops."""
    try:
        sector_size = 1 << struct.unpack_from("<H", data, 0x1E)[0]
        if sector_size not in (512, 4096):
            return None
        sector_count = max(0, len(data) // sector_size - 1)

        def sector(index: int) -> bytes:
            if index >= sector_count:
                raise ValueError("sector outside the file")
            start = (index + 1) * sector_size
            return data[start : start + sector_size]

        fat_sectors = [s for s in struct.unpack_from("<109I", data, 0x4C) if s < 0xFFFFFFFA]
        difat, difat_count = struct.unpack_from("<II", data, 0x44)
        for _ in range(min(difat_count, sector_count)):
            if difat >= 0xFFFFFFFA:
                break
            entries = struct.unpack(f"<{sector_size // 4}I", sector(difat))
            fat_sectors += [s for s in entries[:-1] if s < 0xFFFFFFFA]
            difat = entries[-1]
        fat: list[int] = []
        for index in fat_sectors[:sector_count]:
            fat.extend(struct.unpack(f"<{sector_size // 4}I", sector(index)))
        names: set[str] = set()
        current, seen = struct.unpack_from("<I", data, 0x30)[0], set()
        while current < 0xFFFFFFFA and current not in seen and current < len(fat):
            seen.add(current)
            block = sector(current)
            for offset in range(0, sector_size, 128):
                entry = block[offset : offset + 128]
                length = min(struct.unpack_from("<H", entry, 64)[0], 64)
                if entry[66] in (1, 2, 5) and length >= 2:
                    names.add(entry[: length - 2].decode("utf-16-le", errors="replace"))
            current = fat[current]
        return names
    except (struct.error, ValueError, IndexError):
        return None

