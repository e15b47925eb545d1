"""The inbox's files listed again and again, at the cost of what changed: RAR's page lists the inbox
after every upload, and find_input_files works out each of 6 400 files' real and shown names anew
(70 ms a build, more than all the rest the page does for an upload; docs/performance.md).

A folder whose modification time is unchanged has the same entries (adding, removing or renaming a
file changes its folder's time; the intake stores by renaming), so its files are taken from the last
listing; a changed folder is read again, and only its new names are made into InputFile. The answer
is find_input_files' for the same folder (tests/test_listing.py); a folder with a symbolic link
in it, or anything but folders and regular files, is listed by find_input_files itself.
"""

from __future__ import annotations

import bisect
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field

from .inputs import InputFile, find_input_files


@dataclass
class _Folder:
    mtime_ns: int
    files: dict[str, InputFile]  # by name
    folders: list[str]  # subfolders' paths, sorted by name
    names: list[str] = field(default_factory=list)  # the files' names, sorted
    ordered: list[InputFile] = field(default_factory=list)  # the files in that order

    def __post_init__(self) -> None:
        if len(self.names) != len(self.files):
            self.names = sorted(self.files)
            self.ordered = [self.files[name] for name in self.names]


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
        found.extend(kept.ordered)
        return all(self._walk(sub, os.path.basename(sub) if shown == "." else os.path.join(shown, os.path.basename(sub)),
                              found, fresh) for sub in kept.folders)

    def _read(self, folder: str, shown: str, mtime: int, before: _Folder | None) -> _Folder | None:
        """The folder's entries. After the last listing only the names that came or went are looked
        at (one lstat for each new one; the others keep their kind and InputFile), unless
        `self.thorough` (every entry looked at)."""
        self.relisted += 1
        try:
            names = os.listdir(folder)
        except OSError:
            return None
        if before is None or self.thorough:
            return self._classify(folder, shown, mtime, sorted(names), {}, set())
        now = set(names)
        known_folders = {os.path.basename(path) for path in before.folders}
        came = now - before.files.keys() - known_folders
        went: set[str] = set()
        if len(before.files) + len(known_folders) + len(came) != len(now):  # something went too
            went = (before.files.keys() | known_folders) - now
        if len(came) + len(went) > 64:  # many changes: as a first listing, keeping what is known
            return self._classify(folder, shown, mtime, sorted(names), before.files, known_folders)
        added = self._classify(folder, shown, mtime, sorted(came), {}, set())
        if added is None:
            return None
        # The last listing's structures are changed in place (it is replaced by this one): copying
        # 6 400 names after each upload cost more than the rest of the listing.
        files, names, ordered = before.files, before.names, before.ordered
        for name in went & files.keys():
            del files[name]
            at = bisect.bisect_left(names, name)
            del names[at], ordered[at]
        for name, found in added.files.items():
            files[name] = found
            at = bisect.bisect_left(names, name)
            names.insert(at, name)
            ordered.insert(at, found)
        folders = sorted([path for path in before.folders if os.path.basename(path) not in went] + added.folders)
        return _Folder(mtime, files, folders, names, ordered)

    @staticmethod
    def _classify(folder: str, shown: str, mtime: int, names: list[str], known: dict[str, InputFile],
                  known_folders: set[str]) -> _Folder | None:
        """`names` (sorted) as files and folders; None for a link, a fifo … (find_input_files' rules)."""
        files: dict[str, InputFile] = {}
        folders: list[str] = []
        for name in names:
            kept = known.get(name)
            if kept is not None:
                files[name] = kept
                continue
            path = os.path.join(folder, name)
            if name in known_folders:
                folders.append(path)
                continue
            try:
                mode = os.lstat(path).st_mode
            except OSError:  # gone since the listing
                continue
            if stat.S_ISDIR(mode):
                folders.append(path)
            elif stat.S_ISREG(mode):
                files[name] = InputFile(path, name if shown == "." else os.path.join(shown, name))
            else:
                return None
        return _Folder(mtime, files, folders)
