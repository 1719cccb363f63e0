"""One confined way to files: the tools, AGENTS.md, undo and rewind never follow a link out of the workspace, at
any component, whatever planted it (an approved command, a cloned repository), and with `force` too."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from attack import SECRET_VALUE, call, exec_attack, make_workspace  # noqa: E402
from conftest import run_cli  # noqa: E402
from fake_openai import FakeOpenAI  # noqa: E402

from liveplan_tui import confined  # noqa: E402
from liveplan_tui.agent.rewind import Change, ChangeLog, FileChange  # noqa: E402
from liveplan_tui.instructions import load  # noqa: E402
from liveplan_tui.plan import LivePlan, PlanBoard, Step, StepStatus  # noqa: E402


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "victim.txt").write_text("precious\n")
    return folder


def plant(ws: Path, rel: str, how: str, outside: Path) -> None:
    """Replace what stands at `rel` the way a command could: a link out, a link into the path, a folder, a FIFO."""
    target = ws / rel
    if target.is_file() or target.is_symlink():
        target.unlink()
    if how == "link-out":
        target.symlink_to(outside / "victim.txt")
    elif how == "dangling-out":
        target.symlink_to(outside / "created-by-rewind.txt")
    elif how == "folder-link":
        sub = ws / rel.split("/")[0]
        for child in sub.iterdir():
            child.unlink()
        sub.rmdir()
        sub.symlink_to(outside)
        (outside / rel.split("/", 1)[1]).write_text("precious\n")
    elif how == "folder":
        target.mkdir()
    elif how == "fifo":
        os.mkfifo(target)


HOW = ["link-out", "dangling-out", "folder-link", "folder", "fifo"]


def a_log(ws: Path) -> tuple[ChangeLog, PlanBoard]:
    (ws / "src").mkdir(parents=True)
    (ws / "src" / "a.txt").write_text("after\n")
    (ws / "b.txt").write_text("after\n")
    plan = LivePlan(goal="g", steps=(Step(id=1, description="one", status=StepStatus.IN_PROGRESS),))
    changes = [
        Change("tool", (FileChange("src/a.txt", b"before\n", b"after\n"),), step=1, goal="g"),
        Change("tool", (FileChange("b.txt", None, b"after\n"),), step=1, goal="g"),
    ]
    return ChangeLog(ws, changes), PlanBoard(active=plan)


@pytest.mark.parametrize("how", HOW)
@pytest.mark.parametrize("force", [False, True])
def test_rewind_refuses_every_file_where_a_link_or_folder_now_stands(
    tmp_path: Path, outside: Path, how: str, force: bool
) -> None:
    ws = tmp_path / "ws"
    log, board = a_log(ws)
    plant(ws, "src/a.txt", how, outside)
    plant(ws, "b.txt", "link-out" if how != "folder-link" else "folder", outside)
    outcome = log.rewind(board, 1, force=force)
    assert not outcome.done and "refused" in outcome.message
    assert "src/a.txt" in outcome.message and "b.txt" in outcome.message  # every file it concerns
    assert (outside / "victim.txt").read_text() == "precious\n"
    assert not (outside / "created-by-rewind.txt").exists()
    assert sorted(p.name for p in outside.iterdir()) in (["victim.txt"], ["a.txt", "victim.txt"])


@pytest.mark.parametrize("how", HOW)
def test_undo_refuses_too(tmp_path: Path, outside: Path, how: str) -> None:
    ws = tmp_path / "ws"
    log, board = a_log(ws)
    plant(ws, "b.txt" if how != "folder-link" else "src/a.txt", how, outside)
    target = "b.txt" if how != "folder-link" else None
    if target is None:  # undo reverts the last change (b.txt): make that one reach through the linked folder
        log.changes[-1] = Change("tool", (FileChange("src/a.txt", b"before\n", b"after\n"),), step=1, goal="g")
    outcome = log.undo(board, force=True)
    assert not outcome.done and "refused" in outcome.message
    assert (outside / "victim.txt").read_text() == "precious\n" and not (outside / "created-by-rewind.txt").exists()


def test_stored_paths_that_climb_out_are_refused(tmp_path: Path, outside: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    board = PlanBoard(active=LivePlan(goal="g", steps=(Step(id=1, description="one", status=StepStatus.IN_PROGRESS),)))
    for rel in ("../outside/victim.txt", str(outside / "victim.txt")):
        log = ChangeLog(ws, [Change("tool", (FileChange(rel, b"x", b"precious\n"),), step=1, goal="g")])
        assert not log.rewind(board, 1, force=True).done
    assert (outside / "victim.txt").read_text() == "precious\n"


@pytest.mark.slow
def test_liveplan_rewind_force_through_a_planted_link_names_the_file(
    fake: FakeOpenAI, tmp_path: Path, outside: Path
) -> None:
    ws = make_workspace(tmp_path / "ws")
    steps = [{"description": "Write it", "status": "in_progress"}]
    fake.script.extend(
        [
            call("update_plan", goal="g", steps=steps),
            call("write_file", path="notes.txt", content="ours\n"),
            call("run_shell", command=f"rm notes.txt && ln -s {outside / 'victim.txt'} notes.txt"),
            {"text": "Done, step 1 is still open."},
            {"text": "Still open."},
        ]
    )
    ran = exec_attack(fake, ws, "--yes", "--mode", "plan", "--sandbox", "off")
    assert (ws / "notes.txt").is_symlink(), ran.stderr
    proc = run_cli("rewind", "1", "--force")
    assert proc.returncode == 1 and "notes.txt (now a link)" in proc.stderr and "Traceback" not in proc.stderr
    assert (outside / "victim.txt").read_text() == "precious\n"


@pytest.mark.parametrize("rel", ["../x", "/etc/passwd", "", ".", "a/../../x"])
def test_paths_that_are_not_inside_are_refused(tmp_path: Path, rel: str) -> None:
    with pytest.raises(confined.ConfinementError):
        confined.write_bytes(tmp_path, rel, b"x")


def test_no_component_may_be_a_link_when_reading_or_writing(tmp_path: Path, outside: Path) -> None:
    (tmp_path / "linked").symlink_to(outside)
    (tmp_path / "file-link").symlink_to(outside / "victim.txt")
    for rel in ("linked/victim.txt", "linked/new.txt"):
        with pytest.raises(confined.ConfinementError):
            confined.write_bytes(tmp_path, rel, b"owned")
    with pytest.raises(confined.ConfinementError):
        confined.read_bytes(tmp_path, "linked/victim.txt")
    with pytest.raises(confined.ConfinementError):
        confined.read_bytes(tmp_path, "file-link")
    confined.write_bytes(tmp_path, "file-link", b"replaced, not followed")
    assert (outside / "victim.txt").read_text() == "precious\n" and not (tmp_path / "file-link").is_symlink()
    assert confined.kind(tmp_path, "linked/victim.txt") == "outside" and confined.kind(tmp_path, "linked") == "link"


def test_write_keeps_the_mode_and_makes_folders(tmp_path: Path) -> None:
    (tmp_path / "run.sh").write_text("old")
    (tmp_path / "run.sh").chmod(0o750)
    confined.write_bytes(tmp_path, "run.sh", b"new")
    confined.write_bytes(tmp_path, "deep/er/new.txt", b"hi")
    assert (tmp_path / "run.sh").stat().st_mode & 0o777 == 0o750 and (tmp_path / "run.sh").read_bytes() == b"new"
    assert (tmp_path / "deep/er/new.txt").read_bytes() == b"hi"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


# -- AGENTS.md ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [".env", ".ENV.production", "config/credentials.json", "keys/deploy.pem", "notes-that-hold-a-key.txt", "OUTSIDE"],
)
def test_an_agents_md_that_is_secret_or_leads_outside_is_skipped_with_a_notice(tmp_path: Path, target: str) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    secret_home = tmp_path / "home" / ".aws"
    secret_home.mkdir(parents=True)
    (secret_home / "credentials").write_text(f"aws_secret_access_key={SECRET_VALUE}\n")
    if target == "OUTSIDE":
        (repo / "AGENTS.md").symlink_to(secret_home / "credentials")
    else:
        real = repo / target
        real.parent.mkdir(parents=True, exist_ok=True)
        body = f"PASSWORD={SECRET_VALUE}\n"
        if target.startswith("notes"):
            body = f"-----BEGIN OPENSSH PRIVATE KEY-----\n{SECRET_VALUE}\n"
        real.write_text(body)
        (repo / "AGENTS.md").symlink_to(real)
    (repo / "pkg").mkdir()
    (repo / "pkg" / "AGENTS.md").write_text("Use tabs.\n")
    found = load(repo / "pkg")
    assert SECRET_VALUE not in found.text and "Use tabs." in found.text
    assert any("AGENTS.md" in n and "skipped" in n for n in found.notices()), found.notices()


def test_agents_md_is_read_only_up_to_its_budget(tmp_path: Path) -> None:
    (tmp_path / "AGENTS.md").write_text("x" * 5_000_000)
    found = load(tmp_path, budget=100)
    assert len(found.text) < 1000 and found.over_budget and found.tokens >= 1_000_000


@pytest.mark.slow
async def test_exec_never_sends_a_linked_secret_agents_md_to_the_model(fake: FakeOpenAI, tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    (ws / "AGENTS.md").symlink_to(".env")
    fake.script.append({"text": "hello"})
    proc = exec_attack(fake, ws)
    assert proc.returncode == 0
    assert SECRET_VALUE not in str(fake.requests) and "skipped" in proc.stderr
