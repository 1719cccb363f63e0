"""Long replies and long sessions stay light: segments, a widget budget, and full collections held for quiet.

Speed itself is measured in bench/keystrokes.py; these hold the mechanisms that make it.
"""

from __future__ import annotations

import gc
import html
import random
import re
from pathlib import Path

import pytest
from fake_openai import FakeOpenAI
from textual import events
from textual._context import active_message_pump
from textual.message import Message
from tui_helpers import make_app, submit, wait_for

from liveplan_tui.agent.session import Session
from liveplan_tui.config import load_settings, resolve_endpoint
from liveplan_tui.plan import LivePlan, PlanBoard, PlanUpdate, apply
from liveplan_tui.store import open_store
from liveplan_tui.ui.app import LivePlanApp
from liveplan_tui.ui.idle_gc import LONGEST, QUIET, IdleCollector
from liveplan_tui.ui.segments import SEGMENT_CHARS, cut_point, open_fence, starts_paragraph
from liveplan_tui.ui.widgets.chat import FIRST_SCREEN, HISTORY_CHUNK, PRUNE_EVERY, WIDGET_BUDGET, ToolBlock, UserBlock
from liveplan_tui.ui.widgets.reply import AssistantBlock, HistoryReply

pytestmark = pytest.mark.slow  # long-session stress: thousands of blocks and segments through the real widgets

PIECES = [
    "A paragraph about the plan and its steps, long enough to wrap once or twice.\n\n",
    "- one\n- two\n- three\n\n",
    "```python\ndef f(x):\n\n    return x\n```\n\n",
    "~~~\nraw\n\n~~~\n\n",
    "1. first\n\n   still the first item\n2. second\n\n",
    "    indented code\n\n    more code\n\n",
    "| a | b |\n|---|---|\n| 1 | 2 |\n\n",
    "## A heading\n\n",
]


def long_reply(rng: random.Random, size: int) -> str:
    text = ""
    while len(text) < size:
        text += rng.choice(PIECES)
    return text


def segments_of(text: str, rng: random.Random) -> list[str]:
    """Stream `text` in random fragments through cut_point, as the renderer does."""
    segments, i = [""], 0
    while i < len(text):
        fragment = text[i : i + rng.randint(1, 90)]
        i += len(fragment)
        at = cut_point(segments[-1], fragment)
        if at is None:
            segments[-1] += fragment
        else:
            segments[-1] += fragment[:at]
            segments.append(fragment[at:])
    return segments


@pytest.mark.parametrize("seed", range(30))
def test_segments_join_to_the_reply_and_each_cut_is_safe(seed: int) -> None:
    rng = random.Random(seed)
    text = long_reply(rng, rng.randint(SEGMENT_CHARS, 6 * SEGMENT_CHARS))
    segments = segments_of(text, rng)
    assert "".join(segments) == text
    assert len(segments) >= 2 or len(text) < 2 * SEGMENT_CHARS
    for before, after in zip(segments, segments[1:], strict=False):
        assert before.endswith("\n\n") and not open_fence(before)
        assert starts_paragraph(after)  # never a list, heading, table, fence, quote, code or a continuation
        assert len(before) >= SEGMENT_CHARS - 90


def test_a_short_reply_or_one_inside_a_fence_is_never_cut() -> None:
    assert cut_point("", "short\n\nreply") is None
    fenced = "```\n" + "code line\n\n" * SEGMENT_CHARS
    assert cut_point(fenced, "more\n\nstill code\n") is None
    assert cut_point(fenced, "```\n\nAfter the fence.") is not None


async def test_a_long_reply_streams_in_segments_within_the_widget_budget(fake: FakeOpenAI) -> None:
    text = long_reply(random.Random(7), 12 * SEGMENT_CHARS)
    fake.script.append({"text": text, "chunk": 40})
    app = make_app(fake.base_url, mode="direct")
    async with app.run_test(size=(120, 40)) as pilot:
        await submit(pilot, "write a long answer")
        await wait_for(pilot, lambda: not app.turn_running, timeout=60)
        await pilot.pause(3 * PRUNE_EVERY)
        replies = [b for b in app.chat.children if isinstance(b, AssistantBlock)]
        assert replies and replies[-1].has_class("continued")  # older segments made way under the budget
        shown = "".join(r.text for r in replies)
        assert text.endswith(shown) and len(shown) >= SEGMENT_CHARS // 2
        assert within_budget(app.chat)
        assert app.session.conv.messages[-1]["content"] == text  # the session keeps it all


async def test_a_cut_stream_removes_every_segment_of_the_void_reply(fake: FakeOpenAI) -> None:
    text = long_reply(random.Random(3), 4 * SEGMENT_CHARS)
    fake.script.extend([{"text": text, "chunk": 40, "cut_after": 90}, {"text": "Retried answer."}])
    app = make_app(fake.base_url, mode="direct")
    async with app.run_test(size=(120, 40)) as pilot:
        await submit(pilot, "write a long answer")
        await wait_for(pilot, lambda: not app.turn_running, timeout=60)
        replies = [b for b in app.chat.children if isinstance(b, AssistantBlock)]
        assert [r.text for r in replies] == ["Retried answer."]


