// The daemon's live page: every parent with its filled-vs-schedule line, live from /v1/events.
// No build step, no library. The API token lives in this tab's sessionStorage and is sent only in
// the Authorization header (EventSource cannot send headers, so the stream is read with fetch).
"use strict";

const TOKEN_KEY = "twap-engine-api-token";
const SVG = "http://www.w3.org/2000/svg";
const CHART = { width: 260, height: 56, pad: 3 };
const FINAL = new Set(["completed", "cancelled", "failed", "expired", "held"]);

const parents = new Map(); // parent_id -> { view, history: [[unixSeconds, filled]] }
let streamAbort = null;
let retryTimer = null;

const $ = (id) => document.getElementById(id);

function token() { return sessionStorage.getItem(TOKEN_KEY); }

function headers() { return { Authorization: `Bearer ${token()}` }; }

function setConnection(state, text) {
  const badge = $("connection");
  badge.dataset.state = state;
  badge.textContent = text;
}

function showLogin(message) {
  stopStream();
  $("board").hidden = true;
  $("logout").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = message || "";
  setConnection("idle", "not connected");
  $("token").focus();
}

function showBoard() {
  $("login").hidden = true;
  $("board").hidden = false;
  $("logout").hidden = false;
}

// --- data ---------------------------------------------------------------------------------------

function historyFromReport(view) {
  // A parent first seen final: its filled line from the report's slices. Report times are on the
  // engine's clock; its start is the parent's creation.
  const report = view.report;
  if (!report || !Array.isArray(report.slices)) return [[view.created_at, 0]];
  const offset = view.created_at - report.started_at;
  const points = [[view.created_at, 0]];
  let filled = 0;
  for (const line of report.slices) {
    if (line.sent_at === null || line.sent_at === undefined) continue;
    const at = line.sent_at + offset;
    points.push([at, filled]);
    filled += Number(line.filled_quantity);
    points.push([at, filled]);
  }
  const end = report.ended_at + offset;
  points.push([end, filled], [end, Number(view.filled)]);
  return points;
}

function apply(view, at) {
  let entry = parents.get(view.parent_id);
  if (!entry) {
    // First seen: a final parent's line comes from its report; a working one's fills so far are
    // drawn as one straight segment (what happened before is not known here).
    const history = view.is_final
      ? historyFromReport(view)
      : [[view.created_at, 0], [Math.max(at, view.created_at), Number(view.filled)]];
    entry = { view, history, fromReport: Boolean(view.is_final && view.report) };
    parents.set(view.parent_id, entry);
    render(entry);
    return;
  }
  // Views can arrive out of order (a cancel's answer after the stream's final event): a parent
  // never goes back from final, nor its filled quantity down.
  const stale = (entry.view.is_final && !view.is_final) || Number(view.filled) < Number(entry.view.filled);
  if (stale) return;
  entry.view = view;
  if (view.is_final && view.report && !entry.fromReport) {
    entry.history = historyFromReport(view); // the report knows each slice's fills
    entry.fromReport = true;
  } else {
    const filled = Number(view.filled);
    const last = entry.history[entry.history.length - 1];
    const when = Math.max(at, last[0]);
    if (filled !== last[1]) {
      entry.history.push([when, last[1]], [when, filled]); // a step: fills arrive at an instant
    } else if (when > last[0]) {
      entry.history.push([when, filled]);
    }
  }
  render(entry);
}

async function loadParents() {
  const response = await fetch("/v1/parents", { headers: headers() });
  if (response.status === 401) throw new Error("unauthorized");
  if (!response.ok) throw new Error(`GET /v1/parents answered ${response.status}`);
  const body = await response.json();
  const now = Date.now() / 1000;
  for (const view of body.parents) apply(view, view.is_final ? view.deadline_at : now);
}

async function cancelParent(parentId, button) {
  button.disabled = true;
  button.textContent = "Cancelling…";
  const response = await fetch(`/v1/parents/${encodeURIComponent(parentId)}/cancel`, {
    method: "POST", headers: headers(),
  });
  if (response.status === 401) return showLogin("The token was refused.");
  if (response.ok) apply(await response.json(), Date.now() / 1000);
}

// --- the stream ---------------------------------------------------------------------------------

function handleEvent(name, data) {
  const payload = JSON.parse(data);
  if (name === "snapshot") {
    const now = Date.now() / 1000;
    for (const view of payload.parents) apply(view, now);
  } else if (payload.parent) {
    apply(payload.parent, payload.timestamp);
  }
}

async function readStream(signal) {
  const response = await fetch("/v1/events", { headers: headers(), signal });
  if (response.status === 401) { showLogin("The token was refused."); return; }
  if (!response.ok || !response.body) throw new Error(`GET /v1/events answered ${response.status}`);
  setConnection("live", "live");
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let name = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) name = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
      }
      if (data.length) handleEvent(name, data.join("\n"));
    }
  }
}

function stopStream() {
  if (retryTimer) { clearTimeout(retryTimer); retryTimer = null; }
  if (streamAbort) { streamAbort.abort(); streamAbort = null; }
}

