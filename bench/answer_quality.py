"""Answer quality of the embedded model: plan mode (with the answer's code run and fixed) against direct mode.

    python bench/answer_quality.py [--set python,other,files] [--held-out] [--timeout 300]

Three sets, each task with its own checker that runs the answer on inputs of its own:
`python` asks for one Python function (the checker's asserts call it); `other` for a
shell pipeline, a stdin script, a regex, SQL, a Dockerfile, JSON/YAML/TOML or JavaScript
(bench/answer_tasks.py); `files` names the files to write, and the checker reads them
from the workspace exec ran in. The YAML checker needs `pip install pyyaml`. Both modes run through `liveplan exec
--local --yes` on the same machine in one run. Prints correct counts, the median time of
each mode and their ratio, and whether every planned run made a plan, kept at most one
step in progress and finished it. Needs the [local] extra; run nothing else beside it.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from answer_tasks import FILES, HELD_OUT_FILES, HELD_OUT_OTHER, OTHER, Checker

TASKS: list[tuple[str, str]] = [
    ("Write a Python function is_even(n) that returns True when n is even.", "assert is_even(4) and not is_even(7) and is_even(0)"),
    ("Write a Python function reverse_string(s) that returns s reversed.", "assert reverse_string('abc') == 'cba' and reverse_string('') == ''"),
    ("Write a Python function factorial(n) for n >= 0.", "assert factorial(0) == 1 and factorial(5) == 120"),
    ("Write a Python function is_palindrome(s) that ignores case.", "assert is_palindrome('Level') and not is_palindrome('abc')"),
    ("Write a Python function count_vowels(s) that counts a, e, i, o, u (any case).", "assert count_vowels('Hello World') == 3"),
    ("Write a Python function fizzbuzz(n) that returns 'Fizz', 'Buzz', 'FizzBuzz' or str(n).", "assert [fizzbuzz(i) for i in (3, 5, 15, 7)] == ['Fizz', 'Buzz', 'FizzBuzz', '7']"),
    ("Write a Python function max_of_list(xs) that returns the largest number, without using max().", "assert max_of_list([3, 9, 2]) == 9 and max_of_list([-5, -2]) == -2"),
    ("Write a Python function is_prime(n) for integers n.", "assert [n for n in range(20) if is_prime(n)] == [2, 3, 5, 7, 11, 13, 17, 19]"),
    ("Write a Python function fibonacci(n) returning the n-th Fibonacci number with fibonacci(0) == 0.", "assert [fibonacci(i) for i in range(8)] == [0, 1, 1, 2, 3, 5, 8, 13]"),
    ("Write a Python function word_count(text) returning a dict of word -> count (split on whitespace).", "assert word_count('a b a') == {'a': 2, 'b': 1}"),
    ("Write a Python function celsius_to_fahrenheit(c).", "assert abs(celsius_to_fahrenheit(100) - 212) < 1e-9 and abs(celsius_to_fahrenheit(0) - 32) < 1e-9"),
    ("Write a Python function sum_digits(n) returning the sum of the decimal digits of a non-negative integer.", "assert sum_digits(1234) == 10 and sum_digits(0) == 0"),
    ("Write a Python function remove_duplicates(xs) that keeps the first occurrence order.", "assert remove_duplicates([3, 1, 3, 2, 1]) == [3, 1, 2]"),
    ("Write a Python function flatten(xss) that flattens a list of lists one level.", "assert flatten([[1, 2], [], [3]]) == [1, 2, 3]"),
    ("Write a Python function gcd(a, b) for positive integers.", "assert gcd(12, 18) == 6 and gcd(7, 5) == 1"),
    ("Write a Python function is_anagram(a, b) that ignores spaces and case.", "assert is_anagram('Listen', 'Silent') and not is_anagram('ab', 'abc')"),
    ("Write a Python function capitalize_words(s) that capitalizes the first letter of every word.", "assert capitalize_words('hello big world') == 'Hello Big World'"),
    ("Write a Python function second_largest(xs) for a list with at least two distinct numbers.", "assert second_largest([4, 1, 9, 7]) == 7"),
    ("Write a Python function chunk(xs, n) that splits a list into lists of size n (the last may be shorter).", "assert chunk([1, 2, 3, 4, 5], 2) == [[1, 2], [3, 4], [5]]"),
    ("Write a Python function binary_search(xs, target) returning the index in a sorted list, or -1.", "assert binary_search([1, 3, 5, 7], 5) == 2 and binary_search([1, 3], 4) == -1"),
]
HELD_OUT: list[tuple[str, str]] = [
    ("Write a Python function is_leap_year(year).", "assert is_leap_year(2000) and not is_leap_year(1900) and is_leap_year(2024)"),
    ("Write a Python function running_sum(xs) returning the list of prefix sums.", "assert running_sum([1, 2, 3]) == [1, 3, 6]"),
    ("Write a Python function count_words(s) returning the number of words.", "assert count_words('a  b c') == 3"),
    ("Write a Python function median(xs) of a non-empty list of numbers.", "assert median([3, 1, 2]) == 2 and median([1, 2, 3, 4]) == 2.5"),
    ("Write a Python function to_binary(n) returning the binary string of a non-negative integer.", "assert to_binary(5) == '101' and to_binary(0) == '0'"),
    ("Write a Python function count_char(s, c) returning how many times the character c occurs in s.", "assert count_char('banana', 'a') == 3 and count_char('', 'a') == 0"),
    ("Write a Python function average(xs) returning the mean of a non-empty list of numbers.", "assert average([1, 2, 3, 4]) == 2.5 and average([5]) == 5"),
    ("Write a Python function title_case(s) that upper-cases the first letter of each word and lower-cases the rest.", "assert title_case('hELLO wORLD') == 'Hello World'"),
    ("Write a Python function min_max(xs) returning a tuple (smallest, largest) of a non-empty list.", "assert min_max([3, 1, 4, 1, 5]) == (1, 5) and min_max([2]) == (2, 2)"),
    ("Write a Python function squares(n) returning the list of squares of 1..n.", "assert squares(4) == [1, 4, 9, 16] and squares(0) == []"),
]
CODE = re.compile(r"```(?:python|py)?\s*\n(.*?)```", re.S)


def is_python(block: str) -> bool:
    """An unlabelled block may be sample output, not code: only blocks that parse count."""
    try:
        ast.parse(block)
    except SyntaxError:
        return False
    return True


def correct(answer: str, checker: str) -> bool:
    """The answer's code defines the function; the checker's asserts must pass on it."""
    code = "\n\n".join(b for b in CODE.findall(answer) if is_python(b))
    if not code.strip():
        return False
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "check.py"
        script.write_text(code + "\n\n" + checker + "\nprint('CHECKED')\n")
        try:
            proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=20,
                                  stdin=subprocess.DEVNULL, cwd=folder)
        except subprocess.TimeoutExpired:
            return False
    return proc.returncode == 0 and "CHECKED" in proc.stdout


def python_function(checker: str) -> Checker:
    return lambda answer, _: correct(answer, checker)


def task_set(held_out: bool, kinds: str) -> list[tuple[str, str, Checker]]:
    """(kind, task, checker) for the chosen sets: `python` functions, `other` languages, `files` named, or `all`."""
    python = [("python", task, python_function(c)) for task, c in (HELD_OUT if held_out else TASKS)]
    sets = {
        "python": python,
        "other": HELD_OUT_OTHER if held_out else OTHER,
        "files": HELD_OUT_FILES if held_out else FILES,
    }
    return [t for name in (sets if kinds == "all" else kinds.split(",")) for t in sets[name]]


def run(
    task: str, mode: str, timeout: float, checker: Checker, review: str = "lint"
) -> tuple[str, float, dict[str, bool], bool]:
    """One exec; the answer, the wall time, the plan's facts, and whether the checker took the answer (and the
    files exec wrote into its workspace)."""
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as ws:
        proc = subprocess.run(
            [sys.executable, "-m", "liveplan_tui.cli", "exec", "--json", "--local", "--yes", "--mode", mode,
             "--plan-review", review, "--workspace", ws, task],
            capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL,
        )
        elapsed = time.perf_counter() - start
        events = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
        answer = events[-1].get("answer", "") if events and events[-1]["type"] == "turn_finished" else ""
        ok = checker(answer, Path(ws))
    plans = [e["new"] for e in events if e["type"] == "plan_updated"]
    facts = {
        "plan made": bool(plans),
        "at most one in progress": all(sum(s["status"] == "in_progress" for s in p["steps"]) <= 1 for p in plans),
        "plan completed": bool(plans) and all(s["status"] in ("completed", "cancelled") for s in plans[-1]["steps"]),
        "answer given": bool(answer.strip()),
    }
    return answer, elapsed, facts, ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--set", default="all", help="python, other, files, or all (comma-separated)")
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--skip", type=int, default=0, help="start after the first N tasks")
    parser.add_argument("--held-out", action="store_true", help="run the held-out tasks instead")
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--log", type=Path, help="append each answer as a JSON line here, to see why one was wrong")
    parser.add_argument("--plan-review", default="lint", help="plan mode once per review: lint, off, model (comma-separated)")
    args = parser.parse_args()
    reviews = args.plan_review.split(",")
    tasks = task_set(args.held_out, args.set)[args.skip : args.skip + args.tasks]
    rows: list[tuple[str, str, bool, float, dict[str, bool]]] = []  # kind, mode, correct, seconds, facts
    for n, (kind, task, checker) in enumerate(tasks, start=1):
        for label in [*("plan" if len(reviews) == 1 else f"plan:{r}" for r in reviews), "direct"]:
            mode, _, review = label.partition(":")
            answer, elapsed, facts, ok = run(task, mode, args.timeout, checker, review or reviews[0])
            rows.append((kind, label, ok, elapsed, facts))
            mode = label
            if args.log:
                with args.log.open("a") as log:
                    log.write(json.dumps({"task": task, "mode": mode, "correct": ok, "answer": answer}) + "\n")
            print(f"{n:2}. {kind:10} {mode:6} {'correct' if ok else 'wrong  '} {elapsed:6.1f}s  {task[:60]}", flush=True)
    report(rows)


def report(rows: list[tuple[str, str, bool, float, dict[str, bool]]]) -> None:
    print()
    kinds = list(dict.fromkeys(kind for kind, *_ in rows))
    for kind in [*kinds, "all"]:
        mine = [r for r in rows if kind in ("all", r[0])]
        parts = []
        for mode in dict.fromkeys(r[1] for r in rows):
            own = [r for r in mine if r[1] == mode]
            parts.append(f"{mode} {sum(r[2] for r in own)}/{len(own)}, median {statistics.median(r[3] for r in own):.1f}s")
        print(f"{kind:10}: " + " · ".join(parts))
    plan_rows = [r for r in rows if r[1].startswith("plan")]
    direct = statistics.median(r[3] for r in rows if r[1] == "direct")
    for mode in dict.fromkeys(r[1] for r in plan_rows):
        mine = statistics.median(r[3] for r in plan_rows if r[1] == mode)
        print(f"median time ratio {mode}/direct: {mine / direct:.2f}x")
    for fact in ("plan made", "at most one in progress", "plan completed", "answer given"):
        print(f"plan mode, {fact}: {sum(r[4][fact] for r in plan_rows)}/{len(plan_rows)}")


if __name__ == "__main__":
    main()
