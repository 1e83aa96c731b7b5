"""An MCP server over stdio, built with the official Python SDK (PyPI `mcp`), that exports its
spans over OTLP/HTTP.

Usage: OTEL_EXPORTER_OTLP_ENDPOINT=http://HOST:PORT otel_server.py

The SDK opens a SERVER span for every request and takes its parent from the request's
`params._meta` (`traceparent`, `tracestate`, `baggage`) through the global propagator, which is
W3C trace context and baggage unless OTEL_PROPAGATORS says otherwise. Spans are exported one by
one as they end, so that none is lost when the client closes standard input and the process ends.

Tools:
- `add(a, b)`: the sum, as text.
- `context()`: what the tool sees of the trace, as JSON: the trace id and span id of the current
  span (the SDK's server span), the keys of the request's `_meta`, and the baggage the global
  propagator reads from it. (The SDK makes the extracted span the parent of its server span, but
  does not make the extracted baggage current, so the tool reads it from `_meta` itself.)
- `fail()`: raises, which the SDK answers with a tool error (`isError: true`).
"""

import json

from opentelemetry import baggage, propagate, trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

# The tracer provider goes in before the SDK asks for its tracer.
provider = TracerProvider(resource=Resource.create({"service.name": "python-mcp-server"}))
provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter()))
trace.set_tracer_provider(provider)

from mcp.server.mcpserver import Context, MCPServer  # noqa: E402

server = MCPServer("python-otel-server")


@server.tool()
def add(a: int, b: int) -> str:
    """Adds two integers."""
    return str(a + b)


@server.tool()
def context(ctx: Context) -> str:
    """The trace context and baggage this tool runs in."""
    span = trace.get_current_span().get_span_context()
    meta = dict(ctx.request_context.meta or {})
    sent = baggage.get_all(propagate.extract(meta))
    return json.dumps(
        {
            "trace_id": format(span.trace_id, "032x"),
            "span_id": format(span.span_id, "016x"),
            "meta_keys": sorted(meta),
            "baggage": {k: str(v) for k, v in sent.items()},
        }
    )


@server.tool()
def fail() -> str:
    """Always fails."""
    raise RuntimeError("this tool always fails")


if __name__ == "__main__":
    try:
        server.run("stdio")
    finally:
        provider.shutdown()
