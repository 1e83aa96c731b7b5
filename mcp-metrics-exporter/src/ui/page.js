// The live page's script: fetches ui.json every two seconds and writes it into the page with
// textContent only, so no value from the server is ever parsed as HTML.
"use strict";

const REFRESH_MS = 2000;
// Relative to the page, without any user:password of the page's address (fetch refuses those);
// the browser resends the credentials it signed in with.
const DATA_URL = new URL("ui.json", location.origin + location.pathname);

const byId = (id) => document.getElementById(id);
const NONE = "–";

/** Three significant digits, never in exponent notation. */
function sig3(x) {
  return Math.abs(x) >= 999.5 ? x.toFixed(0) : x.toPrecision(3);
}

function rate(v) {
  if (v == null) return NONE;
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

function ratio(v) {
  return v == null ? NONE : (v * 100).toFixed(2) + " %";
}

function seconds(v) {
  if (v == null) return NONE;
  return v * 1000 < 999.5 ? sig3(v * 1000) + " ms" : sig3(v) + " s";
}

function duration(s) {
  if (s < 60) return s.toFixed(1) + " s";
  const m = Math.floor(s / 60);
  if (m < 60) return m + " min " + Math.floor(s % 60) + " s";
  return Math.floor(m / 60) + " h " + (m % 60) + " min";
}

/** A table cell with `text`, tagged with its field name `key`; `level` colours it. */
function cell(key, text, level) {
  const td = document.createElement("td");
  td.dataset.k = key;
  td.textContent = text;
  if (level) td.className = level;
  return td;
}

function errorCells(stats) {
  return [
    cell("server-errors", ratio(stats.server_error_ratio), stats.server_error_ratio > 0 ? "bad" : ""),
    cell("client-errors", ratio(stats.client_error_ratio), stats.client_error_ratio > 0 ? "warn" : ""),
  ];
}

function latencyCells(stats) {
  return ["p50", "p95", "p99"].map((q) => cell(q, seconds(stats[q])));
}

function row(key, cells) {
  const tr = document.createElement("tr");
  tr.dataset.key = key;
  tr.append(...cells);
  return tr;
}

function fill(tableId, rows, emptyText) {
  const body = byId(tableId).tBodies[0];
  if (rows.length) {
    body.replaceChildren(...rows);
    return;
  }
  const td = document.createElement("td");
  td.colSpan = byId(tableId).tHead.rows[0].cells.length;
  td.className = "empty";
  td.textContent = emptyText;
  const tr = document.createElement("tr");
  tr.append(td);
  body.replaceChildren(tr);
}

/** A row of the tools or clients table: the name, the stats, and the row's gauge cell. */
function statsRow(name, s, gauge) {
  return row(name, [
    cell("name", name),
    cell("calls", String(s.calls)),
    cell("per-second", rate(s.per_second)),
    ...errorCells(s),
    ...latencyCells(s),
    gauge,
  ]);
}

function toolRow(t) {
  return statsRow(t.tool, t, cell("in-flight", String(t.in_flight), t.in_flight > 0 ? "busy" : ""));
}

function clientRow(c) {
  return statsRow(c.client_name, c, cell("sessions", String(c.sessions)));
}

function recentRow(r, now) {
  const ended = new Date(r.time * 1000).toLocaleTimeString();
  const ago = Math.max(0, Math.round(now - r.time));
  return row(r.trace_id, [
    cell("ended", ended + " (" + ago + " s ago)"),
    cell("tool", r.tool),
    cell("outcome", r.outcome),
    cell("error-type", r.error_type ?? ""),
    cell("fault", r.fault ?? ""),
    cell("seconds", seconds(r.seconds)),
    cell("trace-id", r.trace_id, "id"),
    cell("span-id", r.span_id, "id"),
    cell("reason", r.reason, r.reason === "failed" ? "bad" : "warn"),
  ]);
}

function render(d) {
  if (d.service) {
    byId("service").textContent = d.service;
    document.title = d.service + " · live";
  }
  byId("version").textContent = d.version ?? "";
  const window = d.window_from_start
    ? "since the start, " + duration(d.window_seconds) + " ago"
    : "over the last " + duration(d.window_seconds);
  byId("status").textContent = "Updated " + new Date(d.time * 1000).toLocaleTimeString() +
    " · rates and latencies " + window + " · up " + duration(d.uptime_seconds);
  byId("status").dataset.window = d.window_from_start ? "start" : "recent";
  byId("calls-per-second").textContent = rate(d.total.per_second);
  byId("server-errors").textContent = ratio(d.total.server_error_ratio);
  byId("client-errors").textContent = ratio(d.total.client_error_ratio);
  byId("p95").textContent = seconds(d.total.p95);
  byId("in-flight").textContent = String(d.in_flight);
  byId("sessions").textContent = String(d.sessions);
  const dropped = byId("dropped");
  dropped.hidden = d.dropped_series === 0;
  dropped.textContent = d.dropped_series + " series refused by the exporter's series limit: " +
    "calls on them are in no table (see mcp_metrics_dropped_series_total).";
  fill("tools", d.tools.map(toolRow), "No tool has been called yet.");
  fill("clients", d.clients.map(clientRow), "No request yet.");
  fill("recent", d.recent.map((r) => recentRow(r, d.time)),
    "No slow or failed call with a trace yet (exemplars need sampled OpenTelemetry spans).");
}

async function refresh() {
  const problem = byId("problem");
  try {
    const response = await fetch(DATA_URL, { cache: "no-store", credentials: "same-origin" });
    if (!response.ok) throw new Error("HTTP " + response.status + " from " + DATA_URL.pathname);
    render(await response.json());
    problem.hidden = true;
  } catch (e) {
    problem.textContent = "Not refreshed: " + e.message;
    problem.hidden = false;
  }
}

async function loop() {
  if (document.hidden) {
    document.addEventListener("visibilitychange", loop, { once: true });
    return;
  }
  await refresh();
  setTimeout(loop, REFRESH_MS);
}

loop();
