"""The config as text: what `liveplan config show` prints, and the commented file `config init` writes."""

from __future__ import annotations

import json
from pathlib import Path

from .config import Settings, config_path


def effective_config(settings: Settings) -> str:
    """The settings in effect, as TOML, with secrets masked."""
    from .instructions import load
    from .tools.reaper import PARTS, parts_in_force, sandbox_status

    found = load(settings.workspace) if settings.project_instructions else None
    sandboxed = settings.shell_sandbox == "workspace"
    lines = [
        f"# settings in effect (flags > env > {config_path()} > defaults)",
        f"# {sandbox_status(settings.shell_sandbox)}",
        *(
            f"#   {'in force' if held else 'missing '}: {PARTS[name]}"
            for name, held in parts_in_force().items()
            if sandboxed
        ),
        f"# project instructions: {found.describe() if found else 'off (--no-project-instructions)'}",
    ]
    for name, value in settings.model_dump(exclude={"openai_api_key"}).items():
        if name == "api_key":
            value = "[set]" if value else None
        if value is None:
            lines.append(f"# {name} = (unset)")
        elif isinstance(value, dict):
            inner = ", ".join(f"{k} = {json.dumps(v)}" for k, v in value.items())
            lines.append(f"{name} = {{ {inner} }}")
        else:
            lines.append(f"{name} = {json.dumps(value if not isinstance(value, Path) else str(value))}")
    return "\n".join(lines) + "\n"


def config_template() -> str:
    return """# LivePlan configuration. Precedence: flags > environment (LIVEPLAN_*) > this file > defaults.
# Every setting here can also be given as LIVEPLAN_<NAME> in the environment.

# model = "gpt-4.1-mini"
# base_url = "http://localhost:11434/v1"     # any OpenAI-compatible server
# profile = "ollama"                        # pick one of the [profiles] below

# approval = "ask"                          # ask | auto-edit | never-ask
# plan_approval = "auto"                    # ask: review (and edit) each new plan before it runs
# shell_sandbox = "workspace"               # workspace: shell commands write only in the workspace and temp dir
# shell_env_allow = ["GITHUB_TOKEN"]        # secret-looking env vars shell commands may still see
# condense_threshold = 0.8                  # condense near 80% of the context window
# context_window = 32768                    # override the model's window
# theme = "textual-dark"
# keymap = { toggle-plan = "f3" }           # binding id -> keys

# [mcp_servers.docs]                       # an MCP tool server (stdio); its tools are docs__TOOL
# command = "uvx"
# args = ["some-mcp-server"]
# env = { TOKEN_NAME = "..." }
# approval = "ask"                          # or "never-ask" to trust its tools

# [[hooks]]                                 # your command, on a plan or tool event, JSON on stdin
# event = "step_completed"                  # plan_created step_started step_completed plan_finished
#                                           # turn_finished before_tool (exit 2 blocks) after_tool
# command = "notify-send 'LivePlan: step done'"
# timeout = 10

# [profiles.ollama]
# base_url = "http://localhost:11434/v1"
# model = "qwen2.5-coder:7b"
# api_key_env = "OLLAMA_API_KEY"            # the env var that holds this endpoint's key, if it needs one
# context_window = 32768
# tool_mode = "native"                      # native | structured
"""
