"""#27: the language a task asks for, the files it names, which block goes where, and the check that fits.

Pure: classes of input, each with variants a user would type, and the traps (a Python function that *uses* a regex
is Python; a file the code reads is not a file to write).
"""

from __future__ import annotations

import json

import pytest

from liveplan_tui.agent.answers.blocks import assign, blocks_in, files_named
from liveplan_tui.agent.answers.checks import Judged, Run, check_for, regex_examples, task_tables
from liveplan_tui.agent.answers.configs import dockerfile_problems, json_problems, toml_problems, yaml_problems
from liveplan_tui.agent.answers.kinds import kind_of, kind_of_fence
from liveplan_tui.agent.answers.prompting import answer_instruction, direct_instruction, fix_instruction
from liveplan_tui.agent.answers.samples import sample_tree
from liveplan_tui.agent.answers.steps import plan_steps


@pytest.mark.parametrize(
    ("task", "kind"),
    [
        ("Write a Python function is_even(n).", "python"),
        ("write a python3 script that sums numbers read from stdin", "python"),
        ("Write a Python function that uses a regex to find emails.", "python"),
        ("Write a regex for Python identifiers.", "regex"),
        ("Give me a regular expression matching ISO dates like '2024-01-31'.", "regex"),
        ("Write a shell pipeline that counts the .py files under src.", "shell"),
        ("A bash one-liner that prints the 5 largest files.", "shell"),
        ("Use awk to print the second column of data.csv", "shell"),
        ("Give a command that lists files modified today", "shell"),
        ("Write a SQL query that returns the top 3 salaries from employees(id, name, salary).", "sql"),
        ("In SQLite, count orders per customer.", "sql"),
        ("SELECT the names from users where age > 30", "sql"),
        ("Write a Dockerfile for a Flask app on port 5000.", "dockerfile"),
        ("Write a docker-compose.yml with a web and a redis service.", "yaml"),
        ("A GitHub Actions workflow that runs pytest on push.", "yaml"),
        ("Write a pyproject.toml for a package named demo.", "toml"),
        ("Write a JSON document describing a user with name and age.", "json"),
        ("Write a JavaScript function debounce(fn, ms).", "javascript"),
        ("Write a Node.js script that prints the current date.", "javascript"),
        ("Write a function is_even(n) that returns True for even n.", None),
        ("Save a greeting script to hello.py", "python"),
        ("put the query in report.sql", "sql"),
    ],
)
def test_the_language_a_task_asks_for(task: str, kind: str | None) -> None:
    assert kind_of(task) == kind


@pytest.mark.parametrize(
    ("fence", "kind"),
    [("py", "python"), ("Python3", "python"), ("bash", "shell"), ("console", "shell"), ("yml", "yaml"),
     ("Dockerfile", "dockerfile"), ("js", "javascript"), ("sqlite", "sql"), ("regexp", "regex"), ("text", None)],
)  # fmt: skip
def test_fence_labels_are_read_as_their_language(fence: str, kind: str | None) -> None:
    assert kind_of_fence(fence) == kind


@pytest.mark.parametrize(
    ("task", "outputs", "inputs"),
    [
        ("Write is_palindrome, save it to pal.py, and a pytest test in test_pal.py.", ("pal.py", "test_pal.py"), ()),
        ("Create utils/strings.py with a slugify function", ("utils/strings.py",), ()),
        ("Write a shell pipeline that prints the 3 most common IPs in access.log", (), ("access.log",)),
        ("Write a jq command that prints names from users.json", (), ("users.json",)),
        ("Write a Dockerfile for app.py that exposes port 8000", ("Dockerfile",), ("app.py",)),
        ("Write a script that reads data.csv and save it as report.py", ("report.py",), ("data.csv",)),
        ("How do I sort a list in Python?", (), ()),
        ("Write config.yaml and settings.json for the service.", ("config.yaml", "settings.json"), ()),
    ],
)
def test_files_to_write_are_told_from_files_to_read(task: str, outputs: tuple, inputs: tuple) -> None:
    named = files_named(task)
    assert named.outputs == outputs and named.inputs == inputs


