"""Text helpers the strict and structured engines share."""

from __future__ import annotations


def unwrap(text: str) -> str:
    """Drop the ```markdown fence small models like to wrap a whole answer in."""
    stripped = text.strip()
    first, _, rest = stripped.partition("\n")
    if first.strip().lower() in ("```markdown", "```md"):
        rest = rest.rstrip()
        return (rest[:-3] if rest.endswith("```") else rest).strip()
    return stripped


def summary(text: str, limit: int = 80) -> str:
    """A step's short result: the first line of prose outside code blocks, cut at a word."""
    in_code = False
    for line in text.splitlines():
        if line.strip().startswith("```"):
            in_code = not in_code
            continue
        line = line.strip().lstrip("#*-> ").strip()
        if line and not in_code:
            return line if len(line) <= limit else line[:limit].rsplit(" ", 1)[0] + "…"
    return "done"
