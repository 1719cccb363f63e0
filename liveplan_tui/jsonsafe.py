"""JSON from outside (a model's tool arguments, a server's stream) parsed with a bound on nesting.

`json.loads` of `[[[[…]]]]` a hundred thousand deep raises RecursionError, which no caller expects; and a value
nested a few hundred deep parses, then breaks whatever walks it next (validation, masking, recording). Here
both are one `json.JSONDecodeError` (a ValueError), which every caller already turns into an `error:` line.
"""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 64


def _too_deep(value: Any) -> bool:
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            return True
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)
    return False


def loads(text: str | bytes, *, check_depth: bool = True) -> Any:
    """`json.loads`, but nesting deeper than MAX_DEPTH levels is a JSONDecodeError, never a RecursionError.

    `check_depth=False` (a stream's frames, read field by field, never walked) only turns RecursionError into it.
    """
    try:
        value = json.loads(text)
    except RecursionError:
        value = None
        too_deep = True
    else:
        too_deep = check_depth and isinstance(value, (dict, list)) and _too_deep(value)
    if too_deep:
        doc = text if isinstance(text, str) else text.decode("utf-8", errors="replace")
        raise json.JSONDecodeError(f"nested deeper than {MAX_DEPTH} levels", doc[:100], 0)
    return value