def test_absolute_and_parent_paths_are_never_named_files() -> None:
    named = files_named("save it to /etc/evil.py and ../up.py and ~/x.sh")
    assert all(not n.startswith(("/", "..", "~")) for n in named.outputs + named.inputs)
    assert "/etc/evil.py" not in named.outputs and "../up.py" not in named.outputs


LABELLED = [
    "pal.py:\n```python\n{a}```\n\ntest_pal.py:\n```python\n{b}```",
    "**pal.py**\n```python\n{a}```\n**test_pal.py**\n```python\n{b}```",
    "### `pal.py`\n\n```py\n{a}```\n\n### `test_pal.py`\n\n```py\n{b}```",
    "```python\n# pal.py\n{a}```\n```python\n# test_pal.py\n{b}```",
    "Tests first, in `test_pal.py`:\n```python\n{b}```\nand the module, `pal.py`:\n```python\n{a}```",
    "```python\n{a}```\n\n```python\n{b}```",  # no names: the test block goes to the test file
]
MODULE = "def is_palindrome(s):\n    return s == s[::-1]\n"
TESTS = "from pal import is_palindrome\n\ndef test_it():\n    assert is_palindrome('aba')\n"


@pytest.mark.parametrize("template", LABELLED)
def test_each_block_goes_to_the_file_it_belongs_to(template: str) -> None:
    files = assign(template.format(a=MODULE, b=TESTS), ("pal.py", "test_pal.py"))
    assert "def is_palindrome" in files["pal.py"] and "def test_" not in files["pal.py"]
    assert "def test_it" in files["test_pal.py"]


def test_tests_in_the_module_block_are_split_into_the_test_file() -> None:
    answer = f"```python\nimport pytest\n\n{MODULE}\n\ndef test_a():\n    assert is_palindrome('x')\n```"
    files = assign(answer, ("pal.py", "test_pal.py"))
    assert "def test_a" not in files["pal.py"] and "def is_palindrome" in files["pal.py"]
    assert files["test_pal.py"].startswith("from pal import *") and "def test_a" in files["test_pal.py"]


def test_a_file_with_no_block_is_left_out_not_guessed() -> None:
    assert assign("Only prose here.", ("pal.py",)) == {}
    assert "Dockerfile" not in assign("```python\nprint(1)\n```", ("Dockerfile",))


def test_blocks_keep_the_line_before_them() -> None:
    (block,) = blocks_in("Save as `x.sh`:\n\n```bash\necho hi\n```")
    assert (block.lang, block.label, block.kind) == ("bash", "Save as `x.sh`:", "shell")


@pytest.mark.parametrize(
    ("task", "match", "reject"),
    [
        ("matches a US ZIP code like '12345' or '12345-6789' but not '1234'", ["12345", "12345-6789"], ["1234"]),
        ('should match "a@b.co"; it should not match "a@b"', ["a@b.co"], ["a@b"]),
        ("valid: `2024-01-31`. invalid: `2024-13-01`, `24-1-1`", ["2024-01-31"], ["2024-13-01", "24-1-1"]),
        ("a regex for hex colours", [], []),
    ],
)
def test_regex_examples_are_read_clause_by_clause(task: str, match: list, reject: list) -> None:
    assert regex_examples(task) == (match, reject)


def test_tables_the_task_spells_out_become_create_table() -> None:
    assert task_tables("from a table employees(id, name, salary) and orders (id, total)") == [
        "CREATE TABLE IF NOT EXISTS employees (id, name, salary);",
        "CREATE TABLE IF NOT EXISTS orders (id, total);",
    ]


def check(task: str, answer: str, *, node: bool = True) -> Run | Judged | None:
    return check_for(task, kind_of(task), answer, {}, node=node)


@pytest.mark.parametrize(
    ("task", "answer", "expected"),
    [
        ("Write a SQL query for adults from users(name, age)", "```python\nimport pandas\n```", "no ```sql block"),
        ("Write a SQL query for adults", "```sql\nSELECT * FROM users WHERE age > 18;\n```", "defines no table"),
        ("Write a regex for digits like '12'", "```regex\n[0-9\n```", "does not compile"),
        ("Write a Dockerfile that runs app.py on port 8000", "```dockerfile\nFROM python:3.12\n```", "no CMD"),
        ("Write a JSON config with a `port` key", '```json\n{"port": 1,}\n```', "not valid JSON"),
        ("Write a TOML file with a `name` key", "```toml\nname = \n```", "not valid TOML"),
        ("Write a YAML file with a `services` key", "```yaml\nservices:\n\tweb: x\n```", "tab"),
    ],
)
def test_an_answer_that_misses_its_language_fails_with_a_reason_it_can_act_on(
    task: str, answer: str, expected: str
) -> None:
    found = check(task, answer)
    assert isinstance(found, Judged) and found.verification == "failed" and expected in found.text


