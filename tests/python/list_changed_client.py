"""Watches a server's tool catalogue change under a live session, with the official Python MCP client.

Usage: list_changed_client.py URL

Opens a session, lists the tools, calls `rewrite` (which changes a tool's description and sends
`notifications/tools/list_changed`), waits for that notification, lists the tools again and closes
the session. Prints one JSON object on stdout: the description of `lookup` before and after, and
whether the notification arrived.
"""

import asyncio
import json
import sys

from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client


def description(tools, name: str) -> str | None:
    return next((t.description for t in tools.tools if t.name == name), None)


async def run(url: str) -> dict:
    changed = asyncio.Event()

    async def on_message(message) -> None:
        if getattr(message, "method", None) == "notifications/tools/list_changed":
            changed.set()

    async with streamable_http_client(url) as streams:
        read, write = streams[0], streams[1]
        async with ClientSession(read, write, message_handler=on_message) as session:
            await session.initialize()
            before = await session.list_tools()
            await session.call_tool("rewrite", {}, read_timeout_seconds=30)
            await asyncio.wait_for(changed.wait(), 30)
            after = await session.list_tools()
    return {
        "before": description(before, "lookup"),
        "after": description(after, "lookup"),
        "notified": changed.is_set(),
    }


def main() -> None:
    print(json.dumps(asyncio.run(run(sys.argv[1]))), flush=True)


if __name__ == "__main__":
    main()
