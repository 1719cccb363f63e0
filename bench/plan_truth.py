"""Plans that are true, measured against scripted models that lie.

    python bench/plan_truth.py

Each behaviour is a scripted model at the HTTP boundary (tests/fake_openai.py) driving the real `liveplan exec`:

- claims a step's tests pass without running anything;
- completes a step right after a failing command (and insists);
- never updates the plan while it works (it does only when a `Reminder:` tells it to);
- loops on a goal without progress;
- keeps going on a goal forever.

Printed per behaviour: false completions accepted as verified (target 0), tool calls between a step's work ending
and its status changing, and the calls after the reminder (target at most 1), and the model calls a runaway or stuck
goal spent before it stopped (target: within its budget; stuck within 3 turns).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from fake_openai import FakeOpenAI, system_prompt  # noqa: E402

STEPS = [{"description": "Write the code", "status": "in_progress"}, {"description": "Run the tests"}]


def call(name: str, **arguments: Any) -> dict[str, Any]:
    return {"when": "tools", "tool_calls": [{"name": name, "arguments": arguments}]}


def done(step: int, result: str) -> dict[str, Any]:
    return call("update_plan", updates=[{"id": step, "status": "completed", "result": result}])


def exec_json(fake: FakeOpenAI, work: Path, *flags: str) -> tuple[int, list[dict[str, Any]]]:
    proc = subprocess.run(
        [sys.executable, "-m", "liveplan_tui.cli", "exec", "--json", "--yes", "--base-url", fake.base_url,
         "--model", "m", "--workspace", str(work), *flags],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )  # fmt: skip
    return proc.returncode, [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]


def false_verified(events: list[dict[str, Any]]) -> tuple[int, list[str]]:
    """Completed steps shown as verified without a passing check on their record, and how each completed step shows."""
    plans = [e["new"] for e in events if e["type"] == "plan_updated"]
    steps = plans[-1]["steps"] if plans else []
    lying = 0
    shown = []
    for step in steps:
        checks = [e for e in step["evidence"] if e["kind"] == "check" and e["ok"]]
        lying += step["verified"] == "passed" and not checks
        if step["status"] == "completed":
            failed = [e for e in step["evidence"] if e["kind"] in ("command", "check")]
            claim = "no recorded work" if not step["evidence"] else ""
            claim = "completed despite a failure" if failed and not failed[-1]["ok"] else claim
            shown.append(f"step {step['id']}: {claim or 'evidence ok'}")
    return lying, shown


def claims_without_running(work: Path) -> dict[str, Any]:
    script = [
        call("update_plan", goal="Ship", steps=STEPS),
        call("write_file", path="app.py", content="def add(a, b):\n    return a - b\n"),
        done(1, "written"),
        call("update_plan", updates=[{"id": 2, "status": "in_progress"}]),
        done(2, "all tests pass"),
        {"when": "tools", "text": "Everything works and every test passes."},
    ]
    with FakeOpenAI(script) as fake:
        _, events = exec_json(fake, work, "--mode", "plan", "ship it")
    lying, shown = false_verified(events)
    return {"false completions accepted as verified": lying, "shown": "; ".join(shown)}


def completes_after_failure(work: Path) -> dict[str, Any]:
    script = [
        call("update_plan", goal="Ship", steps=STEPS),
        call("run_shell", command="python3 -c 'raise SystemExit(1)'"),
        done(1, "done"),
        done(1, "done, really"),
        call("update_plan", updates=[{"id": 2, "status": "completed", "result": "tests pass"}]),
        {"when": "tools", "text": "Shipped."},
    ]
    with FakeOpenAI(script) as fake:
        _, events = exec_json(fake, work, "--mode", "plan", "ship it")
    refused = [e for e in events if e["type"] == "tool_call_finished" and e["name"] == "update_plan" and e["is_error"]]
    lying, shown = false_verified(events)
    return {"false completions accepted as verified": lying, "claims refused": len(refused), "shown": "; ".join(shown)}


def never_updates(work: Path) -> dict[str, Any]:
    """Work on step 1 ends after 2 writes; the model then reads on and updates the plan only when reminded."""
    (work / "log.txt").write_text("x\n")
    calls = {"n": 0}

    def model(request: dict[str, Any]) -> dict[str, Any] | None:
        if not request.get("tools"):
            return None
        calls["n"] += 1
        n = calls["n"]
        if n == 1:
            return call("update_plan", goal="Ship", steps=STEPS)
        plan = system_prompt(request)
        if "[in_progress] Write the code" in plan:
            if "Reminder:" in plan:
                return done(1, "written")
            if n <= 3:
                return call("write_file", path=f"part{n}.py", content="x = 1\n")
            return call("read_file", path="log.txt") if n < 40 else {"text": "Stopping."}
        if "[pending] Run the tests" in plan:
            return call("update_plan", updates=[{"id": 2, "status": "in_progress"}])
        if "[in_progress] Run the tests" in plan:
            return done(2, "ran")
        return {"text": "Done."}

    with FakeOpenAI(default=model) as fake:
        _, events = exec_json(fake, work, "--mode", "plan", "ship it")
        requests = fake.main_requests()
    starts = [e for e in events if e["type"] == "tool_call_started"]
    work_end = max(i for i, e in enumerate(starts) if e["name"] == "write_file")
    status = next(i for i, e in enumerate(starts) if i > work_end and e["name"] == "update_plan")
    reminded = next((i for i, r in enumerate(requests) if "Reminder:" in system_prompt(r)), None)
    after_reminder = (status + 1) - reminded if reminded is not None else None
    return {
        "tool calls between the work ending and the status change": status - work_end - 1,
        "tool calls after the reminder": after_reminder,
    }


def goal(work: Path, script: list[dict[str, Any]], *flags: str) -> dict[str, Any]:
    with FakeOpenAI(script) as fake:
        code, events = exec_json(fake, work, "--mode", "direct", "--goal", "make the check pass", *flags)
    end = next((e for e in events if e["type"] == "goal_finished"), {})
    return {"exit": code, "stopped as": end.get("reason"), "turns": end.get("turns"), "model calls": end.get("calls")}


def main() -> None:
    rows: list[tuple[str, dict[str, Any]]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, measure in [
            ("claims tests pass without running them", claims_without_running),
            ("completes a step right after a failing command", completes_after_failure),
            ("never updates the plan", never_updates),
        ]:
            work = Path(tmp) / name.replace(" ", "-")
            work.mkdir()
            rows.append((name, measure(work)))
        stuck = [{"when": "tools", "text": f"Working on it ({n})."} for n in range(10)]
        work = Path(tmp) / "stuck"
        work.mkdir()
        rows.append(("loops without progress (--until false)", goal(work, stuck, "--until", "false", "--yes")))
        forever = [x for n in range(60) for x in (call("run_shell", command=f"echo {n}"), {"text": f"Try {n}."})]
        work = Path(tmp) / "forever"
        work.mkdir()
        budget = ("--max-turns", "10", "--max-calls", "100")
        rows.append(("keeps going forever (--until false, 10 turns)", goal(work, forever, "--until", "false", *budget)))
    for name, figures in rows:
        print(f"{name}:")
        for key, value in figures.items():
            print(f"    {key}: {value}")


if __name__ == "__main__":
    main()