def test_what_cannot_be_run_is_unverified_never_passed() -> None:
    node_missing = check("Write a JavaScript function add(a, b).", "```javascript\nconsole.log(1)\n```", node=False)
    no_examples = check("Write a regex for hex colours", "```regex\n#[0-9a-f]{6}\n```")
    assert isinstance(node_missing, Judged) and node_missing.verification == "unverified"
    assert isinstance(no_examples, Judged) and no_examples.verification == "unverified"


STDIN_SUM = "```python\nimport sys\nprint(sum(map(int, sys.stdin.read().split())))\n```"


@pytest.mark.parametrize(
    ("task", "answer", "command", "file"),
    [
        ("A shell pipeline counting ERROR lines in app.log", "```sh\ngrep -c ERROR app.log\n```", "sh answer.sh",
         "app.log"),
        ("A SQL query over employees(id, name, salary)", "```sql\nSELECT name FROM employees;\n```",
         "python3 check_sql.py", "answer.sql"),
        ("Write a regex like '12' but not 'ab'", "```regex\n^\\d+$\n```", "python3 check_regex.py", "regex.json"),
        ("Write a JavaScript function add(a, b)", "```js\nconsole.log(1 + 2)\n```", "node answer.js", "answer.js"),
        ("A Python script that sums numbers from stdin", STDIN_SUM, "python3 answer.py < input.txt", "input.txt"),
        ("A bash script that lists the logs", "```bash\nls *.log\n```", "bash answer.sh", "answer.sh"),
    ],
)  # fmt: skip
def test_answers_that_can_run_get_a_run(task: str, answer: str, command: str, file: str) -> None:
    found = check(task, answer)
    assert isinstance(found, Run) and found.command == command and file in found.files


def test_a_regex_check_carries_the_examples_from_the_task_else_from_the_answer() -> None:
    from_task = check("Write a regex matching '12' but not 'ab'", "```regex\n^\\d+$\n```")
    from_answer = check("Write a regex for numbers", "```regex\n/^\\d+$/\n```\nMatches `42`; does not match `x1`.")
    assert isinstance(from_task, Run) and json.loads(from_task.files["regex.json"])["reject"] == ["ab"]
    assert isinstance(from_answer, Run)
    case = json.loads(from_answer.files["regex.json"])
    assert case == {"pattern": "^\\d+$", "match": ["42"], "reject": ["x1"]}


def test_sql_gets_the_tables_the_task_defines_when_the_answer_has_none() -> None:
    found = check("Write a SQL query over employees(id, name, salary)", "```sql\nSELECT name FROM employees;\n```")
    assert isinstance(found, Run) and found.files["answer.sql"].startswith("CREATE TABLE IF NOT EXISTS employees")


@pytest.mark.parametrize(
    ("task", "text", "problem"),
    [
        ("runs app.py on port 8000", "FROM python:3.12\nCMD python app.py\n", "port 8000"),
        ("based on node:20-alpine", "FROM node:18\nCMD node x\n", "node:20-alpine"),
        ("x", "RUN echo hi\nFROM alpine\n", "begin with FROM"),
        ("x", "FROM alpine\nINSTALL curl\n", "`INSTALL` is not"),
    ],
)
def test_dockerfile_checks_what_the_task_names(task: str, text: str, problem: str) -> None:
    assert any(problem in p for p in dockerfile_problems(task, text))


def test_well_formed_data_answers_pass() -> None:
    assert dockerfile_problems("on port 80", 'ARG V=1\nFROM nginx:${V}\nEXPOSE 80\nCMD ["nginx", \\\n  "-g"]\n') == []
    assert yaml_problems("a `web` service", "services:\n  web:\n    cmd: |\n      echo hi\n      free text\n") == []
    assert json_problems("a `name` key", '{"name": "x"}') == [] and toml_problems("", "[a]\nb = 1\n") == []


