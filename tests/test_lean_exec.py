"""Import discipline: a plain question through `exec` loads no UI library and no tokenizer encoder, nor what
only plans, file searches or rewinds need, nor the SDK's optional aiohttp transport."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from fake_openai import FakeOpenAI

from liveplan_tui.agent.condenser import Condenser
from liveplan_tui.agent.conversation import Conversation
from liveplan_tui.config import load_settings
from liveplan_tui.tokens import LazyCounter


@pytest.mark.slow
def test_a_plain_question_loads_no_ui_and_no_encoder(fake: FakeOpenAI) -> None:
    fake.script.append({"text": "Paris."})
    code = (
        "import sys\n"
        "from liveplan_tui.cli import main\n"
        f"rc = main(['exec', '--mode', 'direct', '--base-url', '{fake.base_url}', '--model', "
        f"'gpt-4o', 'capital of France?'])\n"
        "loaded = sorted({m.split('.')[0] for m in sys.modules} & {'textual', 'prompt_toolkit', 'tiktoken', 'rich'})\n"
        "heavy = {'pathspec', 'difflib', 'liveplan_tui.agent.engines.strict', "
        "'liveplan_tui.agent.engines.structured',\n"
        "         'liveplan_tui.agent.answers.running', 'aiohttp'}\n"
        "print('RC', rc, 'LOADED', loaded, 'HEAVY', sorted(heavy & set(sys.modules)))\n"
        "import aiohttp\n"  # hidden only while the SDK loads: textual-serve, in the same process, still gets it
        "print('AIOHTTP', aiohttp.ClientSession.__name__)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=dict(os.environ), timeout=60
    )
    assert "Paris." in proc.stdout
    assert "RC 0 LOADED [] HEAVY []" in proc.stdout, proc.stdout + proc.stderr
    assert "AIOHTTP ClientSession" in proc.stdout


def test_counts_become_exact_as_a_prompt_nears_the_budget() -> None:
    counter = LazyCounter("gpt-4o")
    conv = Conversation(counter)
    condenser = Condenser(None, load_settings(base_url="http://127.0.0.1:9/v1", model="gpt-4o"), 2000)  # type: ignore[arg-type]
    conv.add({"role": "user", "content": "short"})
    condenser.estimate(conv, "system", [])
    assert not counter.sharpened and not counter.exact
    conv.add({"role": "user", "content": "word " * 2000})
    size = condenser.estimate(conv, "system", [])
    assert counter.sharpened
    assert size == counter.count("system") + conv.total + 3  # recounted with the sharper counter
