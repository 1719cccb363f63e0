"""Project instructions: the `AGENTS.md` files from the repository root down to the workspace, nearest last.

Developers already write these for Codex, Claude Code, Gemini CLI and opencode. They are read once per
session, rendered into the main loop's system prompt within a token budget (the nearest file is kept whole
first; what does not fit is cut and reported), and `/init` drafts a starter file from what the workspace holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from . import confined
from .secret_files import is_secret_name, looks_secret

FILENAME = "AGENTS.md"
BUDGET_TOKENS = 2000
CHARS_PER_TOKEN = 4


@dataclass(frozen=True)
class Instructions:
    files: tuple[Path, ...] = ()  # the files loaded, root first
    text: str = ""  # the block for the system prompt
    cut: tuple[Path, ...] = field(default_factory=tuple)  # files shortened or left out to fit the budget
    tokens: int = 0  # the estimated size of all the files, before any cut
    root: Path = Path(".")  # the repository root the files are named from
    skipped: tuple[str, ...] = ()  # files left out whole, each with why (secret, or leading outside)

    @property
    def over_budget(self) -> bool:
        return bool(self.cut)

    def notices(self) -> list[str]:
        """What the user is told once: files skipped, and files cut to fit the budget."""
        told = [f"project instructions: {why}" for why in self.skipped]
        if self.cut:
            cut = ", ".join(str(p) for p in self.cut)
            told.append(
                f"project instructions are ~{self.tokens} tokens, over the budget of {BUDGET_TOKENS}; cut: {cut}. "
                "Shorten them, or pass --no-project-instructions"
            )
        return told

    def describe(self) -> str:
        """For the status bar and `liveplan config show`: which files, named from the repository root."""
        if not self.files:
            return "none"
        names = ", ".join(_shown(p, self.root) for p in self.files)
        return names + (f" (cut to {BUDGET_TOKENS} tokens)" if self.cut else "")


def _shown(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root)) or FILENAME
    except ValueError:
        return str(path)


def repository_root(start: Path) -> Path:
    """The nearest folder at or above `start` holding `.git`; `start` itself when there is none."""
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return start


def find(workspace: Path) -> list[Path]:
    """`AGENTS.md` files from the repository root down to the workspace, root first."""
    workspace = workspace.resolve()
    root = repository_root(workspace)
    chain = [workspace, *workspace.parents]
    folders = list(reversed(chain[: chain.index(root) + 1]))
    return [f / FILENAME for f in folders if (f / FILENAME).is_file()]


def _read(path: Path, root: Path, limit: int) -> tuple[str, int] | str:
    """The file's text (at most `limit` bytes) and its size, read through the confined open; or why it is skipped.

    A cloned repository's `AGENTS.md` may be a link to `.env` or `~/.aws/credentials`: what it leads to is judged
    before a byte is read, and a secret or a file outside the repository never reaches the model.
    """
    shown = _shown(path, root)
    try:
        real = path.resolve()
        if not real.is_relative_to(root):
            return f"{shown} leads outside the repository (to {real}); skipped"
        if is_secret_name(path.as_posix()) or is_secret_name(real.as_posix()):
            return f"{shown} is a secret file ({real.name}); skipped"
        data = confined.read_bytes(root, confined.relative(root, real), limit)
        size = real.stat().st_size
    except (OSError, RuntimeError) as exc:
        return f"{shown} cannot be read ({exc}); skipped"
    if looks_secret(data[:4096]):
        return f"{shown} holds a private key or credentials; skipped"
    return data.decode("utf-8", errors="replace").strip(), size


def load(workspace: Path, budget: int = BUDGET_TOKENS) -> Instructions:
    """Read the files; when they exceed `budget`, the nearest are kept first and the farther ones cut.

    No file is read past what the budget could keep (4 bytes a character at most).
    """
    root = repository_root(workspace.resolve())
    texts: dict[Path, str] = {}
    skipped: list[str] = []
    total = 0
    for path in find(workspace):
        read = _read(path, root, budget * CHARS_PER_TOKEN * 4 + 1)
        if isinstance(read, str):
            skipped.append(read)
            continue
        texts[path], size = read
        total += size // CHARS_PER_TOKEN
    room = budget * CHARS_PER_TOKEN
    kept: dict[Path, str] = {}
    cut: list[Path] = []
    for path in reversed(list(texts)):  # nearest first
        text = texts[path]
        if len(text) > room:
            cut.append(path)
            text = text[: max(room, 0)].rstrip() + ("\n[… cut: over the project instructions budget]" if room else "")
        room -= len(text)
        if text:
            kept[path] = text
    ordered = [p for p in texts if p in kept]
    parts = [f"## {_shown(p, root)}\n{kept[p]}" for p in ordered]
    block = "[PROJECT INSTRUCTIONS]\n" + "\n\n".join(parts) + "\n[/PROJECT INSTRUCTIONS]" if parts else ""
    return Instructions(tuple(ordered), block, tuple(cut), total, root, tuple(skipped))


def starter(workspace: Path) -> str:
    """A first `AGENTS.md` from what the workspace shows: how to install, test and lint, and where things are."""
    has = {
        name: (workspace / name).exists()
        for name in ("pyproject.toml", "package.json", "Makefile", "tests", "src", "README.md", "Cargo.toml", "go.mod")
    }
    lines = ["# Instructions for coding agents", "", "## Commands"]
    if has["pyproject.toml"]:
        lines += ["- Install: `python -m pip install -e .`", "- Test: `python -m pytest -q`"]
    if has["package.json"]:
        lines += ["- Install: `npm install`", "- Test: `npm test`"]
    if has["Cargo.toml"]:
        lines += ["- Build: `cargo build`", "- Test: `cargo test`"]
    if has["go.mod"]:
        lines += ["- Test: `go test ./...`"]
    if has["Makefile"]:
        lines += ["- See the Makefile's targets: `make help` or read it."]
    if lines[-1] == "## Commands":
        lines += ["- (say how to install, run and test this project)"]
    lines += ["", "## Layout"]
    folders = sorted(p.name + "/" for p in workspace.iterdir() if p.is_dir() and not p.name.startswith("."))[:12]
    lines += [f"- `{name}`" for name in folders] or ["- (describe the main folders)"]
    lines += ["", "## Conventions", "- Keep changes small and tested; run the tests before saying a step is done."]
    if has["README.md"]:
        lines += ["- README.md describes the project for people; keep it in step with behaviour changes."]
    return "\n".join(lines) + "\n"
