"""Drives an MCP server over streamable HTTP with the official Python MCP client.

Usage: client.py URL SCRIPT_JSON

SCRIPT_JSON is a list of calls, each {"tool": name, "arguments": {...}}. The script opens a
session, lists the tools, makes the calls in order and closes the session (DELETE). It prints one
JSON object on stdout: the tool names listed and, for each call, whether it returned a result with
isError, or failed with a JSON-RPC error code.

With OTEL_EXPORTER_OTLP_TRACES_ENDPOINT set, the SDK's client spans (`MCP send tools/call add`)
are exported there as they end, and the SDK writes each one's trace context into the request's
`params._meta`; without it, no trace context is sent.
"""

import asyncio
import json
import os
import sys

if os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": "python-mcp-client"}))
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)

from mcp import ClientSession, MCPError
from mcp.client.streamable_http import streamable_http_client


async def run(url: str, calls: list[dict]) -> dict:
    outcomes = []
    async with streamable_http_client(url) as streams:
        read, write = streams[0], streams[1]
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            tools = await session.list_tools()
            for call in calls:
                try:
                    result = await session.call_tool(
                        call["tool"], call.get("arguments", {}), read_timeout_seconds=30
                    )
                    text = "".join(getattr(c, "text", "") for c in result.content)
                    outcomes.append({"tool": call["tool"], "is_error": bool(result.is_error), "text": text})
                except MCPError as e:
                    outcomes.append({"tool": call["tool"], "error_code": e.code})
    return {
        "server": init.server_info.name,
        "tools": sorted(t.name for t in tools.tools),
        "calls": outcomes,
    }


def main() -> None:
    url, script = sys.argv[1], json.loads(sys.argv[2])
    print(json.dumps(asyncio.run(run(url, script))), flush=True)


if __name__ == "__main__":
    main()
