"""Tasks for bench/answer_quality.py whose answer is not a Python function, and tasks that name files.

Each checker runs the answer on inputs of its own (not the examples in the task): a shell answer on its own files,
SQL on its own rows, a regex on its own strings, a named file from the workspace exec wrote into.
"""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Callable
from pathlib import Path

Checker = Callable[[str, Path], bool]  # the answer, and the workspace exec ran in
_BLOCK = re.compile(r"```[ \t]*([A-Za-z0-9_+.-]*)[^\n]*\n(.*?)```", re.S)


def blocks(answer: str, *langs: str) -> list[str]:
    """Bodies of the answer's blocks labelled with one of `langs` (or unlabelled)."""
    return [body for lang, body in _BLOCK.findall(answer) if lang.lower() in (*langs, "", "text")]


def shell_prints(files: dict[str, str], expected: str) -> Checker:
    def check(answer: str, _: Path) -> bool:
        code = "\n".join(blocks(answer, "sh", "bash", "shell", "console"))
        code = "\n".join(ln[2:] if ln.startswith("$ ") else ln for ln in code.splitlines())
        return bool(code.strip()) and run_in(files, ["bash", "-c", code]) == expected

    return check


def run_in(files: dict[str, str], argv: list[str], stdin: str = "") -> str | None:
    with tempfile.TemporaryDirectory() as folder:
        for name, body in files.items():
            (Path(folder) / name).parent.mkdir(parents=True, exist_ok=True)
            (Path(folder) / name).write_text(body)
        try:
            proc = subprocess.run(argv, cwd=folder, input=stdin, capture_output=True, text=True, timeout=20)
        except subprocess.TimeoutExpired:
            return None
    return proc.stdout.strip() if proc.returncode == 0 else None


def stdin_prints(stdin: str, expected: str) -> Checker:
    def check(answer: str, _: Path) -> bool:
        code = "\n".join(blocks(answer, "python", "py"))
        out = run_in({"a.py": code}, [sys.executable, "a.py"], stdin) if code.strip() else None
        return out is not None and (out == expected or ("\n" not in expected and out.split()[-1:] == [expected]))

    return check


def regex_fits(match: list[str], reject: list[str]) -> Checker:
    def check(answer: str, _: Path) -> bool:
        found = [b.strip().splitlines()[0].strip() for b in blocks(answer, "regex", "re", "regexp") if b.strip()]
        literal = re.search(r"re\.\w+\(\s*r?(['\"])(.+?)\1", answer)
        for pattern in found + ([literal.group(2)] if literal else []):
            pattern = re.sub(r"^/(.*)/[gimsuy]*$", r"\1", pattern)
            try:
                compiled = re.compile(pattern)
            except re.error:
                continue
            if all(compiled.fullmatch(m) or compiled.search(m) for m in match) and not any(
                compiled.search(r) for r in reject
            ):
                return True
        return False

    return check


def sql_returns(setup: str, expected: set[tuple], sql_file: str = "") -> Checker:
    """The answer's last SELECT, run on the checker's own rows, returns exactly `expected`."""

    def check(answer: str, workspace: Path) -> bool:
        text = (workspace / sql_file).read_text() if sql_file and (workspace / sql_file).exists() else ""
        text = text or "\n".join(blocks(answer, "sql", "sqlite"))
        text = re.sub(r"--[^\n]*", "", text)  # comments are not statements
        selects = [s for s in text.split(";") if re.match(r"\s*(select|with)\b", s, re.I)]
        if not selects:
            return False
        db = sqlite3.connect(":memory:")
        db.executescript(setup)
        try:
            return {tuple(r) for r in db.execute(selects[-1]).fetchall()} == expected
        except sqlite3.Error:
            return False

    return check


def dockerfile_has(image: str, port: str, runs: str, name: str = "") -> Checker:
    def check(answer: str, workspace: Path) -> bool:
        text = (workspace / name).read_text() if name and (workspace / name).exists() else ""
        for body in ([text] if text else []) + blocks(answer, "dockerfile", "docker"):
            lines = [ln.strip() for ln in body.splitlines() if ln.strip() and not ln.strip().startswith("#")]
            if not lines:
                continue
            froms = [ln for ln in lines if ln.upper().startswith("FROM ")]
            exposed = any(ln.upper().startswith("EXPOSE") and port in ln.split() for ln in lines)
            starts = any(ln.upper().startswith(("CMD", "ENTRYPOINT")) and runs in ln for ln in lines)
            if froms and image in froms[0] and exposed and starts:
                return True
        return False

    return check


def data_holds(langs: tuple[str, ...], parse: Callable[[str], object], holds: Callable[[object], bool]) -> Checker:
    def check(answer: str, _: Path) -> bool:
        for body in blocks(answer, *langs):
            try:
                if holds(parse(body)):
                    return True
            except Exception:  # a parse error is a wrong answer
                continue
        return False

    return check


