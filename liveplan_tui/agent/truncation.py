"""Whether a server cut the prompt without saying so: its usage count is a hint, never a verdict on its own. Pure.

Servers report prompt counts that are far below what was sent without cutting anything: Ollama 0.30.x counted only
the tokens it did not take from its cache (ollama #16414, fixed in #16428), older Ollama and some gateways say 0 for
a cached prompt (ollama #5370, #2068), and other tokenizers count differently. A low count is believed only when
something corroborates it: the same count pinned across calls while the prompt grew, a count at the window the
server states (Ollama's `/api/ps`, `/api/show`), or at the window LivePlan already learned from it. In doubt, go on.
"""

from __future__ import annotations

from dataclasses import dataclass

PINNED_AT_LEAST = 512  # a window is never smaller; counts of a few new tokens each call may repeat by chance
TOO_SMALL = (
    "{where} cuts prompts to {window} tokens, too few for LivePlan's instructions and tools even condensed: "
    "raise the server's context window (Ollama: OLLAMA_CONTEXT_LENGTH or num_ctx)"
)
TRUNCATED = (
    "the server kept {kept} of the ~{sent} prompt tokens it was sent, without an error (Ollama's num_ctx does this): "
    "LivePlan now fits requests to {window} tokens; raise the server's window (Ollama: OLLAMA_CONTEXT_LENGTH or "
    "num_ctx) and pass --context-window to use more"
)


@dataclass(frozen=True)
class Counts:
    told: int  # the server's prompt count, cached tokens added where it sends them
    before: int | None  # its count on the previous call
    sent: int  # LivePlan's own count of what it sent
    grown: int  # how much the prompt grew since the previous call
    stated: int | None  # the window the server states, if it does
    learned: int | None  # the window LivePlan learned from an earlier cut


def believed_cut(c: Counts) -> bool:
    """A cut prompt, corroborated; a low count alone (any reason above) is not one."""
    if c.sent <= 1000 or c.told >= c.sent - 2:
        return False
    pinned = c.before is not None and abs(c.told - c.before) <= 2 and c.grown > 100  # a cap is exact; counts of new
    # tokens (a cache-excluded count) drift with what each call adds
    at_stated = c.stated is not None and abs(c.told - c.stated) <= 2
    at_learned = c.learned is not None and c.told >= c.learned - 2
    return (pinned and c.told >= PINNED_AT_LEAST) or at_stated or at_learned
