"""The inbox's files listed again and again, at the cost of what changed: RAR's page lists the inbox
after every upload, and find_input_files works out each of 6 400 files' real and shown names anew
(70 ms a build, more than all the rest the page does for an upload; docs/performance.md).

A folder whose modification time is unchanged has the same entries (adding, removing or renaming a
file changes its folder's time; the intake stores by renaming), so its files are taken from the last
listing; a changed folder is read again, and only its new names are made into InputFile. The answer
is find_input_files' for the same folder (tests/test_file_states.py); a folder with a symbolic link
in it, or anything but folders and regular files, is listed by find_input_files itself.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field

from .inputs import InputFile, find_input_files


@dataclass
class _Folder:
    mtime_ns: int
    files: dict[str, InputFile]  # by name, sorted
    folders: list[str]  # subfolders' paths, sorted by name


@dataclass
class Listing:
    """One folder's input files (as find_input_files([folder], exclude) lists them), kept between
    calls. Not thread-safe: one per FileStates."""

    folders: dict[str, _Folder] = field(default_factory=dict)
    relisted: int = 0  # folders read again by the last call (tests)
    thorough: bool = False

    def files(self, folder: str, exclude: Iterable[str] = (), *, thorough: bool = False) -> list[InputFile]:
        """`thorough`: every folder read again and every entry looked at (a name that became a link)."""
        self.thorough = thorough
        excluded = {os.path.realpath(path) for path in exclude}
        self.relisted = 0
        found: list[InputFile] = []
        fresh: dict[str, _Folder] = {}
        if not os.path.isdir(folder) or not self._walk(folder, ".", found, fresh):
            self.folders = {}
            return find_input_files([folder], excluded)
        self.folders = fresh
        top = os.path.join(os.path.realpath(folder), "")
        inside = {path[len(top):] for path in excluded if path.startswith(top)}  # as InputFile.name has them
        return [f for f in found if f.name not in inside] if inside else found

    def _walk(self, folder: str, shown: str, found: list[InputFile], fresh: dict[str, _Folder]) -> bool:
        """Add `folder`'s files, then its subfolders' (os.walk's order); False for a folder
        find_input_files must list (a link, a fifo …), or one that cannot be read."""
        try:
            mtime = os.stat(folder).st_mtime_ns
        except OSError:
            return False
        kept = self.folders.get(folder)
        if kept is None or kept.mtime_ns != mtime or self.thorough:
            kept = self._read(folder, shown, mtime, kept)
            if kept is None:
                return False
        fresh[folder] = kept
        found.extend(kept.files.values())
        return all(self._walk(sub, os.path.basename(sub) if shown == "." else os.path.join(shown, os.path.basename(sub)),
                              found, fresh) for sub in kept.folders)

    def _read(self, folder: str, shown: str, mtime: int, before: _Folder | None) -> _Folder | None:
        """The folder's entries; those of the last listing keep their kind and InputFile unless
        `self.thorough`, and only the new names are looked at (one lstat each)."""
        self.relisted += 1
        known = before.files if before is not None and not self.thorough else {}
        known_folders = set(before.folders) if before is not None and not self.thorough else set()
        files: dict[str, InputFile] = {}
        folders: list[str] = []
        try:
            names = sorted(os.listdir(folder))
            for name in names:
                kept = known.get(name)
                if kept is not None:
                    files[name] = kept
                    continue
                path = os.path.join(folder, name)
                if path in known_folders:
                    folders.append(path)
                    continue
                mode = os.lstat(path).st_mode
                if stat.S_ISDIR(mode):
                    folders.append(path)
                elif stat.S_ISREG(mode):
                    files[name] = InputFile(path, name if shown == "." else os.path.join(shown, name))
                else:  # a link, a fifo, a socket …: find_input_files' rules
                    return None
        except OSError:
            return None
        return _Folder(mtime, files, folders)
