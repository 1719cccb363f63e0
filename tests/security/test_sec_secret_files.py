"""Secret files are known by what they are: every entry of the one table, in any case, in any folder, and by
content when the name says nothing; search's two backends read neither, whatever the file is called."""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from liveplan_tui.agent.approvals import approval_reason  # noqa: E402
from liveplan_tui.agent.conversation import Conversation  # noqa: E402
from liveplan_tui.plan.keeper import PlanKeeper  # noqa: E402
from liveplan_tui.secret_files import NOT_SECRET, SECRET_FILES, is_secret_name, looks_secret, markdown_table  # noqa: E402
from liveplan_tui.tools import default_tools  # noqa: E402
from liveplan_tui.tools.artifact_store import ArtifactStore  # noqa: E402
from liveplan_tui.tools.base import ToolContext  # noqa: E402
from liveplan_tui.tools.search import SearchParams, SearchTool  # noqa: E402
from liveplan_tui.tools.workspace import Workspace  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent.parent
BACKENDS = [False, pytest.param(True, marks=pytest.mark.skipif(shutil.which("rg") is None, reason="ripgrep missing"))]


def example(glob: str) -> str:
    """A real file name the glob stands for."""
    return re.sub(r"\[(.)[^]]*\]", r"\1", glob).replace("*", "prod")


@pytest.mark.parametrize(("glob", "what"), SECRET_FILES)
def test_each_entry_matches_in_any_case_and_any_folder(glob: str, what: str) -> None:
    name = example(glob)
    for variant in (name, name.upper(), f"deep/down/{name}", f"C:\\Users\\me\\{name.swapcase()}", f"/abs/{name}"):
        assert is_secret_name(variant), (glob, variant)


@pytest.mark.parametrize(
    "name",
    [
        "app.py",
        "README.md",
        "id_generator.py",
        "credentials.py",
        "secrets.py",
        "config.json",
        "config",
        "main.tf",
        "id_ed25519.pub",
        "env.py",
        "environment.yml",
        "keys.md",
        "docs/secret-handling.md",
        "tokenizer.json",
    ],
)
def test_ordinary_files_are_not_secret(name: str) -> None:
    assert not is_secret_name(name)


def test_the_readme_shows_the_same_table() -> None:
    readme = "\n".join(line.strip() for line in (ROOT / "README.md").read_text().splitlines())
    assert markdown_table() in readme
    assert NOT_SECRET == ("*.pub",)


KEYS = {
    "pem-rsa": b"-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\n",
    "pkcs8": b"-----BEGIN PRIVATE KEY-----\nMIIE\n",
    "encrypted": b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIE\n",
    "openssh": b"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n",
    "ec": b"-----BEGIN EC PRIVATE KEY-----\nMHcC\n",
    "pgp": b"-----BEGIN PGP PRIVATE KEY BLOCK-----\nlQOY\n",
    "putty": b"PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\n",
    "service-account": b'{\n  "type": "service_account",\n  "project_id": "p",\n  "private_key_id": "1"\n}',
}


@pytest.mark.parametrize("kind", list(KEYS))
def test_keys_are_known_by_their_content(kind: str) -> None:
    assert looks_secret(KEYS[kind])
    assert not looks_secret(b"-----BEGIN CERTIFICATE-----\nMIIB\n") and not looks_secret(b'{"type": "module"}')


def context(ws: Path) -> ToolContext:
    return ToolContext(plans=PlanKeeper(Conversation()), workspace=Workspace(ws), artifacts=ArtifactStore())


@pytest.mark.parametrize("kind", ["openssh", "service-account", "putty"])
@pytest.mark.parametrize("ripgrep", BACKENDS)
async def test_a_key_saved_under_an_ordinary_name_is_never_searched_and_reading_it_asks(
    tmp_path: Path, kind: str, ripgrep: bool
) -> None:
    (tmp_path / "notes.txt").write_bytes(KEYS[kind] + b"\nneedle\n")
    (tmp_path / "app.py").write_text("needle = 1\n")
    ctx = context(tmp_path)
    for path in (".", "notes.txt"):
        result = await SearchTool(use_ripgrep=ripgrep).run(SearchParams(pattern="needle|PRIVATE|type", path=path), ctx)
        assert "notes.txt:" not in result.text, result.text
    assert (
        "app.py:1: needle = 1" in (await SearchTool(use_ripgrep=ripgrep).run(SearchParams(pattern="needle"), ctx)).text
    )
    tool = default_tools().get("read_file")
    assert tool is not None
    reason = approval_reason("auto-edit", tool, tool.Params.model_validate({"path": "notes.txt"}), ctx)
    assert reason is not None and "secret" in reason


@pytest.mark.parametrize("name", [".ENV", ".Env.Local", "prod.ENV", "Credentials.JSON", "TERRAFORM.TFSTATE"])
@pytest.mark.parametrize("ripgrep", BACKENDS)
async def test_search_skips_secret_names_in_any_case(tmp_path: Path, name: str, ripgrep: bool) -> None:
    (tmp_path / name).write_text("PASSWORD=hunter2\n")
    for path in (".", name):
        result = await SearchTool(use_ripgrep=ripgrep).run(
            SearchParams(pattern="PASSWORD", path=path), context(tmp_path)
        )
        assert "hunter2" not in result.text, result.text


@pytest.mark.parametrize("ripgrep", BACKENDS)
async def test_file_names_with_colons_and_a_single_searched_file_read_unambiguously(
    tmp_path: Path, ripgrep: bool
) -> None:
    (tmp_path / "a:1:b.txt").write_text("x\nneedle here\n")
    (tmp_path / "plain.txt").write_text("needle: 3: odd\n")
    (tmp_path / "7").symlink_to(".env")
    (tmp_path / ".env").write_text("needle=hunter2\n")
    ctx = context(tmp_path)
    everywhere = (await SearchTool(use_ripgrep=ripgrep).run(SearchParams(pattern="needle"), ctx)).text
    assert "a:1:b.txt:2: needle here" in everywhere and "plain.txt:1: needle: 3: odd" in everywhere
    assert "hunter2" not in everywhere
    one = (await SearchTool(use_ripgrep=ripgrep).run(SearchParams(pattern="needle", path="a:1:b.txt"), ctx)).text
    assert one == "a:1:b.txt:2: needle here"
    linked = (await SearchTool(use_ripgrep=ripgrep).run(SearchParams(pattern="needle", path="7"), ctx)).text
    assert "hunter2" not in linked
