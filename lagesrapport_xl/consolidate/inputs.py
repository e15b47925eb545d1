"""Which files a batch reads: every regular file under the folders and files it is given, each once,
named relative to their common folder, our own outputs left out."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path


class InputError(ValueError):
    """An INBOX argument that does not exist; the message is Swedish and names it."""


@dataclass(frozen=True)
class InputFile:
    location: str  # the path as found (a Path only when asked for: 6 400 of them cost 0.1 s)
    name: str  # shown to people: relative to the common folder of all inputs

    @property
    def path(self) -> Path:
        return Path(self.location)


def find_input_files(inputs: Iterable[str | Path], exclude: Iterable[str | Path] = ()) -> list[InputFile]:
    """Every regular file under the folders (recursively) and every file named, in a stable order.

    A file reached twice (named twice, or inside two given folders) counts once. `exclude` holds
    our own outputs (the master, exports), which must not be read back as reports.
    """
    excluded = {os.path.realpath(p) for p in exclude}
    # (folder, name, the folder's real path when found in one, is it a link, is it a regular file)
    found: list[tuple[str, str, str | None, bool | None, bool | None]] = []
    roots: list[str] = []
    for raw in inputs:
        path = Path(raw)
        if path.is_dir():
            roots.append(os.path.abspath(path))
            for folder, entries in _walk(str(path)):
                real_folder = os.path.realpath(folder)
                found.extend((folder, entry.name, real_folder, *_kind(entry)) for entry in entries)
        elif path.is_file():
            roots.append(os.path.dirname(os.path.abspath(path)))
            found.append((os.path.dirname(raw), os.path.basename(raw), None, None, None))
        else:
            raise InputError(f"Hittar inte {raw}: varken en mapp eller en fil.")
    common = os.path.commonpath(roots) if roots else os.getcwd()
    shown_folders: dict[str, str] = {}  # folder → its name relative to `common` (worked out once a folder)
    seen: set[str] = set()
    files: list[InputFile] = []
    for folder, name, real_folder, link, regular in found:
        path = os.path.join(folder, name)
        # The real path, for duplicates and our own outputs; resolved in full only for a link.
        linked = real_folder is None or (link if link is not None else os.path.islink(path))
        real = os.path.realpath(path) if linked else os.path.join(real_folder, name)  # type: ignore[arg-type]
        if real in seen or real in excluded or not (regular if regular is not None else os.path.isfile(path)):
            continue  # a duplicate path, our own output, or not a regular file (fifo, socket …)
        seen.add(real)
        shown = shown_folders.get(folder)
        if shown is None:
            shown = shown_folders[folder] = os.path.relpath(os.path.abspath(folder or "."), common)
        files.append(InputFile(path, name if shown == "." else os.path.join(shown, name)))
    return files


def _walk(top: str) -> Iterator[tuple[str, list[os.DirEntry[str]]]]:
    """os.walk's order (the folder, then its subfolders by name; linked folders not entered) with
    each file's directory entry, which knows without a stat whether it is a link or a regular file
    (RAR's page lists 6 400 files after every upload)."""
    try:
        with os.scandir(top) as listing:
            entries = list(listing)
    except OSError:
        return
    folders, files = [], []
    for entry in entries:
        try:
            (folders if entry.is_dir() else files).append(entry)
        except OSError:
            files.append(entry)
    yield top, sorted(files, key=lambda entry: entry.name)
    for folder in sorted(folders, key=lambda entry: entry.name):
        if not folder.is_symlink():
            yield from _walk(os.path.join(top, folder.name))


def _kind(entry: os.DirEntry[str]) -> tuple[bool | None, bool | None]:
    """(is it a link, is it a regular file, links followed); None where the entry cannot say."""
    try:
        return entry.is_symlink(), entry.is_file()
    except OSError:
        return None, None
