"""Re-reads after condensation: does the model still know which files it has read?

    python bench/rereads.py [--files 24] [--window 6000]

A long scripted task (the fake model at the HTTP boundary) reads many files and writes a few notes in a small
context window, so the conversation is condensed several times. After each condensation, the next request is
checked: every file read so far and unchanged since should still be named in it (the `[WORK]` block), so the model
has no reason to read it again. Prints, for each condensation, how many files were read before it and how many of
them the next request no longer names: the files the model would be sent to read again. The target is 0.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from fake_openai import FakeOpenAI, system_prompt  # noqa: E402


def tool(name: str, **arguments: object) -> dict:
    return {"when": "tools", "tool_calls": [{"name": name, "arguments": arguments}]}


def script(files: int) -> list[dict]:
    steps: list[dict] = []
    for i in range(files):
        steps.append(tool("read_file", path=f"src/module_{i:02d}.py"))
        if i % 6 == 5:
            steps.append(tool("write_file", path=f"notes/part_{i // 6}.md", content=f"notes {i}\n" * 30))
    return [*steps, {"when": "tools", "text": "Done: every module read, notes written."}]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=24)
    parser.add_argument("--window", type=int, default=6000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, FakeOpenAI(script(args.files)) as fake:
        work = Path(tmp) / "ws"
        (work / "src").mkdir(parents=True)
        for i in range(args.files):
            (work / "src" / f"module_{i:02d}.py").write_text("".join(f"def f{i}_{n}():\n    return {n}\n" for n in range(40)))
        summaries = iter(range(1, 1000))
        fake.default = lambda r: None if r.get("tools") else {"text": f"Summary #{next(summaries)}: read modules, wrote notes."}
        env = {"LIVEPLAN_DATA_DIR": f"{tmp}/data", "LIVEPLAN_CONFIG": f"{tmp}/none.toml"}
        proc = subprocess.run(
            [sys.executable, "-m", "liveplan_tui.cli", "exec", "--json", "--yes", "--mode", "direct",
             "--context-window", str(args.window), "--max-iterations", str(args.files * 2 + 10),
             "--base-url", fake.base_url, "--model", "m", "--workspace", str(work), "read every module and take notes"],
            capture_output=True, text=True, env={**os.environ, **env}, timeout=600,
        )
        events = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
        requests = fake.main_requests()
    condensations = sum(1 for e in events if e["type"] == "condensed")
    read_so_far: list[str] = []
    rows: list[tuple[int, int]] = []
    summary = None
    for request in requests:
        for message in request["messages"]:
            match = re.match(r"(src/module_\d+\.py) \(lines", str(message.get("content") or ""))
            if message["role"] == "tool" and match and match.group(1) not in read_so_far:
                read_so_far.append(match.group(1))
        text = system_prompt(request) + json.dumps(request["messages"])
        now = re.search(r"Summary #(\d+)", text)
        if now and now.group(1) != summary:  # a new summary: this is the first call after a condensation
            summary = now.group(1)
            rows.append((len(read_so_far), sum(1 for p in read_so_far if p not in text)))
    print(f"exit {proc.returncode}; {len(requests)} model calls; {condensations} condensations; {args.files} files read")
    for n, (read, missing) in enumerate(rows, start=1):
        print(f"after condensation {n}: {read} files read so far, {missing} no longer named (would be read again)")
    total = sum(missing for _, missing in rows)
    print(f"files the model would be sent to read again: {total}")


if __name__ == "__main__":
    main()
