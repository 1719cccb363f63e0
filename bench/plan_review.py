"""How well `plan_review = "lint"` tells a defective plan from a sound one, with no model call.

    python bench/plan_review.py [--show]

40 plans of our own: 30 with one planted defect each (six kinds, five of each) and 10 sound ones. Prints how many
defects lint found (target: at least 90%) and how many sound plans it flagged (target: at most 10%), per kind.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from liveplan_tui.plan.lint import lint  # noqa: E402
from liveplan_tui.plan.model import Step  # noqa: E402

Plan = tuple[str, list[tuple[str, tuple[int, ...], str]]]  # task; steps as (description, depends_on, check)


def s(description: str, *deps: int, check: str = "") -> tuple[str, tuple[int, ...], str]:
    return description, deps, check


DEFECTIVE: dict[str, list[Plan]] = {
    "nothing runs": [
        ("Fix the off-by-one bug in pager.py", [s("Read pager.py"), s("Fix the slice bound in paginate()")]),
        (
            "Add a --json flag to the CLI",
            [s("Add the flag to the parser in cli.py"), s("Print JSON when the flag is set")],
        ),
        (
            "Rename get_user to fetch_user everywhere",
            [s("Find every call of get_user"), s("Rename the function and its calls")],
        ),
        (
            "Implement caching for the API client",
            [s("Design the cache key"), s("Add an LRU cache to client.get"), s("Document the cache in README.md")],
        ),
        (
            "Update the config loader to read TOML",
            [s("Replace the INI parser with tomllib"), s("Convert config.ini to config.toml")],
        ),
    ],
    "vague": [
        (
            "Fix the failing login test",
            [s("Run the login test to see the failure"), s("Fix it"), s("Run the test suite")],
        ),
        (
            "Add pagination to /users",
            [s("Add limit and offset to the /users query"), s("Do the rest"), s("Run the API tests")],
        ),
        (
            "Refactor the report module",
            [s("Split report.py into render and data modules"), s("Clean up stuff"), s("Run pytest")],
        ),
        (
            "Write a migration for the orders table",
            [s("Handle things"), s("Write the migration adding orders.status"), s("Run the migrations on a test db")],
        ),
        (
            "Speed up the importer",
            [s("Profile the importer on the sample file"), s("Improve"), s("Run the benchmark again")],
        ),
    ],
    "duplicate": [
        (
            "Add input validation to the signup form",
            [s("Add an email check to signup.py"), s("Add an email check to signup.py"), s("Run the form tests")],
        ),
        (
            "Fix the date parsing bug",
            [
                s("Write a failing test for ISO dates"),
                s("Fix parse_date in dates.py"),
                s("Write a failing test for ISO dates"),
                s("Run pytest"),
            ],
        ),
        (
            "Upgrade requests to 2.32",
            [s("Bump requests in pyproject.toml"), s("Run the test suite"), s("Run the test suite.")],
        ),
        (
            "Add a health endpoint",
            [
                s("Add GET /health to app.py"),
                s("Add a test for GET /health"),
                s("Add GET /health to app.py"),
                s("Run the tests"),
            ],
        ),
        (
            "Document the CLI flags",
            [
                s("List every flag in cli.py"),
                s("Write the flags section of README.md"),
                s("Write the flags section of the README.md"),
                s("Check the README renders"),
            ],
        ),
    ],
    "bundled": [
        (
            "Add logging to the worker",
            [s("Add a logger, wire it into the worker and then write the tests"), s("Run the tests")],
        ),
        (
            "Ship version 2.0",
            [s("Update the changelog, bump the version and tag the release"), s("Build the wheel and check it")],
        ),
        (
            "Fix the CSV export",
            [
                s("Reproduce the bug with a test"),
                s("Fix the quoting in export.py, add a regression test and update the docs"),
                s("Run pytest"),
            ],
        ),
        ("Add dark mode", [s("Add the theme setting, then write the CSS and then test it in the browser")]),
        (
            "Clean up the repo",
            [s("Remove dead code, rename the modules and update the imports"), s("Run the linter and tests")],
        ),
    ],
    "too many steps": [
        (
            "Build a todo app",
            [
                s(f"Write the {part} of todo.py")
                for part in (
                    "model",
                    "storage",
                    "parser",
                    "add command",
                    "list command",
                    "done command",
                    "delete command",
                    "help text",
                    "config",
                    "logging",
                )
            ]
            + [s("Run the tests")],
        ),
        (
            "Set up the project",
            [
                s(f"Create {name}")
                for name in (
                    "README.md",
                    "LICENSE",
                    "pyproject.toml",
                    "src/",
                    "tests/",
                    ".gitignore",
                    "Makefile",
                    "CHANGELOG.md",
                    "ci.yml",
                    "docs/",
                    "setup.cfg",
                )
            ]
            + [s("Run make check")],
        ),
        (
            "Port the scripts to Python",
            [s(f"Port script {n}.sh to {n}.py") for n in range(1, 12)] + [s("Run every script's test")],
        ),
        (
            "Write the API docs",
            [s(f"Document endpoint {n}") for n in ("/a", "/b", "/c", "/d", "/e", "/f", "/g", "/h", "/i", "/j", "/k")],
        ),
        ("Add type hints", [s(f"Add type hints to module{n}.py") for n in range(12)] + [s("Run mypy")]),
    ],
    "bad dependency": [
        (
            "Add a search command",
            [
                s("Add the search function to index.py"),
                s("Wire the search command into cli.py", 5),
                s("Run the CLI tests", 2),
            ],
        ),
        ("Fix the upload limit", [s("Raise the limit in settings.py", 2), s("Run the upload tests", 1)]),
        (
            "Add retries to the HTTP client",
            [s("Add a retry loop to client.py"), s("Write a test for the retries", 1), s("Run pytest", 7)],
        ),
        (
            "Translate the UI to French",
            [
                s("Extract the strings to messages.po"),
                s("Translate messages.po into fr.po", 3),
                s("Check the French UI renders", 2),
            ],
        ),
        ("Add CSV import", [s("Write the CSV reader in importer.py", 2), s("Run the importer tests")]),
    ],
}
GOOD: list[Plan] = [
    (
        "Fix the off-by-one bug in pager.py",
        [
            s("Write a failing test for the last page"),
            s("Fix the slice bound in paginate()", 1),
            s("Run the pager tests", 2),
        ],
    ),
    (
        "Add a --json flag to the CLI",
        [
            s("Add the --json flag to the parser in cli.py"),
            s("Print the result as JSON when it is set"),
            s("Run the CLI tests"),
        ],
    ),
    ("Explain how the router picks a mode", [s("Read router.py"), s("Summarise the three levels")]),
    (
        "Add a health endpoint",
        [
            s("Add GET /health to app.py"),
            s("Add a test for GET /health"),
            s("Run the tests", check="pytest -q tests/test_health.py"),
        ],
    ),
    (
        "Rename get_user to fetch_user everywhere",
        [s("Find every call of get_user with grep"), s("Rename the function and its calls"), s("Run the test suite")],
    ),
    (
        "Compare two JSON libraries",
        [s("List the features of orjson"), s("List the features of ujson"), s("Write a comparison table")],
    ),
    (
        "Update the config loader to read TOML",
        [
            s("Replace the INI parser with tomllib in config.py"),
            s("Convert config.ini to config.toml"),
            s("Run the config tests"),
        ],
    ),
    (
        "Upgrade requests to 2.32",
        [s("Bump requests in pyproject.toml"), s("Install the new version"), s("Run the test suite")],
    ),
    (
        "Speed up the importer",
        [
            s("Profile the importer on the sample file"),
            s("Batch the inserts in importer.py"),
            s("Run the benchmark again"),
        ],
    ),
    (
        "Write release notes for 2.0",
        [s("Collect the merged changes since 1.9"), s("Group them by area"), s("Draft the notes in NOTES.md")],
    ),
]


SIGNS = {  # the words of the finding each planted defect must produce
    "nothing runs": "no step runs",
    "vague": "is vague",
    "duplicate": "repeats",
    "bundled": "bundles",
    "too many steps": "steps at one level",
    "bad dependency": "depends on step",
}


def steps_of(plan: Plan) -> list[Step]:
    return [Step(id=i, description=d, depends_on=deps, check=check) for i, (d, deps, check) in enumerate(plan[1], 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--show", action="store_true", help="print every plan's findings")
    args = parser.parse_args()
    found = 0
    total = 0
    for kind, plans in DEFECTIVE.items():
        hits = 0
        for task, _ in plans:
            findings = lint(task, steps_of((task, _)))
            hits += any(SIGNS[kind] in f.problem for f in findings)  # the planted defect, not any finding
            if args.show:
                print(f"[{kind}] {task}: {[f.line() for f in findings]}")
        found += hits
        total += len(plans)
        print(f"{kind:15} {hits}/{len(plans)} found")
    flagged = 0
    for plan in GOOD:
        findings = lint(plan[0], steps_of(plan))
        flagged += bool(findings)
        if findings or args.show:
            print(f"[good] {plan[0]}: {[f.line() for f in findings]}")
    print(f"\ndefects found: {found}/{total} ({100 * found / total:.0f}%, target >= 90%)")
    print(f"sound plans flagged: {flagged}/{len(GOOD)} ({100 * flagged / len(GOOD):.0f}%, target <= 10%)")


if __name__ == "__main__":
    main()
