"""Answers a server's elicitations with the official Python MCP client, in both protocol styles.

Usage: elicit_client.py URL

1. A legacy session (`initialize`): calls `approve` three times; the server asks with
   `elicitation/create` during each call, and the client answers accept, decline, then cancel.
   For each request the client records the `traceparent` the server put in its `_meta`.
2. Protocol 2026-07-28 (`server/discover`): calls `confirm` three times; each first round answers
   with an input request, which the client answers accept, decline, then cancel in the
   `inputResponses` of the retry.

Prints one JSON object: the texts of the `approve` results, the traceparents the elicitations
carried, the texts of the retried `confirm` results and whether each first round asked for input.
"""

import asyncio
import json
import sys

from mcp import ClientSession, types
from mcp.client.streamable_http import streamable_http_client

ACTIONS = ["accept", "decline", "cancel"]


def answer(action: str, content: dict) -> types.ElicitResult:
    if action == "accept":
        return types.ElicitResult(action="accept", content=content)
    return types.ElicitResult(action=action)


def text(result) -> str:
    return "".join(getattr(c, "text", "") for c in result.content)


async def legacy(url: str) -> dict:
    actions = list(ACTIONS)
    traceparents = []

    async def elicit(context, params):
        meta = params.meta or {}
        traceparents.append(meta.get("traceparent"))
        return answer(actions.pop(0), {"approve": True})

    async with streamable_http_client(url) as streams:
        read, write = streams[0], streams[1]
        async with ClientSession(read, write, elicitation_callback=elicit) as session:
            await session.initialize()
            texts = []
            for _ in ACTIONS:
                result = await session.call_tool("approve", {"action": "ship"}, read_timeout_seconds=30)
                texts.append(text(result))
    return {"approved": texts, "traceparents": traceparents}


async def modern(url: str) -> dict:
    async with streamable_http_client(url) as streams:
        read, write = streams[0], streams[1]
        info = types.Implementation(name="Python Modern", version="1.0")
        async with ClientSession(read, write, client_info=info) as session:
            await session.discover()
            texts, asked = [], []
            for action in ACTIONS:
                first = await session.call_tool("confirm", {"action": "ship"}, allow_input_required=True)
                asked.append(isinstance(first, types.InputRequiredResult))
                answers = {
                    key: answer(action, {"confirm": True}).model_dump(by_alias=True, exclude_none=True)
                    for key in (first.input_requests or {})
                }
                second = await session.call_tool(
                    "confirm",
                    {"action": "ship"},
                    input_responses=answers,
                    request_state=first.request_state,
                )
                texts.append(text(second))
    return {"confirmed": texts, "asked": asked}


async def run(url: str) -> dict:
    return {**(await legacy(url)), **(await modern(url))}


def main() -> None:
    print(json.dumps(asyncio.run(run(sys.argv[1]))), flush=True)


if __name__ == "__main__":
    main()
