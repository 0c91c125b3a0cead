"""Read the files a CLI wrote without ever leaving its isolated home.

The CLI under test is untrusted and its files end up in reports anyone may
read. A symlink it plants (``auth -> ~/.ssh/id_rsa``) must not make the
harness copy that file into ``results.json``; a FIFO must not hang the
snapshot; a huge file must not fill memory. So nothing here follows a
symlink (a link is recorded with the target it names), special files are
recorded by their type only, hard-linked files (which could be any file of
the suite's user) are not read, and reads stop at a size cap. The walk goes
through directory file descriptors opened with ``O_NOFOLLOW``, so a
directory swapped for a link while we look cannot lead outside either.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path

#: Bytes read of any one file; the real size is recorded as well.
MAX_READ_BYTES = 64 * 1024
#: Entries, depth and bytes read of one snapshot: a CLI that makes a million
#: files, or thousands of big ones, can neither stall a check nor fill memory.
MAX_ENTRIES = 5000
MAX_DEPTH = 24
MAX_TREE_BYTES = 4 << 20

_KINDS = {stat.S_IFIFO: "fifo", stat.S_IFSOCK: "socket", stat.S_IFCHR: "character device",
          stat.S_IFBLK: "block device"}


class NotConfined(Exception):
    """A path that cannot be read safely; ``str()`` is one line, with no file content."""

    def __init__(self, message: str, target: str | None = None) -> None:
        super().__init__(message)
        #: What the symlink in the way names, when one was.
        self.target = target


@dataclass(frozen=True)
class FileSnapshot:
    """One entry of a CLI's home as the harness saw it, without leaving the home.

    ``kind`` is ``file``, ``symlink`` (``target`` is what it names, never
    followed), ``hardlink`` (a file with other names, not read), a special
    file's type, or ``omitted`` (the snapshot's entry cap was reached).
    ``data`` holds at most :data:`MAX_READ_BYTES`; ``size`` is the real size.
    """

    mode: int
    data: bytes
    kind: str = "file"
    size: int = 0
    target: str | None = None
    #: Only for a file larger than what was read, so a change past the cap still shows.
    mtime_ns: int | None = None

    @property
    def truncated(self) -> bool:
        return self.kind == "file" and self.size > len(self.data)

    def describe(self) -> str:
        """A one-line account of what is not plain readable content."""
        if self.kind == "symlink":
            return f"symlink to {self.target} (not followed)"
        if self.kind == "hardlink":
            return f"file with {self.target} names, {self.size} bytes (hard link; not read)"
        if self.kind == "omitted":
            return f"{self.size} more entries not looked at (snapshot limit {MAX_ENTRIES})"
        if self.kind != "file":
            return f"{self.kind} (not read)"
        if self.truncated:
            return f"{self.size} bytes, first {len(self.data)} read"
        return f"{self.size} bytes"

    @property
    def observed(self) -> bytes:
        """Bytes to compare two snapshots of the same path by."""
        if self.kind != "file":
            return f"[{self.describe()}]".encode()
        if self.truncated:
            return self.data + f"\0[{self.describe()}, mtime {self.mtime_ns}]".encode()
        return self.data


def snapshot_tree(root: Path, *, within: Path | None = None) -> dict[str, FileSnapshot]:
    """Every non-directory entry under ``root`` (relative path -> snapshot).

    Used before and after each CLI invocation to show exactly what it
    changed. If ``root`` itself (or a directory on the way to it from
    ``within``) is a symlink, that one link is the whole snapshot, as ``"."``.
    """
    found: dict[str, FileSnapshot] = {}
    try:
        fd = open_dir(root, within)
    except FileNotFoundError:
        return found
    except NotConfined as exc:
        if exc.target is None:
            return {".": FileSnapshot(0, b"", "special file", 0)}
        return {".": FileSnapshot(0o777, b"", "symlink", 0, exc.target)}
    except OSError:
        return found
    try:
        _walk(fd, "", found, 0, [MAX_TREE_BYTES])
    finally:
        os.close(fd)
    return found


def read_capped(path: Path, within: Path, limit: int = MAX_READ_BYTES) -> bytes:
    """The bytes of a regular file inside ``within``, refusing anything else.

    Raises ``FileNotFoundError`` when it does not exist, :class:`NotConfined`
    (naming the problem, never the content) for a symlink leading out of
    ``within``, a special file, a hard link or a file over ``limit``.
    """
    real = Path(os.path.realpath(path))
    home = Path(os.path.realpath(within))
    if not real.is_relative_to(home):
        named = os.readlink(path) if path.is_symlink() else str(real)
        raise NotConfined(f"{path} is a symlink to {named}, outside the CLI's home; not read",
                          named)
    try:
        fd = os.open(real, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # swapped for a link since realpath
            raise NotConfined(f"{path} changed into a symlink while being read") from None
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotConfined(f"{path} is a {_kind(info.st_mode)}, not a file; not read")
        if info.st_nlink > 1:
            raise NotConfined(f"{path} is a hard link ({info.st_nlink} names); not read")
        if info.st_size > limit:
            raise NotConfined(f"{path} is {info.st_size} bytes, over the {limit} read limit")
        return _read(fd, limit)
    finally:
        os.close(fd)


def open_dir(root: Path, within: Path | None) -> int:
    """A directory fd for ``root``, reached from ``within`` without following links."""
    base = Path(within) if within is not None else Path(root)
    try:
        rest = Path(root).relative_to(base)
    except ValueError:
        raise NotConfined(f"{root} is not inside {base}") from None
    fd = os.open(base, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for part in rest.parts:
            try:
                inner = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
            except OSError as exc:
                if exc.errno not in (errno.ENOTDIR, errno.ELOOP):  # a link or a file in the way
                    raise
                try:
                    target: str | None = os.readlink(part, dir_fd=fd)
                except OSError:
                    target = None
                raise NotConfined(f"{root}: {part} is not a directory", target) from None
            os.close(fd)
            fd = inner
    except BaseException:
        os.close(fd)
        raise
    return fd


def _walk(
    dir_fd: int, prefix: str, found: dict[str, FileSnapshot], depth: int, budget: list[int]
) -> None:
    """Fill ``found``; ``budget[0]`` is what is left to read of the whole tree."""
    names: list[str] = []
    unlisted = 0
    with os.scandir(dir_fd) as entries:
        for entry in entries:  # a huge directory is counted, not held in memory
            if len(names) < MAX_ENTRIES:
                names.append(entry.name)
            else:
                unlisted += 1
    names.sort()
    for index, name in enumerate(names):
        if len(found) >= MAX_ENTRIES:
            found[prefix + "..."] = FileSnapshot(0, b"", "omitted",
                                                 len(names) - index + unlisted)
            return
        path = prefix + name
        try:
            info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        except OSError:
            continue
        mode = stat.S_IMODE(info.st_mode)
        if stat.S_ISDIR(info.st_mode):
            if depth >= MAX_DEPTH:
                found[path + "/..."] = FileSnapshot(mode, b"", "omitted", 1)
                continue
            try:
                inner = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=dir_fd)
            except OSError:
                continue
            try:
                _walk(inner, path + "/", found, depth + 1, budget)
            finally:
                os.close(inner)
        elif stat.S_ISLNK(info.st_mode):
            try:
                target = os.readlink(name, dir_fd=dir_fd)
            except OSError:
                target = "?"
            found[path] = FileSnapshot(mode, b"", "symlink", info.st_size, target)
        elif stat.S_ISREG(info.st_mode) and info.st_nlink > 1:
            found[path] = FileSnapshot(mode, b"", "hardlink", info.st_size, str(info.st_nlink),
                                       info.st_mtime_ns)
        elif stat.S_ISREG(info.st_mode):
            snapshot = _read_entry(dir_fd, name, mode, min(MAX_READ_BYTES, budget[0]))
            if snapshot is not None:
                found[path] = snapshot
                budget[0] -= len(snapshot.data)
        else:
            found[path] = FileSnapshot(mode, b"", _kind(info.st_mode), 0)
    if unlisted:
        found[prefix + "..."] = FileSnapshot(0, b"", "omitted", unlisted)


def _read_entry(dir_fd: int, name: str, mode: int, limit: int) -> FileSnapshot | None:
    try:
        # O_NONBLOCK: a file swapped for a FIFO since the stat must not block the open.
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=dir_fd)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return FileSnapshot(mode, b"", _kind(info.st_mode), 0)
        data = _read(fd, limit)
        truncated = info.st_size > len(data)
        return FileSnapshot(mode, data, "file", info.st_size, None,
                            info.st_mtime_ns if truncated else None)
    except OSError:
        return None
    finally:
        os.close(fd)


def _read(fd: int, limit: int) -> bytes:
    parts = []
    left = limit
    while left > 0:
        chunk = os.read(fd, min(left, 65536))
        if not chunk:
            break
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)


def _kind(mode: int) -> str:
    return _KINDS.get(stat.S_IFMT(mode), "special file")
