"""#29 point 2: long sessions stay light. `watch` reads the store only when the session moved and sends nothing
while the page holds the latest state; it reads a long session's tail, not all of it; a resumed session builds only
the blocks it shows; a view of the session holds its record without copying it."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from web_helpers import free_port

from liveplan_tui.agent.conversation import Conversation
from liveplan_tui.agent.view import RecordSnapshot
from liveplan_tui.store import Store, open_store
from liveplan_tui.ui.history import history_blocks, tail_start
from liveplan_tui.ui.widgets.chat import ToolBlock
from liveplan_tui.web import CHAT_MESSAGES, allowed_hosts, watch_app


class CountingStore(Store):
    """The real store, counting how often the watch page's state is read from it."""

    glances = 0

    def glance(self, session_id: str, last: int) -> Any:
        self.glances += 1
        return super().glance(session_id, last)


def long_session(store: Store, turns: int) -> str:
    sid = store.create_session("m", "/w")
    for i in range(turns):
        call = {"id": f"c{i}", "type": "function", "function": {"name": "read_file", "arguments": "{}"}}
        store.add_message(sid, {"role": "user", "content": f"q{i}"})
        store.add_message(sid, {"role": "assistant", "content": None, "tool_calls": [call]})
        store.add_message(sid, {"role": "tool", "tool_call_id": f"c{i}", "content": f"r{i}"})
        store.add_message(sid, {"role": "assistant", "content": f"a{i}"})
    return sid


def test_glance_reads_the_tail_of_the_chat_in_order(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    sid = long_session(store, 50)
    info, board, chat = store.glance(sid, 5)
    assert [m["content"] for m in chat] == ["a47", "q48", "a48", "q49", "a49"]
    assert info.id == sid and board.active.is_empty


def test_watch_reads_the_store_only_when_the_session_moves_and_sends_nothing_while_nothing_did(
    tmp_path: Path,
) -> None:
    store = CountingStore(tmp_path / "sessions.db")
    sid = long_session(store, 300)
    port = free_port()

    async def go() -> None:
        app = watch_app(store, sid, None, allowed_hosts("127.0.0.1", port), port)
        async with TestClient(TestServer(app, host="127.0.0.1", port=port)) as client:
            first = await client.get("/state")
            body, etag = await first.json(), first.headers["ETag"]
            assert first.status == 200 and len(body["chat"]) == CHAT_MESSAGES and body["chat"][-1]["text"] == "a299"
            for _ in range(5):
                idle = await client.get("/state", headers={"If-None-Match": etag})
                assert idle.status == 304 and await idle.read() == b""
            assert store.glances == 1
            store.add_message(sid, {"role": "user", "content": "one more"})
            moved = await client.get("/state", headers={"If-None-Match": etag})
            assert moved.status == 200 and moved.headers["ETag"] != etag
            assert (await moved.json())["chat"][-1]["text"] == "one more" and store.glances == 2
            again = await client.get("/state")  # a page without the ETag (a reload) gets the state
            assert again.status == 200 and store.glances == 2

    asyncio.run(go())


def test_a_resumed_session_builds_only_the_blocks_it_shows() -> None:
    record: list[dict[str, Any]] = []
    for i in range(500):
        call = {"id": f"c{i}", "type": "function", "function": {"name": "read_file", "arguments": "{}"}}
        record += [
            {"role": "user", "content": f"q{i}"},
            {"role": "assistant", "content": None, "tool_calls": [call]},
            {"role": "tool", "tool_call_id": f"c{i}", "content": f"r{i}"},
            {"role": "assistant", "content": f"a{i}"},
        ]
    frozen = tuple(record)
    assert tail_start(frozen, 9) == len(record) - 12  # three turns of three blocks each
    blocks = history_blocks(frozen, lambda name, args: name, 9)
    assert len(blocks) == 9
    tools = [b for b in blocks if isinstance(b, ToolBlock)]
    assert [t.pending_result for t in tools] == [("r497", False), ("r498", False), ("r499", False)]
    assert history_blocks(frozen, lambda name, args: name)[-9:][0].__class__ is blocks[0].__class__


def test_a_views_record_stays_as_it_was_when_taken_without_being_copied() -> None:
    """SessionView.record: the messages as they stood, while the chat goes on and a resume replaces the record."""
    conv = Conversation()
    for n in range(5):
        conv.add({"role": "user", "content": f"q{n}"})
    view = RecordSnapshot(conv.record)
    conv.add({"role": "assistant", "content": "later"})
    assert len(view) == 5 and list(view) == conv.record[:5]
    assert view[-1] == {"role": "user", "content": "q4"} and view[0]["content"] == "q0"
    assert view[1:3] == ({"role": "user", "content": "q1"}, {"role": "user", "content": "q2"})
    assert view[::-2] == tuple(conv.record[:5][::-2]) and view[3:] == tuple(conv.record[3:5])
    assert view == tuple(conv.record[:5]) and view != tuple(conv.record) and view != "abcde"
    with pytest.raises(IndexError):
        view[5]
    with pytest.raises(IndexError):
        view[-6]
    conv.restore([{"role": "user", "content": "another"}], [], "", conv.board)
    assert [m["content"] for m in view] == ["q0", "q1", "q2", "q3", "q4"]
    assert bool(RecordSnapshot([])) is False and {"role": "user", "content": "q2"} in view