def test_the_sample_tree_makes_the_data_files_a_task_reads() -> None:
    tree = sample_tree("count the 500 errors per IP in logs/access.log and rows in people.csv")
    assert "ERROR" in tree["logs/access.log"] and tree["people.csv"].startswith("name,")


def test_prompts_ask_for_the_tasks_language_and_a_block_per_file() -> None:
    assert "```" not in answer_instruction("x", "sql", ()) and "`sql`" in answer_instruction("x", "sql", ())
    assert "pandas" in answer_instruction("x", "sql", ())
    assert "`pal.py`" in answer_instruction("x", "python", ("pal.py", "test_pal.py"))
    assert direct_instruction(()) == "Reply briefly." and "pal.py" in direct_instruction(("pal.py",))
    assert "sys.stdin" in answer_instruction("a script that reads stdin", "python", ())
    assert "Python block" in fix_instruction("x", "python", (), "boom")
    assert "`sql`" in fix_instruction("x", "sql", (), "boom") and "boom" in fix_instruction("x", "sql", (), "boom")


def test_steps_that_name_files_are_completed_by_their_writes() -> None:
    specs = plan_steps(
        ["Create the pal.py file", "Write the function", "Save the file"], ("pal.py", "test_pal.py"), "Check it"
    )
    roles = [(s.role, s.files) for s in specs]
    assert roles == [
        ("answer", ()),
        ("check", ()),
        ("write", ("pal.py",)),
        ("write", ("pal.py", "test_pal.py")),
        ("test", ("test_pal.py",)),
    ]
    assert [s.role for s in plan_steps(["Do it", "Explain"], (), None)] == ["answer", "answer"]
    added = plan_steps(["Think"], ("a.py",), None)
    assert [(s.description, s.role) for s in added] == [("Think", "answer"), ("Write a.py", "write")]


@pytest.mark.parametrize(
    "answer",
    ["```\nDockerfile\nFROM alpine\n```", "```dockerfile\n# Dockerfile\nFROM alpine\n```",
     "Dockerfile:\n```\nFROM alpine\n```", "```docker\n# file: Dockerfile\nFROM alpine\n```"],
)  # fmt: skip
def test_a_file_named_alone_on_a_blocks_first_line_is_its_label_not_its_content(answer: str) -> None:
    assert assign(answer, ("Dockerfile",))["Dockerfile"].strip() == "FROM alpine"


def test_a_file_the_task_also_reads_is_not_written() -> None:
    named = files_named("Write a Dockerfile for a Python app in app.py that exposes port 8000 and runs app.py.")
    assert named.outputs == ("Dockerfile",) and named.inputs == ("app.py",)


def test_one_block_holding_two_files_is_split_at_their_names() -> None:
    answer = (
        "```python\n# wc.py\n\ndef word_count(text):\n    return {}\n\n# test_wc.py\n\nimport pytest\n\n"
        "def test_it():\n    assert word_count('') == {}\n\npytest.main()\n```"
    )
    files = assign(answer, ("wc.py", "test_wc.py"))
    assert "def word_count" in files["wc.py"] and "test_it" not in files["wc.py"] and "pytest" not in files["wc.py"]
    assert files["test_wc.py"].startswith("from wc import *") and "def test_it" in files["test_wc.py"]


def test_a_top_level_pytest_main_moves_out_of_the_module() -> None:
    answer = f"```python\nimport pytest\n{MODULE}\ndef test_a():\n    assert is_palindrome('a')\n\npytest.main()\n```"
    files = assign(answer, ("pal.py", "test_pal.py"))
    assert "pytest" not in files["pal.py"] and "pytest.main()" in files["test_pal.py"]


def test_sql_without_a_query_fails_and_given_tables_ask_for_the_query_alone() -> None:
    found = check("Write a SQL query over users(id, age)", "```sql\nCREATE TABLE users (id, age);\n```")
    assert isinstance(found, Judged) and "has no query" in found.text
    assert "the query alone" in answer_instruction("Write a SQL query over users(id, age)", "sql", ())
    assert "CREATE TABLE" in answer_instruction("Write a SQL query for adult users", "sql", ())
