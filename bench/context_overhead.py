"""Per-call overhead of the context machinery versus history length.

    python bench/context_overhead.py

For histories of 10 to 2,000 messages, times what every main-loop call does
before the request: rebuild the system prompt (with the plan), estimate the
prompt from the cached counts, decide whether to condense, and count the one
new message. Reports the median of many repeats and the ratio to 10 messages.
"""

from __future__ import annotations

import statistics
import time

from liveplan_tui.agent.session import Session as Agent
from liveplan_tui.config import load_settings, resolve_endpoint
from liveplan_tui.plan import NewStep, PlanUpdate
from liveplan_tui.tokens import count_message


def history(agent: Agent, n: int) -> None:
    for i in range(n):
        if i % 3 == 2:
            agent.conv.add({"role": "tool", "tool_call_id": f"c{i}", "content": f"line {i}: " + "result text " * 20})
        elif i % 3 == 1:
            agent.conv.add({"role": "assistant", "content": None, "tool_calls": [{"id": f"c{i + 1}", "type": "function", "function": {"name": "read_file", "arguments": '{"path": "a.py"}'}}]})
        else:
            agent.conv.add({"role": "user", "content": f"message {i} " + "words " * 30})


def per_call(agent: Agent, repeats: int = 300) -> float:
    specs = agent.tools.specs()
    new = {"role": "user", "content": "one more message " * 10}
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        system = agent.system_prompt("plan")
        estimate = agent.condenser.estimate(agent.conv, system, specs)
        agent.condenser.needed(estimate)
        agent.conv.for_request()
        count_message(agent.counter, new)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1e6


def main() -> None:
    settings = load_settings(base_url="http://127.0.0.1:9/v1", model="gpt-4o", context_window=10_000_000)
    base = None
    print(f"{'messages':>9}  {'median µs/call':>15}  {'ratio to 10':>11}")
    for n in (10, 100, 500, 1000, 2000):
        agent = Agent(settings, resolve_endpoint(settings))
        agent.edit_plan(PlanUpdate(goal="bench", steps=[NewStep(description=f"step {i}", status="in_progress" if i == 0 else None) for i in range(6)]))
        history(agent, n)
        micros = per_call(agent)
        base = base or micros
        print(f"{n:>9}  {micros:>15.1f}  {micros / base:>10.2f}x")
    print()
    plan_overhead()


def plan_overhead() -> None:
    """Tokens the [PLAN] and [WORK] blocks add per step, beyond the step's own text (description and result)."""
    from liveplan_tui.memory import Note, WorkMemory
    from liveplan_tui.plan import LivePlan, StepPatch, apply
    from liveplan_tui.tokens import counter_for

    counter = counter_for("gpt-4o")
    print(f"{'steps':>6}  {'[PLAN] tokens':>13}  {'own text':>8}  {'overhead/step':>13}  {'[WORK]/file':>11}")
    for n in (3, 10, 30):
        steps = [NewStep(description=f"Update module {i} to use the new parser API") for i in range(n)]
        plan = apply(LivePlan(), PlanUpdate(goal="Move every module to the new parser", steps=steps))
        done = [StepPatch(id=i + 1, status="completed", result=f"module {i} now calls parse_v2()") for i in range(n - 1)]
        plan = apply(plan, PlanUpdate(updates=[*done, StepPatch(id=n, status="in_progress")]))
        block = counter.count(plan.render())
        own = counter.count(plan.goal) + sum(counter.count(s.description) + counter.count(s.result) for s in plan.steps)
        memory = WorkMemory()
        for i in range(n):
            memory = memory.remember(Note("file", f"src/module_{i}.py", "edited"))
        paths = sum(counter.count(f"src/module_{i}.py") for i in range(n))
        work = (counter.count(memory.render()) - paths) / n
        print(f"{n:>6}  {block:>13}  {own:>8}  {(block - own) / n:>13.1f}  {work:>11.1f}")


if __name__ == "__main__":
    main()