def _yaml(text: str) -> object:
    import yaml  # the bench's only extra: pip install pyyaml

    return yaml.safe_load(text)


def js_asserts(asserts: str) -> Checker:
    def check(answer: str, _: Path) -> bool:
        code = "\n".join(blocks(answer, "javascript", "js", "node"))
        script = code + "\nconst assert = require('assert');\n" + asserts + "\nconsole.log('CHECKED');\n"
        return bool(code.strip()) and (run_in({"a.js": script}, ["node", "a.js"]) or "").endswith("CHECKED")

    return check


def file_passes(name: str, asserts: str, tests: str = "") -> Checker:
    """The named file exists in the workspace, its code passes `asserts`, and the named test file passes pytest."""

    def check(_: str, workspace: Path) -> bool:
        target = workspace / name
        if not target.exists():
            return False
        module = name[:-3]
        script = f"from {module} import *\n{asserts}\nprint('CHECKED')\n"
        ok = run_in({name: target.read_text(), "c.py": script}, [sys.executable, "c.py"]) == "CHECKED"
        if ok and tests:
            if not (workspace / tests).exists():
                return False
            files = {name: target.read_text(), tests: (workspace / tests).read_text()}
            return run_in(files, [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", tests]) is not None
        return ok

    return check


def file_prints(name: str, argv: list[str], expected: str) -> Checker:
    def check(_: str, workspace: Path) -> bool:
        target = workspace / name
        if not target.exists():
            return False
        text = target.read_text()
        shebang = text.split("\n", 1)[0]
        run = ["bash", name] if argv[0] == "sh" and "bash" in shebang else argv  # as `./name` would run it
        return run_in({name: text}, run) == expected

    return check


def json_file(name: str, holds: Callable[[object], bool]) -> Checker:
    def check(_: str, workspace: Path) -> bool:
        try:
            return (workspace / name).exists() and holds(json.loads((workspace / name).read_text()))
        except ValueError:
            return False

    return check


LOG = "a INFO x\nb ERROR y\nc ERROR z\nd WARN w\ne ERROR v\n"
EMPLOYEES = "CREATE TABLE employees (id, name, salary); INSERT INTO employees VALUES (1,'Ann',60000),(2,'Bo',40000),(3,'Cy',75000);"
ORDERS = "CREATE TABLE orders (id, customer_id, total); INSERT INTO orders VALUES (1,7,10),(2,7,5),(3,9,1);"
PRODUCTS = (
    "CREATE TABLE products (id, name, category, price); INSERT INTO products VALUES "
    "(1,'pen','office',2.0),(2,'desk','office',100.0),(3,'tea','food',4.0),(4,'cake','food',6.0);"
)
USERS = "CREATE TABLE users (id, name, age); INSERT INTO users VALUES (1,'Ann',31),(2,'Bo',25),(3,'Cy',44);"

OTHER: list[tuple[str, str, Checker]] = [
    ("shell", "Write a shell pipeline that prints how many lines in app.log contain ERROR.", shell_prints({"app.log": LOG}, "3")),
    ("shell", "Write a shell command that prints the number of .py files under the current directory, recursively.",
     shell_prints({"a.py": "", "b/c.py": "", "b/d/e.py": "", "f.txt": ""}, "3")),
    ("stdin", "Write a Python script that reads lines from stdin and prints them in reverse order.", stdin_prints("a\nb\nc\n", "c\nb\na")),
    ("regex", "Write a regular expression that matches a hex colour like '#1a2B3c' but not '#12345g'.",
     regex_fits(["#ABCDEF", "#000000"], ["123456", "#12345", "#GGGGGG"])),
    ("regex", "Write a regular expression that matches a date in the form YYYY-MM-DD, like '2024-01-31'.",
     regex_fits(["1999-12-01"], ["99-12-01", "2024/01/31", "hello"])),
    ("sql", "Write a SQL query that returns the name of every employee whose salary is above 50000, from the table employees(id, name, salary).",
     sql_returns(EMPLOYEES, {("Ann",), ("Cy",)})),
    ("sql", "Write a SQL query that counts the orders of each customer in the table orders(id, customer_id, total), returning customer_id and the count.",
     sql_returns(ORDERS, {(7, 2), (9, 1)})),
    ("dockerfile", "Write a Dockerfile for a Python app in app.py, based on python:3.12-slim, that exposes port 8000 and runs app.py.",
     dockerfile_has("python:3.12-slim", "8000", "app.py", "Dockerfile")),
    ("json", "Write a JSON object for a user with the keys `name` (a string), `age` (a number) and `tags` (a list of strings).",
     data_holds(("json",), json.loads, lambda d: isinstance(d, dict) and isinstance(d.get("name"), str)
                and isinstance(d.get("age"), int | float) and isinstance(d.get("tags"), list))),
    ("javascript", "Write a JavaScript function capitalize(s) that returns s with its first letter upper-cased.",
     js_asserts("assert.strictEqual(capitalize('hello'), 'Hello'); assert.strictEqual(capitalize('a'), 'A');")),
]  # fmt: skip
HELD_OUT_OTHER: list[tuple[str, str, Checker]] = [
    ("shell", "Write a shell command that prints the 3 largest numbers in numbers.txt, one per line, largest first.",
     shell_prints({"numbers.txt": "5\n12\n7\n30\n1\n"}, "30\n12\n7")),
    ("shell", "Write a shell pipeline that prints the lines of words.txt sorted alphabetically, without duplicates.",
     shell_prints({"words.txt": "pear\napple\npear\nfig\n"}, "apple\nfig\npear")),
    ("stdin", "Write a Python script that reads numbers from stdin, one per line, and prints their sum.", stdin_prints("1\n2\n39\n", "42")),
    ("regex", "Write a regular expression that matches a US ZIP code like '12345' or '12345-6789' but not '1234'.",
     regex_fits(["90210", "90210-1234"], ["9021", "902101", "abcde"])),
    ("regex", "Write a regular expression that matches an email address like 'ann@example.com'.",
     regex_fits(["bo.x@mail.org", "a@b.io"], ["plainaddress", "@nouser.com"])),
    ("sql", "Write a SQL query that returns the average price per category from products(id, name, category, price), as category and avg_price.",
     sql_returns(PRODUCTS, {("office", 51.0), ("food", 5.0)})),
    ("sql", "Write a SQL query that returns the names of the 2 most expensive products from products(id, name, category, price).",
     sql_returns(PRODUCTS, {("desk",), ("cake",)})),
    ("dockerfile", "Write a Dockerfile for a Node.js app in server.js, based on node:20-alpine, that exposes port 3000 and runs server.js.",
     dockerfile_has("node:20-alpine", "3000", "server.js", "Dockerfile")),
    ("yaml", "Write a YAML config with a `database` section holding `host: localhost` and `port: 5432`.",
     data_holds(("yaml", "yml"), _yaml, lambda d: isinstance(d, dict) and d.get("database", {}).get("port") == 5432
                and d["database"].get("host") == "localhost")),
    ("toml", 'Write a TOML config with a `[server]` table holding `host = "0.0.0.0"` and `port = 8080`.',
     data_holds(("toml",), tomllib.loads, lambda d: isinstance(d, dict) and d.get("server", {}).get("port") == 8080)),
]  # fmt: skip
FILES: list[tuple[str, str, Checker]] = [
    ("files", "Write a Python function is_palindrome(s) that ignores case, save it to pal.py, and a pytest test for it in test_pal.py.",
     file_passes("pal.py", "assert is_palindrome('Level') and not is_palindrome('abc')", "test_pal.py")),
    ("files", "Write a Python function slugify(text) that lower-cases text and joins its words with '-', and save it to slug.py.",
     file_passes("slug.py", "assert slugify('Hello Big World') == 'hello-big-world'")),
    ("files", "Write a shell script that prints hello, and save it as hello.sh.", file_prints("hello.sh", ["sh", "hello.sh"], "hello")),
    ("files", "Write a SQL query that returns the names of users older than 30 from users(id, name, age), and save it to adults.sql.",
     sql_returns(USERS, {("Ann",), ("Cy",)}, "adults.sql")),
    ("files", "Write a Python function add(a, b) in calc.py, and a pytest test for it in test_calc.py.",
     file_passes("calc.py", "assert add(2, 3) == 5", "test_calc.py")),
]  # fmt: skip
HELD_OUT_FILES: list[tuple[str, str, Checker]] = [
    ("files", "Write a Python function word_count(text) returning a dict of word -> count, save it to wc.py, and a pytest test in test_wc.py.",
     file_passes("wc.py", "assert word_count('a b a') == {'a': 2, 'b': 1}", "test_wc.py")),
    ("files", "Write a Python function celsius_to_fahrenheit(c) and save it to temp.py.",
     file_passes("temp.py", "assert abs(celsius_to_fahrenheit(100) - 212) < 1e-9")),
    ("files", "Write a shell script that prints the numbers 1 to 5, one per line, and save it as count.sh.",
     file_prints("count.sh", ["sh", "count.sh"], "1\n2\n3\n4\n5")),
    ("files", 'Write a JSON file settings.json with the keys `debug` set to false and `level` set to "info".',
     json_file("settings.json", lambda d: isinstance(d, dict) and d.get("debug") is False and d.get("level") == "info")),
    ("files", "Write a Python function is_even(n), save it to even.py, and a pytest test in test_even.py.",
     file_passes("even.py", "assert is_even(4) and not is_even(7)", "test_even.py")),
]  # fmt: skip
