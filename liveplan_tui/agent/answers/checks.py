"""The check that fits an answer's language, as data: files to put in a fresh temp dir and the command to run
there (`Run`), or a verdict reached by reading alone (`Judged`).

Python and shell run; SQL runs in SQLite against the tables the answer or the task defines; a regular expression is
compiled and tried on the examples the task or the answer gives; JavaScript runs under Node when it is installed;
data files are parsed (`configs`). What cannot be run is unverified, never passed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from ...plan import Verification
from .blocks import Block, blocks_in, is_test_file
from .configs import PARSERS
from .kinds import FENCE_OF, Kind, kind_of_file, reads_stdin
from .running import AnswerCode, code_in, ran
from .samples import sample_input, sample_tree

SQL_SCRIPT = """import sqlite3, sys
db = sqlite3.connect(":memory:")
rows = []
for statement in [s for s in open("answer.sql").read().split(";") if s.strip()]:
    rows = db.execute(statement).fetchall() or rows
print(f"{len(rows)} row(s)")
for row in rows[:10]:
    print(row)
"""
REGEX_SCRIPT = """import json, re
case = json.load(open("regex.json"))
pattern = re.compile(case["pattern"])
wrong = [f"it does not match {s!r}" for s in case["match"] if not pattern.search(s)]
wrong += [f"it matches {s!r}, which it should not" for s in case["reject"] if pattern.search(s)]
print("\\n".join(wrong) or f"matched {len(case['match'])}, rejected {len(case['reject'])}: passed")
raise SystemExit(1 if wrong else 0)
"""
PYTEST_OR_PLAIN = (
    "if python3 -c 'import pytest' 2>/dev/null; then python3 -m pytest -q -p no:cacheprovider {files}; "
    'else for t in {modules}; do python3 -c "import $t as m; [f() for n, f in vars(m).items() '
    "if n.startswith('test_') and callable(f)]; print('passed', '$t')\" || exit 1; done; fi"
)


@dataclass(frozen=True)
class Run:
    files: dict[str, str]
    command: str
    what: str  # what a pass means, for the step result: "ran 3 asserts", "ran the query"


@dataclass(frozen=True)
class Judged:
    verification: Verification
    text: str


def missing_block(kind: Kind) -> Judged:
    fence = FENCE_OF[kind]
    return Judged("failed", f"the task asks for {kind}, but the answer has no ```{fence} block")


def check_for(task: str, kind: Kind | None, answer: str, files: dict[str, str], *, node: bool) -> Run | Judged | None:
    """The check of an answer (with its blocks already assigned to the files the task names), or None when the
    answer has no code to check."""
    if files:
        return _files_check(task, files, node=node)
    blocks = [b for b in blocks_in(answer) if b.body.strip()]
    kind = kind or next((b.kind for b in blocks if b.kind is not None), None)
    if kind is None:
        return None
    mine = [b for b in blocks if b.kind == kind or b.lang in ("", "text", "plaintext")]  # small models drop labels
    if kind == "regex":
        return regex_check(task, answer, mine)
    if not mine:  # prose alone is an answer to a question; a block in another language misses the task
        return missing_block(kind) if blocks else None
    body = "\n".join(b.body for b in mine)
    return _by_kind(task, kind, answer, body, node=node)


def _by_kind(task: str, kind: Kind, answer: str, body: str, *, node: bool) -> Run | Judged | None:
    if kind in PARSERS:
        problems = PARSERS[kind](task, body)
        return Judged("failed", "; ".join(problems)) if problems else Judged("passed", f"parsed as {kind}: passed")
    if kind == "sql":
        return sql_check(task, body)
    if kind == "javascript":
        if not node:
            return Judged("unverified", "not run: Node.js is not installed")
        return Run({"answer.js": body}, "node answer.js", "ran the script")
    if kind == "shell":
        shell = "bash" if any(b.lang == "bash" for b in blocks_in(answer)) or "bash" in body.split("\n", 1)[0] else "sh"
        return Run({**sample_tree(task), "answer.sh": body}, f"{shell} answer.sh", "ran in a folder of sample files")
    return python_check(task, code_in(answer))


def python_check(task: str, code: AnswerCode) -> Run | None:
    if not code.runnable:
        return None
    what = ran(code)
    files = {"answer.py": code.python, "answer.sh": code.shell}
    command = code.script()
    if reads_stdin(task):  # else stdin stays closed: code that waits for input fails instead of hanging
        files["input.txt"] = sample_input(task)
        command = command.replace("python3 answer.py", "python3 answer.py < input.txt")
        what = "ran on sample input"
    return Run({**sample_tree(task), **files}, command, what)


_TABLE = re.compile(r"\b(?:table|tables)\s+`?(\w+)`?\s*\(([^)]*)\)|\b(\w+)\s*\(((?:\s*\w+\s*,){1,}\s*\w+\s*)\)", re.I)


def task_tables(task: str) -> list[str]:
    """`CREATE TABLE` statements for tables the task spells out, like `employees(id, name, salary)`."""
    statements = []
    for match in _TABLE.finditer(task):
        name, columns = (match.group(1), match.group(2)) if match.group(1) else (match.group(3), match.group(4))
        cols = [c.strip().split()[0] for c in columns.split(",") if c.strip()]
        if name and cols and all(re.fullmatch(r"\w+", c) for c in cols):
            statements.append(f"CREATE TABLE IF NOT EXISTS {name} ({', '.join(cols)});")
    return statements


def sql_check(task: str, body: str) -> Run | Judged:
    queries = re.sub(r"--[^\n]*", "", body)
    if not re.search(r"(?:^|;)\s*(?:select|with)\b", queries, re.I | re.M):
        return Judged("failed", "the SQL has no query: end the block with the SELECT that answers the task")
    has_tables = re.search(r"\bcreate\s+table\b", body, re.I)
    given = [] if has_tables else task_tables(task)
    if not has_tables and not given:
        return Judged("failed", "the SQL defines no table: begin the block with CREATE TABLE and INSERT sample rows")
    script = "\n".join(given + [body])
    return Run({"answer.sql": script, "check_sql.py": SQL_SCRIPT}, "python3 check_sql.py", "ran the query in SQLite")


def _quoted(text: str) -> list[str]:
    return [next(g for g in m if g) for m in re.findall(r"`([^`\n]+)`|\"([^\"\n]+)\"|'([^'\n]+)'", text)]


def regex_examples(text: str) -> tuple[list[str], list[str]]:
    """Strings a text says should match, and strings it says should not, clause by clause."""
    match: list[str] = []
    reject: list[str] = []
    for clause in re.split(r"(?<=[.;\n])\s+|,?\s+\bbut\b\s+", text):
        found = _quoted(clause)
        if not found:
            continue
        negative = re.search(r"\b(?:not|doesn't|does not|never|reject|rejects|invalid|fails?)\b", clause, re.I)
        (reject if negative else match).extend(found)
    return list(dict.fromkeys(match)), list(dict.fromkeys(reject))


def pattern_in(blocks: list[Block], answer: str) -> str | None:
    for block in blocks:
        line = next((ln.strip() for ln in block.body.splitlines() if ln.strip()), "")
        if line:
            return re.sub(r"^/(.*)/[gimsuy]*$", r"\1", line)
    literal = re.search(r"re\.(?:compile|match|search|fullmatch|findall)\(\s*r?(['\"])(.+?)\1", answer)
    return literal.group(2) if literal else None


def regex_check(task: str, answer: str, blocks: list[Block]) -> Run | Judged | None:
    pattern = pattern_in(blocks, answer)
    if pattern is None:
        return missing_block("regex") if "```" in answer else None
    try:
        re.compile(pattern)
    except re.error as exc:
        return Judged("failed", f"the pattern does not compile: {exc}")
    matches, rejects = regex_examples(task)
    if not matches and not rejects:
        body = answer.split("```")[-1]  # the examples an answer gives come after its pattern
        matches, rejects = regex_examples(body)
    matches = [m for m in matches if m != pattern]
    if not matches and not rejects:
        return Judged("unverified", "compiled; no examples to try it on")
    case = json.dumps({"pattern": pattern, "match": matches, "reject": rejects})
    return Run({"regex.json": case, "check_regex.py": REGEX_SCRIPT}, "python3 check_regex.py", "tried the examples")


def _files_check(task: str, files: dict[str, str], *, node: bool) -> Run | Judged | None:
    """Files the task names: their tests run when there are tests, else the main file runs or is parsed."""
    tests = [name for name in files if is_test_file(name) and name.endswith(".py")]
    if tests:
        modules = " ".join(t[:-3].replace("/", ".") for t in tests)
        command = PYTEST_OR_PLAIN.format(files=" ".join(tests), modules=modules)
        return Run({**sample_tree(task), **files}, command, f"ran the tests in {', '.join(tests)}")
    for name, body in files.items():
        kind = kind_of_file(name)
        if kind in PARSERS:
            problems = PARSERS[kind](task, body)
            if problems:
                return Judged("failed", f"{name}: " + "; ".join(problems))
        elif kind == "python":
            return Run({**sample_tree(task), **files}, f"python3 {name}", f"ran {name}")
        elif kind == "shell":
            shell = "bash" if "bash" in body.split("\n", 1)[0] else "sh"
            return Run({**sample_tree(task), **files}, f"{shell} {name}", f"ran {name}")
        elif kind == "javascript" and node:
            return Run(files, f"node {name}", f"ran {name}")
        elif kind == "sql":
            return sql_check(task, body)
    kinds = {kind_of_file(n) for n in files}
    if kinds and kinds <= set(PARSERS):
        return Judged("passed", "parsed " + ", ".join(files) + ": passed")
    return None
