"""The one confined way to files under a root, for the tools and for LivePlan itself.

A path is walked from the root one component at a time with `O_NOFOLLOW`: no component may be a link, so nothing
can lead out of the root, not even a link swapped in after a check (the walk holds each folder open). Callers that
accept links inside the root resolve them first and pass the real path. Writes go through a temp file in the same
held folder and a rename, so the last component is never followed either.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import Literal

Kind = Literal["missing", "file", "link", "folder", "other", "outside"]
_DIR_FLAGS = os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class ConfinementError(OSError):
    """A path that leaves its root, or passes through a link or something that is not a folder."""


def parts_of(rel: str | PurePosixPath) -> list[str]:
    """The components of a root-relative path; absolute paths, `..` and empty paths are refused."""
    path = PurePosixPath(rel)
    parts = [p for p in path.parts if p != "."]
    if path.is_absolute() or not parts or ".." in parts:
        raise ConfinementError(errno.EPERM, f"{str(rel)!r} is not a path inside the folder")
    return parts


def relative(root: Path, path: Path) -> str:
    """`path` (absolute, already resolved) as a root-relative path, or ConfinementError when it is outside."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        raise ConfinementError(errno.EPERM, f"{path} is outside {root}") from None


@contextmanager
def folder_of(root: Path, rel: str, *, create: bool = False) -> Iterator[tuple[int, str]]:
    """The held folder that contains `rel`, and its last component's name; missing folders are made when `create`."""
    *folders, name = parts_of(rel)
    fd = os.open(root, _DIR_FLAGS)
    try:
        for part in folders:
            try:
                child = os.open(part, _DIR_FLAGS, dir_fd=fd)
            except FileNotFoundError:
                if not create:
                    raise
                os.mkdir(part, 0o777, dir_fd=fd)
                child = os.open(part, _DIR_FLAGS, dir_fd=fd)
            except (NotADirectoryError, OSError) as exc:
                if exc.errno in (errno.ENOTDIR, errno.ELOOP):
                    raise ConfinementError(errno.ELOOP, f"{rel}: {part} is a link or not a folder") from None
                raise
            os.close(fd)
            fd = child
        yield fd, name
    finally:
        os.close(fd)


def kind(root: Path, rel: str) -> Kind:
    """What stands at `rel` now, without following anything: a regular file, a link, a folder, nothing, or a
    path that passes through a link (`outside`)."""
    try:
        with folder_of(root, rel) as (fd, name):
            info = os.stat(name, dir_fd=fd, follow_symlinks=False)
    except FileNotFoundError:
        return "missing"
    except ConfinementError:
        return "outside"
    if stat.S_ISLNK(info.st_mode):
        return "link"
    if stat.S_ISDIR(info.st_mode):
        return "folder"
    return "file" if stat.S_ISREG(info.st_mode) else "other"


def read_bytes(root: Path, rel: str, limit: int | None = None) -> bytes:
    """A regular file's bytes (at most `limit`), opened without following a link at any component."""
    with folder_of(root, rel) as (fd, name):
        try:
            file_fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=fd)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise ConfinementError(errno.ELOOP, f"{rel} is a link") from None
            raise
    with os.fdopen(file_fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            raise ConfinementError(errno.EINVAL, f"{rel} is not a regular file")
        return fh.read() if limit is None else fh.read(limit)


def write_bytes(root: Path, rel: str, data: bytes, mode: int | None = None) -> None:
    """Replace `rel` with `data` through a temp file and a rename in the held folder (folders made as needed).

    The file keeps its mode when it existed; a new one gets `mode` (default 0o666 less the umask).
    """
    with folder_of(root, rel, create=True) as (fd, name):
        try:
            old = os.stat(name, dir_fd=fd, follow_symlinks=False)
            if stat.S_ISREG(old.st_mode):
                mode = stat.S_IMODE(old.st_mode)
            elif not stat.S_ISLNK(old.st_mode):
                raise ConfinementError(errno.EISDIR, f"{rel} is not a regular file")
        except FileNotFoundError:
            pass
        temp = f".{name}.{os.getpid()}.{os.urandom(4).hex()}.tmp"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        temp_fd = os.open(temp, flags, 0o600, dir_fd=fd)
        try:
            with os.fdopen(temp_fd, "wb") as fh:
                fh.write(data)
                os.fchmod(fh.fileno(), mode if mode is not None else 0o666 & ~current_umask())
            os.replace(temp, name, src_dir_fd=fd, dst_dir_fd=fd)
        except BaseException:
            try:
                os.unlink(temp, dir_fd=fd)
            except OSError:
                pass
            raise


def remove(root: Path, rel: str) -> None:
    """Delete the regular file at `rel` (nothing when it is gone); a link or folder there is refused."""
    with folder_of(root, rel) as (fd, name):
        try:
            info = os.stat(name, dir_fd=fd, follow_symlinks=False)
        except FileNotFoundError:
            return
        if not stat.S_ISREG(info.st_mode):
            raise ConfinementError(errno.EPERM, f"{rel} is not a regular file")
        os.unlink(name, dir_fd=fd)


def current_umask() -> int:
    """The process umask, read without changing it where /proc allows (changing it races other threads)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
