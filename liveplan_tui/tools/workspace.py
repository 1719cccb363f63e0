"""The workspace: the one folder the tools may touch, and its .gitignore rules.

Every path a model sends is resolved here, symlinks included, and refused
unless it lands inside the workspace root.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from .. import confined
from ..secret_files import is_secret_name, looks_secret
from ..textsafe import display_path
from .errors import ToolError

if TYPE_CHECKING:  # imported when the first ignore file is read: a turn without file tools never needs it
    import pathspec

ALWAYS_IGNORED = (".git/",)
SNIFF_BYTES = 4096
SKIP_DIRS = {".git", "node_modules", ".venv", "venv", "__pycache__", ".mypy_cache", ".tox"}
MAX_INDEX_ENTRIES = 50_000


class PathError(ToolError):
    """A path the tools must not touch; the message is shown to the model."""


class Workspace:
    def __init__(self, root: Path):
        self.root = Path(root).resolve()
        self._specs: dict[Path, pathspec.GitIgnoreSpec | None] = {}

    def resolve(self, path: object) -> Path:
        """The real location of `path`, refused if it is outside the workspace."""
        if not isinstance(path, str):
            raise PathError(f"path must be a string, got {type(path).__name__}")
        if "\x00" in path:
            raise PathError("path contains a NUL byte")
        raw = Path(path.strip() or ".")
        candidate = raw if raw.is_absolute() else self.root / raw
        try:
            real = candidate.resolve()
        except (RuntimeError, OSError) as exc:
            raise PathError(f"cannot resolve {path!r}: {exc}") from None
        if not real.is_relative_to(self.root):
            lexical = Path(os.path.normpath(candidate))
            how = "through a symlink" if lexical.is_relative_to(self.root) else "it is"
            raise PathError(
                f"{path!r} is outside the workspace {self.root} ({how} outside); tools can only use paths inside it"
            )
        return real

    def rel(self, path: Path) -> str:
        """The path as shown to the model and the user; undecodable bytes appear as `\\xNN`."""
        rel = path.relative_to(self.root).as_posix()
        return display_path(rel) if rel else "."

    def sensitive(self, path: object) -> bool:
        """Whether a path the model sent lands on a secret file (False for paths the tools refuse anyway)."""
        try:
            return self.is_secret(self.resolve(path))
        except PathError:
            return False

    def is_secret(self, path: Path) -> bool:
        """Judged on the name a file is reached by, on the real file behind it, and on what that file holds.

        A symlink `notes.txt -> .env`, a hardlink to `.env` and a private key saved as `notes.txt` are all as
        secret as `.env` itself (see `secret_files` for the table).
        """
        if is_secret_name(path.as_posix()):
            return True
        try:
            real = path.resolve()
            if is_secret_name(real.as_posix()):
                return True
            info = real.stat()
        except (OSError, RuntimeError):
            return False
        if not stat.S_ISREG(info.st_mode):
            return False
        if info.st_nlink > 1 and (info.st_dev, info.st_ino) in self._secret_inodes():
            return True
        try:  # its first bytes, through the confined open (a link swapped in since is not followed)
            head = confined.read_bytes(self.root, confined.relative(self.root, real), SNIFF_BYTES)
        except OSError:
            return False
        return looks_secret(head)

    def _secret_inodes(self) -> set[tuple[int, int]]:
        """Inodes of the secret-named files in the workspace, ignored ones included (.env usually is)."""
        found: set[tuple[int, int]] = set()
        seen = 0
        for folder, dirs, files in os.walk(self.root):
            dirs[:] = [d for d in dirs if d not in SKIP_DIRS]
            for name in files:
                seen += 1
                if is_secret_name(name):
                    try:
                        info = os.stat(os.path.join(folder, name), follow_symlinks=False)
                    except OSError:
                        continue
                    found.add((info.st_dev, info.st_ino))
            if seen > MAX_INDEX_ENTRIES:
                break
        return found

    def _spec(self, folder: Path) -> pathspec.GitIgnoreSpec | None:
        if folder not in self._specs:
            lines = list(ALWAYS_IGNORED) if folder == self.root else []
            gi = folder / ".gitignore"
            if gi.is_file():
                try:
                    lines += gi.read_text(encoding="utf-8", errors="replace").splitlines()
                except OSError:
                    pass
            import pathspec

            self._specs[folder] = pathspec.GitIgnoreSpec.from_lines(lines) if lines else None
        return self._specs[folder]

    def ignored(self, path: Path, is_dir: bool) -> bool:
        """Apply every .gitignore from the root down to `path`'s folder; deeper files win."""
        verdict = False
        folder = self.root
        parts = path.relative_to(self.root).parts
        for depth in range(len(parts)):
            spec = self._spec(folder)
            if spec is not None:
                rel = "/".join(parts[depth:]) + ("/" if is_dir else "")
                result = spec.check_file(rel)
                if result.include is not None:
                    verdict = bool(result.include)
            folder = folder / parts[depth]
        return verdict

    def walk(self, start: Path, max_depth: int | None = None) -> Iterator[tuple[Path, bool]]:
        """Yield (path, is_dir) below `start`, sorted, skipping ignored entries and escaping links."""
        base_depth = len(start.relative_to(self.root).parts)
        stack = [start]
        while stack:
            folder = stack.pop()
            try:
                entries = sorted(os.scandir(folder), key=lambda e: e.name)
            except OSError:
                continue
            for entry in entries:
                path = Path(entry.path)
                try:
                    is_dir = entry.is_dir()
                    if entry.is_symlink() and not path.resolve().is_relative_to(self.root):
                        continue
                except OSError:
                    continue
                if self.ignored(path, is_dir):
                    continue
                depth = len(path.relative_to(self.root).parts) - base_depth
                yield path, is_dir
                if is_dir and not entry.is_symlink() and (max_depth is None or depth < max_depth):
                    stack.append(path)
