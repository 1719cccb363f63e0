"""Import discipline: a plain question through `exec` loads no UI library and no tokenizer encoder, nor what
only plans, file searches or rewinds need, nor the SDK's optional aiohttp transport; the TUI's first frame waits
for none of pydantic, the SDK or the core."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import assert_clean_stderr, run_cli
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


@pytest.mark.slow
def test_the_tuis_first_frame_waits_for_no_model_library() -> None:
    """What `liveplan` imports before its first frame (the app and its widgets, the plan panel's glyphs included)."""
    code = (
        "import sys\n"
        "import liveplan_tui.cli, liveplan_tui.subcommands, liveplan_tui.ui.app\n"
        "late = {'pydantic', 'openai', 'tiktoken', 'httpx2', 'liveplan_tui.agent', 'liveplan_tui.plan.model'}\n"
        "print('LATE', sorted(late & set(sys.modules)))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "LATE []" in proc.stdout, proc.stdout + proc.stderr


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


@pytest.mark.slow
@pytest.mark.parametrize(("reachable", "code"), [(True, 0), (False, 1)])
def test_the_program_freezes_what_is_alive_on_the_way_out_and_keeps_the_exit_code(
    fake: FakeOpenAI, tmp_path: Path, reachable: bool, code: int
) -> None:
    """The last full collection is skipped (gc.freeze before exit), and nothing else about the ending changes:
    the exit code is the command's, and the session is saved."""
    fake.script.append({"text": "Paris."})
    url = fake.base_url if reachable else "http://127.0.0.1:9/v1"
    program = (
        "import atexit, gc, sys\n"
        "atexit.register(lambda: print('FROZEN', gc.get_freeze_count() > 0))\n"
        f"sys.argv = ['liveplan', 'exec', '--mode', 'direct', '--base-url', '{url}', '--model', 'gpt-4o', 'capital?']\n"
        "from liveplan_tui.cli import entry\n"
        "entry()\n"
    )
    env = {**os.environ, "LIVEPLAN_DATA_DIR": str(tmp_path / "data"), "LIVEPLAN_RETRY_BUDGET": "1"}
    proc = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == code, proc.stderr
    assert "FROZEN True" in proc.stdout
    if reachable:
        assert proc.stdout.startswith("Paris.")
        listed = run_cli("sessions", env={"LIVEPLAN_DATA_DIR": str(tmp_path / "data")})
        assert "capital?" in listed.stdout, listed.stdout + listed.stderr
    else:
        assert_clean_stderr(proc.stderr)


def test_the_plan_packages_names_all_resolve_on_first_use() -> None:
    import liveplan_tui.plan as plan

    assert all(getattr(plan, name) is not None for name in plan.__all__)
    assert set(plan.__all__) == set(plan._HOME_OF)  # the names it exports are the names it knows where to find
    with pytest.raises(AttributeError):
        _ = plan.not_a_name


@pytest.mark.slow
def test_an_sdk_that_needs_aiohttp_is_imported_as_it_is(tmp_path: Path) -> None:
    """Hiding aiohttp must never cost the import: a package named `openai` that imports it unguarded still loads."""
    (tmp_path / "openai").mkdir()
    (tmp_path / "openai" / "__init__.py").write_text("import aiohttp\nMADE_WITH = aiohttp.__name__\n")
    code = "from liveplan_tui.llm.openai_compat import sdk\nprint('SDK', sdk().MADE_WITH)\n"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert "SDK aiohttp" in proc.stdout, proc.stdout + proc.stderr
