"""A real stdio MCP server, written with the official SDK, for the tests: a few tools and a few ways to fail.

python tests/mcp_server.py            # serves on stdin/stdout
python tests/mcp_server.py --hang     # never answers the handshake
"""

from __future__ import annotations

import os
import sys
import time

if "--hang" in sys.argv:
    time.sleep(3600)

try:
    from mcp.server.mcpserver import MCPServer
except ImportError:  # the SDK's 1.x name
    from mcp.server.fastmcp import FastMCP as MCPServer  # type: ignore[no-redef, attr-defined]

server = MCPServer("liveplan-test")


@server.tool()
def add(a: int, b: int) -> int:
    """Add two whole numbers."""
    return a + b


@server.tool()
def shout(text: str, times: int = 1) -> str:
    """The text in capitals, repeated `times` times."""
    return " ".join([text.upper()] * times)


@server.tool()
def crash() -> str:
    """Ends the server process at once, as a crashing server would."""
    os._exit(3)


@server.tool()
def stall(seconds: float) -> str:
    """Answers only after `seconds`."""
    time.sleep(seconds)
    return "late"


if __name__ == "__main__":
    server.run()
