"""The reference for the TUI's time to interactive: a Textual app with one focused Input and nothing else."""

from textual.app import App, ComposeResult
from textual.widgets import Input


class Minimal(App[None]):
    def compose(self) -> ComposeResult:
        yield Input(placeholder="type here")


if __name__ == "__main__":
    Minimal().run()