async def test_the_widget_budget_drops_the_oldest_blocks_first(fake: FakeOpenAI) -> None:
    app = make_app(fake.base_url)
    async with app.run_test(size=(120, 40)) as pilot:
        for i in range(40):
            await app.chat.add(HistoryReply(f"reply {i}\n\n- a\n- b\n\n```\ncode\n```"))
            await app.chat.add(UserBlock(f"message {i}"))
        await pilot.pause(0.2)
        await app.chat.prune()
        blocks = list(app.chat.children)
        assert within_budget(app.chat)
        assert str(blocks[-1].render()) == "message 39" and len(blocks) < 80
        assert sum(b.outer_size.height for b in blocks) >= 2 * app.chat.size.height  # two screens to read back


def within_budget(chat) -> bool:
    """At most WIDGET_BUDGET widgets mounted, unless dropping the oldest block would leave less than two screens."""
    blocks = list(chat.children)
    mounted = sum(1 + len(list(b.walk_children())) for b in blocks)
    lines = sum(b.outer_size.height for b in blocks[1:])
    return mounted <= WIDGET_BUDGET or len(blocks) == 1 or lines < 2 * max(chat.size.height, 20)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def full_collections(action) -> int:
    seen: list[int] = []

    def watch(phase: str, info: dict) -> None:
        if phase == "start" and info["generation"] == 2:
            seen.append(1)

    gc.callbacks.append(watch)
    try:
        action()
    finally:
        gc.callbacks.remove(watch)
    return len(seen)


def make_due() -> None:
    for _ in range(40):  # young collections pile up as the default schedule counts them
        gc.collect(1)


def test_full_collections_wait_for_a_quiet_moment_but_never_too_long() -> None:
    clock = Clock()
    collector = IdleCollector(clock)
    collector.start()
    try:
        assert gc.get_threshold()[2] > 10_000 and gc.get_freeze_count() > 0
        make_due()
        collector.typed()
        assert full_collections(collector.tick) == 0  # typing: held
        clock.now += QUIET
        assert full_collections(collector.tick) == 1  # quiet: run
        assert full_collections(collector.tick) == 0  # and not again until due
        make_due()
        last = clock.now
        for _ in range(int(2 * LONGEST / QUIET) + 4):
            clock.now += QUIET / 2
            collector.typed()
            ran = full_collections(collector.tick)
            if ran:
                break
        assert ran == 1 and LONGEST <= clock.now - last <= LONGEST + QUIET  # typing without pause still gets one
    finally:
        collector.stop()
    assert gc.get_threshold()[2] < 10_000 and gc.get_freeze_count() == 0


def screen_rows(svg: str) -> list[str]:
    """The text of a screenshot, row by row (the scrollbar column left out: its thumb depends on the height)."""
    rows: dict[float, str] = {}
    for _, y, text in re.findall(r'<text class="[^"]*" x="([0-9.]+)" y="([0-9.]+)"[^>]*>([^<]*)</text>', svg):
        rows[float(y)] = rows.get(float(y), "") + html.unescape(text).replace("\xa0", " ")
    return [rows[y].rstrip(" ▁▂▃▄▅▆▇█") for y in sorted(rows)]


@pytest.mark.parametrize("seed", [5, 11, 12])
async def test_a_reply_in_segments_looks_exactly_like_one_reply(seed: int) -> None:
    from textual.app import App
    from textual.containers import VerticalScroll
    from textual.widgets import Markdown

    import liveplan_tui.ui.app as ui_app

    text = long_reply(random.Random(seed), 4 * SEGMENT_CHARS)
    segments = segments_of(text, random.Random(seed))
    assert len(segments) >= 3

    class Shot(App):
        CSS_PATH = str(Path(ui_app.__file__).with_name("app.tcss"))

        def __init__(self, blocks: list[Markdown]):
            super().__init__()
            self.blocks = blocks

        def compose(self):
            yield VerticalScroll(*self.blocks)

    shots = []
    for blocks in (
        [Markdown(text, classes="block assistant")],
        [Markdown(s, classes="block assistant" + (" continued" if i else "")) for i, s in enumerate(segments)],
    ):
        app = Shot(blocks)
        async with app.run_test(size=(90, 500)) as pilot:
            await pilot.pause(0.5)
            shots.append(screen_rows(app.export_screenshot()))
    assert shots[0] == shots[1]


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        ("A paragraph.", True),
        ("2024 was a year", True),
        ("*emphasis* first", True),
        ("'quoted' text", True),
        ("Short.\n", True),
        ("1", False),
        ("A paragrap", False),
        ("- item", False),
        ("* item", False),
        ("+ item", False),
        ("1. item", False),
        ("12) item", False),
        ("# Heading", False),
        ("| a | b |", False),
        ("> quote", False),
        ("```py", False),
        ("~~~", False),
        ("    code", False),
        ("\tcode", False),
        ("---", False),
        ("***", False),
        ("<div>", False),
        ("", False),
    ],
)
def test_only_a_plain_paragraph_may_start_a_segment(text: str, plain: bool) -> None:
    assert starts_paragraph(text) is plain


