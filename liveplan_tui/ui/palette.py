"""The command palette's slash commands, from the same registry as /help and the completer."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from .. import commands
from .widgets.prompt import PromptInput


class SlashCommandProvider(Provider):
    """Slash commands in the command palette, from the same registry as /help."""

    def _insert(self, usage: str) -> None:
        for prompt in self.screen.query(PromptInput):  # the screen the palette was opened from
            prompt.take_command(usage)

    async def discover(self) -> Hits:
        for usage, text in commands.usage_lines():
            yield DiscoveryHit(usage, partial(self._insert, usage), help=text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for usage, text in commands.usage_lines():
            score = matcher.match(usage)
            if score > 0:
                yield Hit(score, matcher.highlight(usage), partial(self._insert, usage), help=text)
