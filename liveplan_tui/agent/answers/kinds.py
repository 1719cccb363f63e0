"""What kind of answer a task asks for: the language named first wins ("a Python function that uses a regex" is
Python, "a regex for Python identifiers" is a regular expression), then the extension of a file the task names.

A task that names no language gets None, and the check follows the fence of the block the answer gives.
"""

from __future__ import annotations

import re
from typing import Literal

Kind = Literal["python", "shell", "sql", "regex", "dockerfile", "yaml", "json", "toml", "javascript"]

_NAMED: list[tuple[Kind, str]] = [
    ("dockerfile", r"\bdockerfile\b|\bdocker image\b|\bcontainer image\b"),
    ("regex", r"\bregex(?:es|p)?\b|\bregular expressions?\b"),
    ("sql", r"\bsql(?:ite)?\b|\bpostgres(?:ql)?\b|\bmysql\b|\bselect\b[^.]*\bfrom\b"),
    ("yaml", r"\bya?ml\b|\bdocker-compose\b|\bcompose file\b|\bgithub actions? workflow\b|\bkubernetes manifest\b"),
    ("toml", r"\btoml\b|\bpyproject\b"),
    ("json", r"\bjson\b"),
    ("javascript", r"\bjavascript\b|\bnode(?:\.js|js)?\b|\bjs\b"),
    ("shell", r"\b(?:shell|bash|zsh|one-liner|pipeline|awk|sed|grep|xargs|jq)\b|\b(?:a|one|single|shell) command\b"),
    ("python", r"\bpython3?\b|\bpytest\b|\bpandas\b"),
]
_EXTENSIONS: dict[str, Kind] = {
    ".py": "python",
    ".sh": "shell",
    ".bash": "shell",
    ".sql": "sql",
    ".js": "javascript",
    ".mjs": "javascript",
    ".yaml": "yaml",
    ".yml": "yaml",
    ".json": "json",
    ".toml": "toml",
}
_FENCES: dict[str, Kind] = {
    **{name: "python" for name in ("python", "py", "python3")},
    **{name: "shell" for name in ("sh", "bash", "shell", "console", "zsh")},
    **{name: "sql" for name in ("sql", "sqlite", "postgresql", "mysql")},
    **{name: "regex" for name in ("regex", "regexp", "re")},
    "dockerfile": "dockerfile",
    "docker": "dockerfile",
    "yaml": "yaml",
    "yml": "yaml",
    "json": "json",
    "toml": "toml",
    **{name: "javascript" for name in ("javascript", "js", "node", "mjs")},
}
FENCE_OF: dict[Kind, str] = {
    "python": "python",
    "shell": "sh",
    "sql": "sql",
    "regex": "regex",
    "dockerfile": "dockerfile",
    "yaml": "yaml",
    "json": "json",
    "toml": "toml",
    "javascript": "javascript",
}


def kind_of(task: str) -> Kind | None:
    """The language the task asks for, by its first mention; else by a file it names; else None."""
    text = task.lower()
    found = [(m.start(), kind) for kind, pattern in _NAMED if (m := re.search(pattern, text))]
    if found:
        return min(found)[1]
    for name in re.findall(r"[\w.-]+\.[a-z]+\b", text):
        for ext, kind in _EXTENSIONS.items():
            if name.endswith(ext):
                return kind
    return "dockerfile" if re.search(r"\bdockerfile\b", text) else None


def kind_of_fence(lang: str) -> Kind | None:
    """The kind a fence's language label stands for (```py, ```bash, ```yml ...), or None."""
    return _FENCES.get(lang.strip().lower())


def kind_of_file(name: str) -> Kind | None:
    if name.rsplit("/", 1)[-1].lower().startswith("dockerfile"):
        return "dockerfile"
    return next((kind for ext, kind in _EXTENSIONS.items() if name.lower().endswith(ext)), None)


def reads_stdin(task: str) -> bool:
    """The task asks for a program that reads its input from stdin (then the check feeds it sample input)."""
    return bool(re.search(r"\bstdin\b|\bstandard input\b|\bpiped?\b (?:in|into|to)\b", task.lower()))