async def test_blocks_the_user_reads_back_stay_until_a_ceiling(fake: FakeOpenAI) -> None:
    from liveplan_tui.ui.widgets.chat import READING_BACK

    def weight(app) -> int:
        return sum(1 + len(list(b.walk_children())) for b in app.chat.children)

    app = make_app(fake.base_url)
    async with app.run_test(size=(120, 40)) as pilot:
        for i in range(12):
            await app.chat.add(HistoryReply(f"reply {i}\n\n- a\n- b\n\n```\ncode\n```"))
        await pilot.pause(0.3)
        app.chat.scroll_home(animate=False)
        await pilot.pause(0.2)
        oldest = app.chat.children[0]
        for i in range(12):  # more than the budget, well under the ceiling
            await app.chat.add(UserBlock(f"while reading {i}"))
            await app.chat.add(HistoryReply(f"more {i}\n\n- a\n- b"))
        await pilot.pause(2 * PRUNE_EVERY)
        assert app.chat.reading_back and oldest in app.chat.children
        assert WIDGET_BUDGET < weight(app) <= READING_BACK * WIDGET_BUDGET
        app.chat.scroll_end(animate=False)
        await pilot.pause(3 * PRUNE_EVERY)
        assert not app.chat.reading_back and oldest not in app.chat.children and within_budget(app.chat)


async def test_a_resumed_long_session_shows_its_plan_and_newest_messages_first(tmp_path: Path) -> None:
    """2,000 messages and a finished plan: the plan and the newest blocks are mounted at once, the older ones only
    while the chat is under its budget, and each resumed call shows its result."""
    store = open_store(tmp_path)
    sid = store.create_session("fake-model", str(tmp_path))
    steps = [{"description": f"Step {n}", "status": "completed", "result": f"done {n}"} for n in range(1, 4)]
    plan = apply(LivePlan(), PlanUpdate.model_validate({"goal": "A long job", "steps": steps}))
    store.save_board(sid, PlanBoard(archived=(plan,)))
    for i in range(500):
        call = {"id": f"c{i}", "type": "function", "function": {"name": "read_file", "arguments": '{"path": "a.py"}'}}
        store.add_message(sid, {"role": "user", "content": f"question {i}"})
        store.add_message(sid, {"role": "assistant", "content": None, "tool_calls": [call]})
        store.add_message(sid, {"role": "tool", "tool_call_id": f"c{i}", "content": f"result {i}"})
        store.add_message(sid, {"role": "assistant", "content": f"answer {i}"})
    settings = load_settings(base_url="http://127.0.0.1:9/v1", model="fake-model", workspace=str(tmp_path))

    def resumed(approver, reviewer) -> Session:
        session = Session(settings, resolve_endpoint(settings), approver=approver, plan_reviewer=reviewer)
        session.resume_saved(store, sid)
        return session

    mounted: list[str] = []  # the questions, in the order their blocks were mounted

    def on_message(message: Message) -> None:
        if isinstance(message, events.Mount) and isinstance(block := active_message_pump.get(), UserBlock):
            mounted.append(block.text)

    app = LivePlanApp(resumed)
    async with app.run_test(size=(120, 40), message_hook=on_message) as pilot:
        await wait_for(pilot, lambda: any(isinstance(b, HistoryReply) for b in app.chat.children), timeout=30)
        assert app.plan_panel.plan.goal == "A long job" and app.plan_panel.finished
        await pilot.pause(0.5)
        blocks = list(app.chat.children)
        replies = [b.text for b in blocks if isinstance(b, HistoryReply)]
        asked = [str(b.render()) for b in blocks if isinstance(b, UserBlock)]
        assert replies[-1] == "answer 499" and asked[-1] == "question 499"
        assert "question 0" not in asked and len(asked) > 5  # the newest, and more than the first screen's worth
        assert [int(a.split()[1]) for a in asked] == list(range(500 - len(asked), 500))  # in order, none skipped
        first_screen = sorted(mounted[: FIRST_SCREEN // 3], key=lambda q: int(q.split()[1]))
        assert first_screen[-1] == "question 499"  # the newest blocks were mounted first
        assert len(mounted) <= len(asked) + HISTORY_CHUNK  # older ones only while under budget, not mounted to go
        tools = [b for b in blocks if isinstance(b, ToolBlock)]
        assert tools and all(t.title.startswith("✔") and "running" not in t.classes for t in tools)
        assert within_budget(app.chat)
