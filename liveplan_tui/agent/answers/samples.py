"""The small tree of sample files a shell or script answer runs in, so `grep ERROR app.log | wc -l` has something
to read. A data file the task names is made from its extension (a log has IPs and levels, a CSV a header and rows);
the answer may create more of its own."""

from __future__ import annotations

import json
import re

from .blocks import files_named

SAMPLE_INPUT = "the quick brown fox\njumps over the lazy dog\n\nThe dog sleeps\nfox and dog\n"
LOG = (
    "2026-12-01 10:00:01 INFO 192.168.1.10 GET /index.html 200\n"
    "2026-12-01 10:00:02 ERROR 10.0.0.5 GET /api/users 500\n"
    "2026-12-01 10:00:03 INFO 192.168.1.10 GET /about.html 200\n"
    "2026-12-01 10:00:04 WARN 172.16.0.3 POST /login 401\n"
    "2026-12-01 10:00:05 ERROR 10.0.0.5 GET /api/orders 500\n"
    "2026-12-01 10:00:06 INFO 192.168.1.11 GET /index.html 200\n"
)
CSV = "name,age,city\nAlice,34,Paris\nBob,27,London\nCarol,41,Paris\nDave,19,Berlin\n"
BY_EXTENSION = {
    ".log": LOG,
    ".csv": CSV,
    ".json": json.dumps([{"name": "Alice", "age": 34}, {"name": "Bob", "age": 27}], indent=2) + "\n",
    ".md": "# Notes\n\nSome text.\n",
}
TREE = {
    "notes.txt": SAMPLE_INPUT,
    "data.csv": CSV,
    "app.log": LOG,
    "src/main.py": "import util\n\nprint(util.greet('world'))\n",
    "src/util.py": "def greet(name):\n    return f'hello {name}'\n",
    "docs/readme.md": "# Demo\n\nA small sample project.\n",
    "empty.txt": "",
}


def sample_input(task: str) -> str:
    """What a program that reads stdin is fed: numbers when the task reads numbers, CSV rows, else lines of text."""
    lowered = task.lower()
    if re.search(r"\b(?:numbers?|integers?|floats?|digits|values|sum|average|mean)\b", lowered):
        return "3\n5\n10\n-2\n"
    return CSV if "csv" in lowered else SAMPLE_INPUT


def sample_tree(task: str) -> dict[str, str]:
    tree = dict(TREE)
    for name in files_named(task).inputs:
        ext = "." + name.rsplit(".", 1)[-1] if "." in name else ""
        tree[name] = BY_EXTENSION.get(ext) or sample_input(task)  # "numbers.txt" of a task about numbers: numbers
    return tree
