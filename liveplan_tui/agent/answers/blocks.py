"""An answer's fenced blocks, the files a task names, and which block goes to which file.

A block belongs to a file when the line before it, or its own first comment line, names that file; what is left
goes by language (a test file takes the block with the tests). A small model often puts a function and its tests
in one block: the tests are split off into the test file the task names, importing from the module.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from .kinds import Kind, kind_of_fence, kind_of_file

_BLOCK = re.compile(r"```[ \t]*([A-Za-z0-9_+.-]*)[^\n]*\n(.*?)```", re.S)
_FILE = re.compile(
    r"(?<![\w/.-])((?:[\w-]+/)*(?:[\w.-]+\.(?:py|sh|bash|sql|js|mjs|json|ya?ml|toml|txt|csv|log|md|ini|cfg|env|html|css)"
    r"|Dockerfile|Makefile))(?![\w/-])"
)
_CODE_FILE = re.compile(
    r"\.(?:py|sh|bash|sql|js|mjs|json|ya?ml|toml|md|ini|cfg|html|css)$|^(?:.*/)?(?:Dockerfile|Makefile)$"
)
_WRITE = re.compile(
    r"\b(?:save|saves|saved|write|writes|create|creates|put|store|add|generate|make|named|called)\b", re.I
)
_READ = re.compile(
    r"\b(?:from|reads?|reading|parses?|of|on|given|existing|for|runs?|running|imports?|copies|copy|tests?)\s+"
    r"(?:the\s+|a\s+|file\s+|module\s+)?$",
    re.I,
)


@dataclass(frozen=True)
class Block:
    lang: str
    body: str
    label: str  # the text line just before the fence

    @property
    def kind(self) -> Kind | None:
        return kind_of_fence(self.lang)


def blocks_in(answer: str) -> list[Block]:
    found = []
    for match in _BLOCK.finditer(answer):
        before = [ln.strip() for ln in answer[: match.start()].splitlines() if ln.strip()]
        found.append(Block(match.group(1).lower(), match.group(2), before[-1] if before else ""))
    return found


@dataclass(frozen=True)
class NamedFiles:
    outputs: tuple[str, ...]  # files the task asks to be written
    inputs: tuple[str, ...]  # files the task's code reads (the check makes samples of them)


def files_named(task: str) -> NamedFiles:
    """Code files named in a sentence that asks for something written are outputs, unless the words just before
    say they are read ("from data.json"); data files (.txt, .csv, .log) are inputs."""
    outputs: list[str] = []
    inputs: list[str] = []
    for sentence in re.split(r"(?<=[.!?;])\s+|\n", task):
        for match in _FILE.finditer(sentence):
            name = match.group(1).rstrip(".")
            read = _READ.search(sentence[: match.start()]) is not None
            written = _CODE_FILE.search(name) and _WRITE.search(sentence) and not read
            (outputs if written else inputs).append(name)
    inputs = list(dict.fromkeys(inputs))  # a file read anywhere in the task ("runs app.py") is not written
    return NamedFiles(tuple(n for n in dict.fromkeys(outputs) if n not in inputs), tuple(inputs))


def is_test_file(name: str) -> bool:
    base = name.rsplit("/", 1)[-1]
    return base.startswith("test_") or base.endswith(("_test.py", ".test.js", ".spec.js"))


_NAME_LINE = re.compile(r"^\s*(?:#|//|--|<!--)?\s*(?:file(?:name)?:\s*)?`?([\w./-]+)`?:?\s*(?:-->)?\s*$", re.I)


def _named_in(block: Block, files: tuple[str, ...]) -> tuple[str, str] | None:
    """The file a block names (before it, or on its own first line) and its body without that naming line."""
    lines = block.body.splitlines(keepends=True)
    first = _NAME_LINE.match(lines[0]) if lines else None
    if first and first.group(1) in files:
        return first.group(1), "".join(lines[1:])  # "Dockerfile" or "# pal.py" alone on the first line
    if lines and re.match(r"^\s*(#|//|--)", lines[0]):
        hits = [f for f in files if re.search(rf"(?<![\w.-]){re.escape(f)}(?![\w-])", lines[0])]
        if len(hits) == 1:
            return hits[0], block.body
    hits = [f for f in files if re.search(rf"(?<![\w.-]){re.escape(f)}(?![\w-])", block.label)]
    return (hits[0], block.body) if len(hits) == 1 else None


def _fits(block: Block, name: str) -> bool:
    want = kind_of_file(name)
    return block.kind == want or (block.kind is None and block.lang in ("", "text") and want is not None)


def assign(answer: str, files: tuple[str, ...]) -> dict[str, str]:
    """Each named file's content from the answer's blocks; a file with no block is left out."""
    blocks = [part for block in blocks_in(answer) for part in _split_at_names(block, files)]
    chosen: dict[str, str] = {}
    left = []
    for block in blocks:
        named = _named_in(block, files)
        if named is not None and named[0] not in chosen:
            chosen[named[0]] = named[1]
        else:
            left.append(block)
    for name in (f for f in files if f not in chosen):
        tests = is_test_file(name)
        pick = next((b for b in left if _fits(b, name) and _has_tests(b.body) == tests), None)
        pick = pick or next((b for b in left if _fits(b, name)), None)
        if pick is not None:
            chosen[name] = pick.body
            left.remove(pick)
    return _imports_added(_split_tests(chosen, files))


def _imports_added(chosen: dict[str, str]) -> dict[str, str]:
    """A Python test file that never imports the module it tests gets `from module import *` first."""
    modules = [f[:-3].replace("/", ".") for f in chosen if f.endswith(".py") and not is_test_file(f)]
    out = dict(chosen)
    for name, body in chosen.items():
        if not (name.endswith(".py") and is_test_file(name)) or not modules:
            continue
        if not any(re.search(rf"^\s*(?:from\s+{re.escape(m)}\s+import|import\s+{re.escape(m)}\b)", body, re.M)
                   for m in modules):  # fmt: skip
            out[name] = f"from {modules[0]} import *\n\n{body.lstrip()}"
    return out


def _split_at_names(block: Block, files: tuple[str, ...]) -> list[Block]:
    """One block holding several files, each begun by a comment naming it (`# wc.py` … `# test_wc.py`), is that
    many blocks."""
    lines = block.body.splitlines(keepends=True)
    starts = [
        i for i, line in enumerate(lines)
        if re.match(r"^\s*(#|//|--)", line) and (m := _NAME_LINE.match(line)) and m.group(1) in files
    ]  # fmt: skip
    if len(starts) < 2:
        return [block]
    bounds = [0 if i == starts[0] else i for i in starts] + [len(lines)]
    head = "".join(lines[: starts[0]])
    parts = ["".join(lines[a:b]) for a, b in zip(bounds, bounds[1:], strict=False)]
    parts[0] = head + parts[0] if starts[0] else parts[0]
    return [Block(block.lang, part, "") for part in parts]


def _has_tests(body: str) -> bool:
    return bool(re.search(r"^\s*def test_\w*\(|^\s*import pytest|^\s*(?:test|it|describe)\(", body, re.M))


def _split_tests(chosen: dict[str, str], files: tuple[str, ...]) -> dict[str, str]:
    """A Python test file the answer gave no block for takes the `test_` functions out of the module's block."""
    missing = [f for f in files if f not in chosen and is_test_file(f) and f.endswith(".py")]
    modules = [f for f in chosen if f.endswith(".py") and not is_test_file(f) and _has_tests(chosen[f])]
    if not missing or not modules:
        return chosen
    module = modules[0]
    try:
        tree = ast.parse(chosen[module])
    except SyntaxError:
        return chosen
    lines = chosen[module].splitlines()
    taken = [n for n in tree.body if _is_test_node(n)]
    keep = [ln for i, ln in enumerate(lines, 1) if not any(n.lineno <= i <= (n.end_lineno or n.lineno) for n in taken)]
    tests = ["\n".join(lines[n.lineno - 1 : n.end_lineno]) for n in taken]
    import_line = f"from {module[:-3].replace('/', '.')} import *"
    return {**chosen, module: "\n".join(keep).strip() + "\n", missing[0]: "\n\n".join([import_line, *tests]) + "\n"}


def _is_test_node(node: ast.stmt) -> bool:
    """What moves to the test file: test functions, `import pytest`, and a top-level `pytest.main()` (which would
    run the tests on import of the module)."""
    if isinstance(node, ast.FunctionDef):
        return node.name.startswith("test_")
    if isinstance(node, ast.Import):
        return any(alias.name == "pytest" for alias in node.names)
    return isinstance(node, ast.Expr) and "pytest." in ast.unparse(node)