function follow() {
  stopStream();
  const controller = new AbortController();
  streamAbort = controller;
  readStream(controller.signal)
    .catch(() => undefined)
    .finally(() => {
      if (controller.signal.aborted || streamAbort !== controller || !token()) return;
      setConnection("retrying", "reconnecting…");
      retryTimer = setTimeout(follow, 2000);
    });
}

async function start() {
  if (!token()) { showLogin(""); return; }
  try {
    await loadParents();
  } catch (error) {
    if (error.message === "unauthorized") {
      sessionStorage.removeItem(TOKEN_KEY);
      showLogin("The token was refused.");
    } else {
      showLogin(`The daemon did not answer: ${error.message}`);
    }
    return;
  }
  showBoard();
  follow();
}

// --- drawing ------------------------------------------------------------------------------------

function svgElement(name, attributes) {
  const element = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  return element;
}

function scheduleSteps(view) {
  // Slice i goes at created_at + i × interval, each a num_slices-th of the quantity.
  const quantity = Number(view.quantity);
  const step = quantity / view.num_slices;
  const points = [[view.created_at, 0]];
  for (let i = 0; i < view.num_slices; i++) {
    const at = view.created_at + i * view.interval_seconds;
    points.push([at, i * step], [at, (i + 1) * step]);
  }
  points.push([view.deadline_at, quantity]);
  return points;
}

function drawChart(entry) {
  const { view, history } = entry;
  const quantity = Math.max(Number(view.quantity), 1e-12);
  const lastSeen = history[history.length - 1][0];
  const nowSeconds = FINAL.has(view.state) ? lastSeen : Math.max(Date.now() / 1000, lastSeen);
  const start = view.created_at;
  const end = Math.max(view.deadline_at, nowSeconds, start + 1e-6);
  const { width, height, pad } = CHART;
  const x = (t) => (pad + ((t - start) / (end - start)) * (width - 2 * pad)).toFixed(1);
  const y = (q) => (height - pad - (Math.min(q, quantity) / quantity) * (height - 2 * pad)).toFixed(1);
  const line = (points) => points.map(([t, q]) => `${x(t)},${y(q)}`).join(" ");
  const svg = svgElement("svg", {
    class: "chart", width, height, viewBox: `0 0 ${width} ${height}`, role: "img",
    "aria-label": `filled ${view.filled} of ${view.quantity} against the schedule`,
  });
  if (!FINAL.has(view.state)) {
    svg.append(svgElement("line", { class: "now", x1: x(nowSeconds), x2: x(nowSeconds), y1: pad, y2: height - pad }));
  }
  svg.append(svgElement("polyline", { class: "schedule", points: line(scheduleSteps(view)) }));
  const filled = history.concat([[nowSeconds, Number(view.filled)]]);
  svg.append(svgElement("polyline", { class: "filled", points: line(filled) }));
  return svg;
}

function cell(text, className) {
  const td = document.createElement("td");
  if (className) td.className = className;
  td.textContent = text;
  return td;
}

function makeRow(view) {
  const row = document.createElement("tr");
  row.dataset.parentId = view.parent_id;
  const state = document.createElement("span");
  state.className = "state";
  const stateCell = cell("", "state-cell");
  stateCell.append(state);
  const button = document.createElement("button");
  button.type = "button";
  button.className = "cancel";
  button.textContent = "Cancel";
  button.addEventListener("click", () => cancelParent(view.parent_id, button));
  const actionCell = cell("", "action");
  actionCell.append(button);
  row.append(
    cell(view.parent_id, "id"), cell(view.symbol, "symbol"), cell(view.side, "side"),
    cell("", "filled"), stateCell, cell("", "chart-cell"), actionCell,
  );
  $("rows").append(row);
  return row;
}

function render(entry) {
  // The row is made once and updated in place, so the cancel button stays the same element.
  const { view } = entry;
  $("empty").hidden = true;
  const row = document.querySelector(`tr[data-parent-id="${CSS.escape(view.parent_id)}"]`) || makeRow(view);
  row.dataset.state = view.state;
  const state = row.querySelector(".state");
  state.dataset.state = view.state;
  state.textContent = view.state;
  row.querySelector(".state-cell").title = view.note || "";
  const percent = (100 * Number(view.share_done)).toFixed(1);
  const filled = row.querySelector(".filled");
  filled.dataset.filled = view.filled;
  filled.textContent = `${view.filled} / ${view.quantity} (${percent}%)`;
  row.querySelector(".chart-cell").replaceChildren(drawChart(entry));
  const button = row.querySelector("button.cancel");
  if (view.is_final) {
    button.disabled = true;
    button.textContent = "Cancel";
  }
}

// Working parents' "now" line and filled line move with the clock between events.
setInterval(() => {
  for (const entry of parents.values()) if (!FINAL.has(entry.view.state)) render(entry);
}, 1000);

document.addEventListener("DOMContentLoaded", () => {
  $("login").addEventListener("submit", (event) => {
    event.preventDefault();
    const value = $("token").value.trim();
    if (!value) { $("login-error").textContent = "Enter the token."; return; }
    sessionStorage.setItem(TOKEN_KEY, value);
    $("token").value = "";
    start();
  });
  $("logout").addEventListener("click", () => {
    sessionStorage.removeItem(TOKEN_KEY);
    parents.clear();
    $("rows").replaceChildren();
    showLogin("");
  });
  start();
});
