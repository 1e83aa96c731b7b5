"""Drives an MCP server over streamable HTTP with the official Python MCP client at protocol
2026-07-28: `server/discover` instead of `initialize`, every request self-contained.

Usage: modern_client.py URL

Calls `add`, then `confirm`, which answers with an input request (a multi-round-trip request):
the script answers it and retries with the server's `requestState`. Prints one JSON object:
the negotiated version, the sum, whether the first `confirm` round asked for input, and the text
of the second round.
"""

import asyncio
import json
import sys

from mcp import ClientSession, types
from mcp.client.streamable_http import streamable_http_client


async def run(url: str) -> dict:
    async with streamable_http_client(url) as streams:
        read, write = streams[0], streams[1]
        info = types.Implementation(name="Python Modern", version="1.0")
        async with ClientSession(read, write, client_info=info) as session:
            await session.discover()
            added = await session.call_tool("add", {"a": 20, "b": 22})
            first = await session.call_tool(
                "confirm", {"action": "ship"}, allow_input_required=True
            )
            asked = isinstance(first, types.InputRequiredResult)
            answers = {
                key: {"action": "accept", "content": {"confirm": True}}
                for key in (first.input_requests or {})
            }
            second = await session.call_tool(
                "confirm",
                {"action": "ship"},
                input_responses=answers,
                request_state=first.request_state,
            )
            return {
                "protocol": session.protocol_version,
                "sum": "".join(getattr(c, "text", "") for c in added.content),
                "asked": asked,
                "confirmed": "".join(getattr(c, "text", "") for c in second.content),
            }


def main() -> None:
    print(json.dumps(asyncio.run(run(sys.argv[1]))), flush=True)


if __name__ == "__main__":
    main()
