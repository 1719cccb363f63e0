"""Where a long streamed reply may be cut into segments. Pure: no Textual.

A layout pass walks every widget in the chat, and a Markdown reply mounts one widget per paragraph, list item
and code block: a 7,000-token reply is about 2,000 widgets, and every keystroke waits on their layout. So a
reply streams in segments of about a thousand characters, each its own Markdown widget, cut only where
Markdown renders the same in one piece or two: at a blank line outside a code fence, before a plain paragraph.
Not before an indented line (it may continue a list item, or be code), and not before a list, heading, table,
quote or fence: their top margins would not merge with the margin above them across two widgets.
"""

from __future__ import annotations

import re

SEGMENT_CHARS = 1000
_FENCE = re.compile(r"^ {0,3}(```|~~~)", re.M)
_NOT_PARAGRAPH = re.compile(r"([-*+]|\d{1,9}[.)])(\s|$)|[#|>`~<]|[-*_=]{3}")


def open_fence(text: str) -> bool:
    """Whether `text` ends inside a fenced code block."""
    return len(_FENCE.findall(text)) % 2 == 1


def starts_paragraph(text: str) -> bool:
    """Whether `text` (what follows a blank line) opens a plain paragraph. Its first line, or 12 characters of it,
    must have arrived: "1" may yet become "1. a list"."""
    seen_enough = "\n" in text or len(text) >= 12
    return seen_enough and not text[0].isspace() and not _NOT_PARAGRAPH.match(text)


def cut_point(segment: str, fragment: str) -> int | None:
    """The first index into `fragment` where a new segment may start once `segment` (the text the current one
    shows so far) has reached SEGMENT_CHARS; None when it cannot reach it, or the fragment has no safe place."""
    at = max(0, SEGMENT_CHARS - len(segment) - 2)
    while (at := fragment.find("\n\n", at)) >= 0:
        start = at + 2
        while start < len(fragment) and fragment[start] == "\n":
            start += 1
        if starts_paragraph(fragment[start:]) and not open_fence(segment + fragment[:start]):
            return start
        at = start
    return None
