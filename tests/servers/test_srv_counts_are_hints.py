"""A server's word is a hint: low, zero, missing, cache-excluded or other-tokenizer prompt counts never shrink the
window or end a turn; Ollama is asked for the window it really runs, and one that only looks like Ollama is not."""

from __future__ import annotations

import pytest
from fake_openai import FakeOpenAI, system_prompt
from quirks import answer, run

from liveplan_tui.agent.truncation import Counts, believed_cut


@pytest.fixture
def logs(tmp_path):
    (tmp_path / "log.txt").write_text(
        "".join(f"line {n}: service started, nothing to report here\n" for n in range(1, 2001))
    )
    return tmp_path


def reads(n: int) -> list[dict]:
    """A session that grows each call by reads of different sizes (as real work does), then the answer."""
    sizes = [100, 140, 70, 120, 90, 160, 110][:n]
    starts = [1 + sum(sizes[:i]) for i in range(len(sizes))]
    calls = [
        {
            "when": "tools",
            "tool_calls": [
                {"name": "read_file", "arguments": {"path": "log.txt", "start_line": s, "end_line": s + size - 1}}
            ],
        }
        for s, size in zip(starts, sizes, strict=True)
    ]
    return [*calls, {"when": "tools", "text": "Read them all; nothing alarming."}]


@pytest.mark.slow
@pytest.mark.parametrize("counts", ["cache_excluded", "cached_details", "zero", "missing", "other_tokenizer"])
@pytest.mark.parametrize("ollama", [None, {"version": "0.30.1"}])  # Ollama that states no window, and a plain server
def test_low_counts_alone_never_shrink_the_window_or_end_the_turn(logs, counts: str, ollama: dict | None) -> None:
    with FakeOpenAI(counts=counts, ollama=ollama) as fake:
        fake.script.extend(reads(6))
        code, events, stderr = run(fake, "--mode", "direct", workspace=logs)
        assert code == 0, stderr
        assert answer(events) == "Read them all; nothing alarming."
        assert [e for e in events if e["type"] in ("notice", "condensed", "error")] == []
        assert len(fake.model_requests()) == 7
        assert all("Workspace:" in system_prompt(r) for r in fake.model_requests())


@pytest.mark.slow
@pytest.mark.parametrize("looks", [{"looks_like": True, "ps": 2000}, None])
def test_a_server_that_only_looks_like_ollama_is_not_fitted(logs, looks: dict | None) -> None:
    with FakeOpenAI(ollama=looks) as fake:
        fake.script.extend(reads(3))
        code, events, stderr = run(fake, "--mode", "direct", workspace=logs)
        assert code == 0, stderr
        assert not [e for e in events if e["type"] in ("notice", "condensed")]


@pytest.mark.slow
@pytest.mark.parametrize("how", [("--context-window", "32000"), ("--profile", "big")])
def test_a_window_you_set_wins_over_ollamas(logs, how: tuple[str, str], isolated_env) -> None:
    (isolated_env / "config.toml").write_text("[profiles.big]\ncontext_window = 32000\n")
    with FakeOpenAI(ollama={"ps": 2048}) as fake:
        fake.script.extend(reads(3))
        code, events, stderr = run(fake, "--mode", "direct", *how, workspace=logs)
        assert code == 0, stderr
        assert not [e for e in events if e["type"] in ("notice", "condensed")]
        assert [e["context_window"] for e in events if e["type"] == "usage"][-1] == 32000


@pytest.mark.slow
def test_ollamas_window_from_ps_names_the_model_it_runs(logs) -> None:
    with FakeOpenAI(ollama={"ps": 4096, "num_ctx": 2048}) as fake:
        fake.script.extend(reads(1))
        code, events, stderr = run(fake, "--mode", "direct", workspace=logs)
        assert code == 0, stderr
        notices = [e["message"] for e in events if e["type"] == "notice"]
        assert (
            len(notices) == 1 and "4096-token window (/api/ps" in notices[0] and "OLLAMA_CONTEXT_LENGTH" in notices[0]
        )
        assert [e["context_window"] for e in events if e["type"] == "usage"][-1] == 4096


C = Counts  # told, before, sent, grown, stated, learned


@pytest.mark.parametrize(
    ("counts", "believed"),
    [
        (C(300, None, 6000, 6000, None, None), False),  # low on the first call: a cache-excluded count, say
        (C(300, 280, 6000, 400, None, None), False),  # low twice, not pinned: new tokens only, each call
        (C(300, 300, 6000, 400, None, None), False),  # pinned, but too low to be anyone's window
        (C(2048, 2040, 6000, 500, None, None), False),  # close, not equal: new tokens drift, a cap does not
        (C(0, None, 6000, 6000, None, None), False),  # zero: never a verdict
        (C(3300, None, 6000, 6000, None, None), False),  # another tokenizer: 0.55x
        (C(2048, 2048, 6000, 500, None, None), True),  # pinned at a window while the prompt grew
        (C(2048, 2048, 6000, 50, None, None), False),  # pinned, but the prompt barely grew
        (C(4096, None, 6000, 6000, 4096, None), True),  # at the window the server states
        (C(4000, None, 6000, 6000, 8192, None), False),  # low, but not at the stated window
        (C(2400, None, 5000, 300, None, 2400), True),  # at the window learned from an earlier cut
        (C(5990, 5000, 6000, 1000, 6000, None), False),  # the whole prompt, counted
        (C(800, 800, 900, 200, None, None), False),  # too small a prompt to judge
    ],
)
def test_a_cut_is_believed_only_when_corroborated(counts: Counts, believed: bool) -> None:
    assert believed_cut(counts) is believed
