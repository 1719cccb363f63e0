"""Answers that are data, not programs: a Dockerfile, YAML, JSON or TOML is parsed and checked for what the task
names. Nothing the model wrote runs, so these checks need no approval: they only read the text.

"What the task names" is what a reader would check by eye: the ports, the base image, the `quoted` or backticked
names, and for a Dockerfile the command it starts.
"""

from __future__ import annotations

import json
import re
import tomllib

INSTRUCTIONS = {
    "FROM", "RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME", "USER", "WORKDIR",
    "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL", "MAINTAINER",
}  # fmt: skip
_PORT = re.compile(r"\bports?\s+(\d{2,5})\b|\b(\d{2,5})\s+port\b|:(\d{2,5})\b(?![:/\w])", re.I)
_IMAGE = re.compile(r"\b([a-z0-9][a-z0-9._/-]*:[\w][\w.-]*)\b")
_QUOTED = re.compile(r"`([^`\n]{1,60})`|\"([^\"\n]{1,60})\"|'([^'\n]{1,60})'")


def named_in(task: str) -> list[str]:
    """The literal things a task names that the answer must contain: quoted names, ports and image tags."""
    names = [next(g for g in m.groups() if g) for m in _QUOTED.finditer(task)]
    names += [next(g for g in m.groups() if g) for m in _PORT.finditer(task)]
    names += [m.group(1) for m in _IMAGE.finditer(task) if not m.group(1).split(":")[1].isdigit()]
    return [n.strip() for n in dict.fromkeys(names) if n.strip()]


def missing(task: str, text: str) -> list[str]:
    return [name for name in named_in(task) if name not in text]


def _logical_lines(text: str) -> list[str]:
    lines, current = [], ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        current += " " + stripped.rstrip("\\")
        if not stripped.endswith("\\"):
            lines.append(current.strip())
            current = ""
    return lines + ([current.strip()] if current.strip() else [])


def dockerfile_problems(task: str, text: str) -> list[str]:
    lines = _logical_lines(text)
    words = [line.split()[0].upper() for line in lines if line.split()]
    problems = [f"`{w}` is not a Dockerfile instruction" for w in dict.fromkeys(words) if w not in INSTRUCTIONS]
    firsts = [w for w in words if w != "ARG"]
    if not firsts or firsts[0] != "FROM":
        problems.append("a Dockerfile must begin with FROM")
    lowered = task.lower()
    wants_start = re.search(r"\b(?:run|runs|start|starts|serve|serves|launch|cmd|entrypoint)\b", lowered)
    if wants_start and not {"CMD", "ENTRYPOINT"} & set(words):
        problems.append("the task says what it runs, but there is no CMD or ENTRYPOINT")
    ports = {next(g for g in m.groups() if g) for m in _PORT.finditer(task)}
    exposed = " ".join(line for line in lines if line.upper().startswith("EXPOSE"))
    problems += [f"port {p} is not exposed (EXPOSE {p})" for p in sorted(ports) if p not in exposed.split()]
    return problems + [f"it does not contain `{n}`" for n in missing(task, text) if n not in ports]


def yaml_problems(task: str, text: str) -> list[str]:
    """A line-level YAML check (no YAML library is a dependency): tabs, mappings and lists, even indentation."""
    problems: list[str] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#") or line.strip() in ("---", "..."):
            continue
        if "\t" in line[: len(line) - len(line.lstrip())]:
            problems.append(f"line {number} is indented with a tab")
        body = line.strip()
        if not (body.startswith("- ") or body == "-" or re.match(r"^[^:#]+:(\s|$)", body) or _in_block(text, number)):
            problems.append(f"line {number} is neither `key: value` nor `- item`: {body[:40]}")
    return problems[:5] + _named_missing(task, text)


def _in_block(text: str, number: int) -> bool:
    """A line inside a `|` or `>` block scalar, or continuing a flow collection, is free text: the nearest line
    above it that is indented less opens one."""
    lines = text.splitlines()
    this = lines[number - 1]
    indent = len(this) - len(this.lstrip())
    for previous in reversed(lines[: number - 1]):
        if previous.strip() and len(previous) - len(previous.lstrip()) < indent:
            return bool(re.search(r":\s*[|>][-+]?\d*\s*$|[\[{,]\s*$", previous))
    return False


def json_problems(task: str, text: str) -> list[str]:
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        return [f"it is not valid JSON: {exc.msg} at line {exc.lineno}"]
    return _named_missing(task, text)


def toml_problems(task: str, text: str) -> list[str]:
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return [f"it is not valid TOML: {exc}"]
    return _named_missing(task, text)


def _named_missing(task: str, text: str) -> list[str]:
    return [f"it does not contain `{n}`" for n in missing(task, text)]


PARSERS = {"dockerfile": dockerfile_problems, "yaml": yaml_problems, "json": json_problems, "toml": toml_problems}
