"""The shapes models really send for `update_plan`, normalised before validation. Pure.

Status synonyms (`done`, `in-progress`, `todo`, `complete`…), string ids
(`"2"`, `"step 2"`), steps as bare strings or with `step`/`title` for the
description, and Codex's own `{"plan": [{"step", "status"}], "explanation"}`
all mean something clear, so they are accepted without a round trip. What is
not clear is left for validation to reject with the list of valid arguments.
"""

from __future__ import annotations

import re
from typing import Any

_SYNONYMS = {
    "pending": "pending todo to_do not_started open planned queued waiting new not_done",
    "in_progress": "in_progress inprogress active doing started working running current ongoing wip",
    "completed": "completed complete done finished success succeeded passed resolved closed ok",
    "cancelled": "cancelled canceled skipped dropped abandoned removed wontfix won't_do",
}
STATUS_SYNONYMS = {word: status for status, words in _SYNONYMS.items() for word in words.split()}
_DESCRIPTION_KEYS = ("step", "title", "text", "content", "name", "task")
_ID_KEYS = ("step_id", "step", "index", "number")
VALID_ARGUMENTS = (
    "valid arguments: goal, steps (a list of {description, status, result, depends_on}), "
    "updates (a list of {id, status, result, description}), notes, explanation; "
    "statuses: pending, in_progress, completed, cancelled"
)


def status(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    key = re.sub(r"[\s\-]+", "_", value.strip().lower())
    return STATUS_SYNONYMS.get(key, value)


def step_id(value: Any) -> Any:
    """`"2"`, `"step 2"`, `"#2"`, `2.0` as 2; anything else unchanged, for validation to reject."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and (match := re.fullmatch(r"\s*(?:step\s*)?#?\s*(\d+)\s*\.?\s*", value, re.I)):
        return int(match.group(1))
    return value


def _new_step(entry: Any) -> Any:
    if isinstance(entry, str):
        return {"description": entry}
    if not isinstance(entry, dict):
        return entry
    entry = dict(entry)
    entry.pop("id", None)  # positions are the ids of a new list
    if "description" not in entry:
        key = next((k for k in _DESCRIPTION_KEYS if isinstance(entry.get(k), str)), None)
        if key:
            entry["description"] = entry.pop(key)
    if "status" in entry:
        entry["status"] = status(entry["status"])
    if isinstance(entry.get("depends_on"), list):
        entry["depends_on"] = [step_id(d) for d in entry["depends_on"]]
    elif isinstance(entry.get("depends_on"), int | str):
        entry["depends_on"] = [step_id(entry["depends_on"])]
    return entry


def _patch(entry: Any) -> Any:
    if not isinstance(entry, dict):
        return entry
    entry = dict(entry)
    if "id" not in entry:
        key = next((k for k in _ID_KEYS if k in entry), None)
        if key:
            entry["id"] = entry.pop(key)
    if "id" in entry:
        entry["id"] = step_id(entry["id"])
    if "status" in entry:
        entry["status"] = status(entry["status"])
    if "description" not in entry and isinstance(entry.get("title"), str):
        entry["description"] = entry.pop("title")
    return entry


def normalize(data: Any) -> Any:
    """The arguments as `PlanUpdate` expects them, where their meaning is clear."""
    if not isinstance(data, dict):
        return data
    data = dict(data)
    if "plan" in data and "steps" not in data and isinstance(data["plan"], list):
        data["steps"] = data.pop("plan")
    if "goal" not in data and isinstance(data.get("title"), str):
        data["goal"] = data.pop("title")
    if isinstance(data.get("steps"), list):
        data["steps"] = [_new_step(s) for s in data["steps"]]
    if isinstance(data.get("updates"), list):
        data["updates"] = [_patch(u) for u in data["updates"]]
    elif isinstance(data.get("updates"), dict):
        data["updates"] = [_patch(data["updates"])]
    return data
