"""`liveplan exec`: one task, run to completion without a human.

Text mode prints only the final answer on stdout (progress goes to stderr when
it is a terminal); `--json` prints every event as one JSON line, ending with
the `turn_finished` event that holds the answer.
"""

from __future__ import annotations

import sys
from typing import TextIO

from .agent.session import Session
from .present import describe
from .textsafe import terminal_safe

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_MAX_ITERATIONS = 3


async def run_exec(
    agent: Session, task: str, *, json_mode: bool, out: TextIO = sys.stdout, err: TextIO = sys.stderr
) -> int:
    show_progress = not json_mode and err.isatty()
    code = EXIT_FAILED
    async for event in agent.submit(task):
        if json_mode:
            out.write(event.model_dump_json() + "\n")
            out.flush()
        elif show_progress and event.type != "error" and (line := describe(event)):
            err.write(terminal_safe(line) + "\n")
        if event.type == "error":
            err.write(f"liveplan: error: {terminal_safe(event.message)}\n")
        elif event.type == "turn_finished":
            if event.reason == "done":
                if not json_mode:
                    out.write(terminal_safe(event.answer.rstrip("\n")) + "\n")
                code = EXIT_OK
            elif event.reason == "max_iterations":
                code = EXIT_MAX_ITERATIONS
    out.flush()
    return code
