"""Text that reaches a terminal or a request, made safe and honest.

Model replies, file contents and command output may hold escape sequences
that erase or rewrite what the user reads (`ESC[2K`, a bare `\\r`), bidi
overrides that reorder it, or lone surrogates from undecodable bytes that
crash JSON encoding. Everything shown or sent passes through here.
"""

from __future__ import annotations

import os
import re
import sys

# C0 controls except \t and \n (ESC, so every CSI, OSC and DCS sequence loses its introducer), DEL, C1 controls
# (0x9b is a one-byte CSI), bidi marks, overrides and isolates, zero-width and invisible characters (soft hyphen,
# joiners, word joiner, fillers), interlinear annotations, and the tag block that smuggles invisible ASCII.
_CONTROL = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\xad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f"
    "\u200b-\u200f\u202a-\u202e\u2028\u2029\u2060-\u206f\u3164\ufe00-\ufe0e\ufeff\uffa0\ufff9-\ufffb"
    "\U000e0000-\U000e007f\U000e0100-\U000e01ef]"
)
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_SPACE_RUN = re.compile(r" {8,}")
_TRAILING = re.compile(r"[ \t]+$", re.MULTILINE)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def clean_text(text: str) -> str:
    """Replace lone surrogates (undecodable bytes smuggled through str) with U+FFFD."""
    return _SURROGATE.sub("\ufffd", text) if _SURROGATE.search(text) else text


def terminal_safe(text: str) -> str:
    """Neutralise control sequences: each control character is shown as its escape, never obeyed.

    The one way untrusted text (a model's, a tool's, a file name, a hook's or an MCP server's) reaches a
    terminal: every widget and printer passes it through here.
    """
    text = clean_text(text).replace("\r\n", "\n")
    return _CONTROL.sub(_escape, text)


def visible(text: str) -> str:
    """Every character of `text` made visible, for an approval: what is shown is what runs.

    Tabs become `\\t`, long runs of spaces are counted, trailing whitespace is marked with `·`,
    and control characters are escaped. Lines are kept, so a reader can count them.
    """
    text = terminal_safe(text)

    def mark_trailing(match: re.Match[str]) -> str:
        return match.group().replace(" ", "·").replace("\t", "\\t")

    text = _TRAILING.sub(mark_trailing, text)
    text = text.replace("\t", "\\t")
    return _SPACE_RUN.sub(lambda m: f" ⟨{len(m.group())} spaces⟩ ", text)


def display_path(name: str) -> str:
    """A file name as text: bytes that are not UTF-8 are shown as `\\xNN`, not lost or crashed on."""
    if not _SURROGATE.search(name):
        return terminal_safe(name)
    return terminal_safe(os.fsencode(name).decode("utf-8", errors="backslashreplace"))


def echo(text: str = "", *, err: bool = False, end: str = "\n") -> None:
    """Print for the CLI's subcommands: every line may hold text from outside, so it is made terminal-safe."""
    stream = sys.stderr if err else sys.stdout
    stream.write(terminal_safe(text) + end)
    stream.flush()
