"""What the tools did for a step while it was in progress: the record a completed step is judged by.

A step's claim to be done is the model's word; its evidence is what LivePlan saw: files written or edited,
commands with their exit codes, checks, MCP calls. The plan panel, `/plan`, the REPL, the export, the watch page
and `exec --json` all show it, so a step completed with nothing behind it, or right after a failing command,
looks like what it is.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

EvidenceKind = Literal["file", "command", "check", "mcp"]
NO_WORK = "no recorded work"
DESPITE_FAILURE = "completed despite a failure"


class Evidence(BaseModel):
    """One thing a tool did for a step; `ok` is whether it worked (a command's exit code 0, a passed check)."""

    model_config = ConfigDict(frozen=True)

    kind: EvidenceKind
    what: str
    ok: bool
    detail: str = ""  # e.g. "exit code 1"


def last_failure(evidence: tuple[Evidence, ...]) -> Evidence | None:
    """The last command or check run, when it failed: the record contradicts a claim that the step is done."""
    runs = [e for e in evidence if e.kind in ("command", "check")]
    return runs[-1] if runs and not runs[-1].ok else None


def summary(evidence: tuple[Evidence, ...]) -> str:
    """`2 files · 1 command ✔`: what was done, and whether the last command or check passed."""
    files = len({e.what for e in evidence if e.kind == "file"})
    counts = [
        (files, "file"),
        (sum(e.kind == "command" for e in evidence), "command"),
        (sum(e.kind == "check" for e in evidence), "check"),
        (sum(e.kind == "mcp" for e in evidence), "MCP call"),
    ]
    text = " · ".join(f"{n} {word}{'s' if n != 1 else ''}" for n, word in counts if n)
    runs = [e for e in evidence if e.kind in ("command", "check")]
    if runs:
        text += " ✔" if runs[-1].ok else " ✘"
    return text


def failure_line(item: Evidence) -> str:
    """`make test` (exit code 2): the failure a claim is refused with."""
    return f"`{item.what}`" + (f" ({item.detail})" if item.detail else "")
