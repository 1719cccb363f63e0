"""When and how the agent condenses its context (the I/O half of condense.py).

Before each main-loop call the prompt is estimated from cached per-message
counts, anchored to the server's last reported usage. Over the threshold, old
tool outputs are masked first; if that is not enough, the older messages are
summarized by one tool-less call (deterministic fallback on failure), and the
summary joins the system prompt, below the plan.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..condense import (
    SUMMARY_HEADER,
    fallback_summary,
    mask_tool_outputs,
    recent_user_requests,
    split_point,
    transcript,
    units,
)
from ..config import Settings
from ..events import Condensed
from ..llm.base import LLMError
from ..llm.openai_compat import ChatClient
from ..prompts import load
from ..tokens import LazyCounter, count_tools
from .conversation import Conversation

SUMMARY_TOKENS = 600
NEEDED_WINDOW = 8192  # instructions, tools, the plan and a few files in view
OLLAMA_SMALL = (
    "Ollama runs {model} with a {window}-token window ({source}; its num_ctx), smaller than the ~{needed} LivePlan "
    "needs, so older work is condensed early: raise it (OLLAMA_CONTEXT_LENGTH={needed} on the server, or num_ctx in a "
    "Modelfile), then pass --context-window {needed}"
)
SHARPEN_AT = 0.4  # of the window: from here on, counts are exact


class Condenser:
    def __init__(
        self,
        llm: ChatClient,
        settings: Settings,
        window: int,
        target: Callable[[str, dict[str, Any]], str] | None = None,
        asks: bool = True,
    ):
        self.llm = llm
        self.target = target  # how a tool names what a call acted on, for the fallback summary
        self.window = window
        self.threshold = settings.condense_threshold
        self.enabled = settings.condense
        self.reserve = settings.reply_reserve if settings.reply_reserve is not None else min(4096, window // 4)
        self.calibration = 0
        self.stated_window: int | None = None  # the window the server itself states (Ollama), once asked
        self.window_told = False  # the user was told the window is small, and how to raise it
        self.asks = asks and not settings.context_window  # a flag's, env's or profile's window wins over the server's

    @property
    def limit(self) -> int:
        """The most a prompt may be and still leave room for the reply."""
        return self.window - self.reserve

    def estimate(self, conv: Conversation, system: str, specs: list[dict[str, Any]]) -> int:
        """The prompt's size; estimated cheaply until it nears the budget, then counted exactly."""
        counter = conv.counter
        size = counter.count(system) + count_tools(counter, specs) + conv.total + 3 + max(0, self.calibration)
        if isinstance(counter, LazyCounter) and not counter.sharpened and size > self.window * SHARPEN_AT:
            counter.sharpen()
            conv.recount()
            return self.estimate(conv, system, specs)
        return size

    def observe(self, server_prompt_tokens: int, estimate: int) -> None:
        """Reconcile with the server's exact count: later estimates carry any shortfall.

        Only a server count above ours raises estimates; a lower one never lowers
        them below our own count, so budgeting errs on the safe side.
        """
        self.calibration = max(0, self.calibration) + server_prompt_tokens - estimate

    def needed(self, estimate: int) -> bool:
        return self.enabled and estimate > min(self.threshold * self.window, self.limit)

    async def condense(
        self,
        conv: Conversation,
        system: Callable[[], str],
        specs: list[dict[str, Any]],
        *,
        focus: str = "",
        force: bool = False,
        keep_turn: bool = False,
    ) -> Condensed | None:
        """Shrink `conv` toward half the usable window; None when there is nothing to shrink.

        `keep_turn` (the user's /compact) condenses only what came before the latest turn, which stays whole.
        """
        before = self.estimate(conv, system(), specs)
        if not force and not self.needed(before):
            return None
        fixed = before - conv.total
        target = max(self.limit // 2, 1)
        keep_budget = max(target - fixed - SUMMARY_TOKENS, 0)
        split = split_point(conv.messages, conv.counts, keep_budget)
        if force and split == 0:
            spans = units(conv.messages)
            split = spans[-1][0] if len(spans) > 1 else 0  # asked to condense: keep only the newest unit
        if keep_turn:
            split = min(split, latest_turn(conv.messages))
        masked, n_masked = mask_tool_outputs(conv.messages, conv.counts, split if split else len(conv.messages) - 1)
        if n_masked:
            conv.replace(masked, conv.summary)
            after = self.estimate(conv, system(), specs)
            if after <= target or split == 0:
                return Condensed(
                    replaced_messages=n_masked,
                    tokens_before=before,
                    tokens_after=after,
                    method="masked old tool outputs",
                )
        if split == 0:
            return None
        old, view = conv.messages[:split], conv.messages
        old_tokens = sum(conv.counts[:split]) + conv.counter.count(conv.summary)
        summary, method = await self._summarize(conv, old, focus)
        if conv.messages is not view:  # condensed by someone else while the summary was written: theirs stands
            return None
        kept = conv.messages[split:]  # taken after the summary: what was added meanwhile stays in the view
        if conv.counter.count(summary) >= old_tokens:
            summary, method = self._fallback(old, conv.summary), "truncation (summary was not smaller)"
        requests = recent_user_requests(old)
        if requests:
            summary += "\nThe user's recent words, verbatim:\n" + "\n".join(f"> {r[:500]}" for r in requests)
        previous = conv.summary
        conv.replace(kept, summary)
        after = self.estimate(conv, system(), specs)
        if after >= before:  # a short span's summary (with the user's words) can outweigh it: keep what was there
            conv.replace(view, previous)
            return None
        return Condensed(replaced_messages=len(old), tokens_before=before, tokens_after=after, method=method)

    async def fit_to_server(self, base_url: str | None, model: str) -> str | None:
        """Before the first call: where the server is Ollama, fit to the window it states (and remember it, so a
        count pinned there is believed); the notice, with the fix, when it is smaller than LivePlan needs."""
        from ..llm.ollama import ollama_window

        if not self.asks or not base_url:
            return None
        self.asks = False
        found = await ollama_window(base_url, model)
        if found is None:
            return None
        self.stated_window = found.window
        self.learn_window(found.window)
        if found.window >= NEEDED_WINDOW:
            return None
        self.window_told = True
        return OLLAMA_SMALL.format(model=model, window=found.window, source=found.source, needed=NEEDED_WINDOW)

    def learn_window(self, window: int) -> None:
        """The server named its real window (an overflow error, a truncated prompt): use it from now on."""
        if window >= 256 and window != self.window:
            self.window = window
            if self.reserve >= window // 2:
                self.reserve = max(window // 4, 64)

    def shrink_more(
        self, conv: Conversation, system: Callable[[], str], specs: list[dict[str, Any]]
    ) -> Condensed | None:
        """The last resorts when condensing no longer helps: the biggest tool result left, then the summary.

        None when nothing is left that can shrink.
        """
        before = self.estimate(conv, system(), specs)
        sizes = [(count, i) for i, (m, count) in enumerate(zip(conv.messages, conv.counts, strict=True))]
        tools = [(count, i) for count, i in sizes if conv.messages[i].get("role") == "tool" and count > 64]
        if tools:
            _, i = max(tools)
            text = str(conv.messages[i].get("content") or "")
            cut = text[: len(text) // 3] + "\n[cut to fit the model's context window]"
            messages = [*conv.messages[:i], {**conv.messages[i], "content": cut}, *conv.messages[i + 1 :]]
            conv.replace(messages, conv.summary)
            method = "cut the largest tool result"
        elif conv.counter.count(conv.summary) > 32:
            conv.replace(conv.messages, conv.summary[: len(conv.summary) // 2] + " …")
            method = "shortened the summary"
        else:
            return None
        after = self.estimate(conv, system(), specs)
        return Condensed(replaced_messages=1, tokens_before=before, tokens_after=after, method=method)

    def _fallback(self, old: list[dict[str, Any]], previous: str) -> str:
        return fallback_summary(old, previous, target=self.target) if self.target else fallback_summary(old, previous)

    async def _summarize(self, conv: Conversation, old: list[dict[str, Any]], focus: str) -> tuple[str, str]:
        plan = conv.board.prompt_block() or "(no active plan)"
        previous = f"Previous summary:\n{conv.summary}\n\n" if conv.summary else ""
        ask = f"Focus on: {focus}\n\n" if focus else ""
        messages = [
            {"role": "system", "content": load("condense.md")},
            {
                "role": "user",
                "content": f"{ask}Current plan (for reference only):\n{plan}\n\n"
                f"{previous}Messages to condense:\n{transcript(old)}",
            },
        ]
        try:
            completion = await self.llm.complete(messages, timeout=60, max_attempts=2, max_tokens=SUMMARY_TOKENS)
        except LLMError:
            return self._fallback(old, conv.summary), "truncation (the summary call failed)"
        text = completion.content.strip()
        if not text:
            return self._fallback(old, conv.summary), "truncation (the summary was empty)"
        return text, "summary"


def summary_section(summary: str) -> str:
    return f"{SUMMARY_HEADER}\n{summary}" if summary else ""


def latest_turn(messages: list[dict[str, Any]]) -> int:
    """Where the latest turn starts: its user message (0 when there is none)."""
    return max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=0)
