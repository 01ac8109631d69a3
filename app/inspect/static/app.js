// Bore inspector page: a live list of the tunnel's requests and
// connections, their details, and replay. Everything is built with DOM
// calls and textContent: captured traffic is never parsed as HTML.
"use strict";

const items = new Map(); // id -> summary
let selected = 0;
let detail = null;
let listTimer = 0;
let detailTimer = 0;
let tab = "request";

const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const k of kids) if (k != null) e.append(k);
  return e;
}

function size(n) {
  if (n == null) return "";
  if (n < 1024) return n + " B";
  const u = ["KiB", "MiB", "GiB", "TiB"];
  let i = -1;
  do { n /= 1024; i++; } while (n >= 1024 && i < u.length - 1);
  return (n < 10 ? n.toFixed(1) : Math.round(n)) + " " + u[i];
}

function dur(ms) {
  if (ms == null) return "";
  if (ms < 1) return ms.toFixed(2) + " ms";
  if (ms < 1000) return ms.toFixed(ms < 10 ? 1 : 0) + " ms";
  if (ms < 60000) return (ms / 1000).toFixed(1) + " s";
  return Math.round(ms / 60000) + " min";
}

function clock(t) {
  const d = new Date(t);
  return d.toLocaleTimeString([], { hour12: false }) + "." + String(d.getMilliseconds()).padStart(3, "0");
}

async function api(path, opts) {
  const r = await fetch(path, Object.assign({ credentials: "same-origin", cache: "no-store" }, opts));
  let body = null;
  try { body = await r.json(); } catch (e) { /* not JSON */ }
  if (!r.ok) throw new Error((body && body.error) || r.status + " " + r.statusText);
  return body;
}

// ---- list ----

function matches(s) {
  const p = $("f-path").value.trim().toLowerCase();
  const m = $("f-method").value;
  const st = $("f-status").value.trim().toLowerCase();
  if (m === "conn" && s.kind !== "conn") return false;
  if (m && m !== "conn" && s.method !== m) return false;
  if (p && !((s.path || "").toLowerCase().includes(p) || (s.kind === "conn" && (s.proto || "").toLowerCase().includes(p)))) return false;
  if (st) {
    if (s.kind === "conn") return false;
    const code = String(s.status || "");
    if (/^[1-5]xx$/.test(st)) { if (code[0] !== st[0]) return false; }
    else if (!code.startsWith(st) && !(s.state || "").startsWith(st)) return false;
  }
  return true;
}

function scheduleList() {
  if (!listTimer) listTimer = requestAnimationFrame(() => { listTimer = 0; renderList(); });
}

function statusCell(s) {
  if (s.kind === "conn") return el("td", { class: "status", text: s.state });
  if (s.status) {
    const t = String(s.status) + (s.upgrade ? " " + s.upgrade : "");
    return el("td", { class: "status s" + String(s.status)[0], text: t });
  }
  return el("td", { class: "status pending", text: s.state });
}

function renderList() {
  const rows = $("rows");
  const ids = [...items.keys()].sort((a, b) => b - a);
  const frag = document.createDocumentFragment();
  let shown = 0;
  for (const id of ids) {
    const s = items.get(id);
    if (!matches(s)) continue;
    shown++;
    const conn = s.kind === "conn";
    const tr = el("tr", {
      class: "item " + (conn ? "conn" : "http") + (id === selected ? " selected" : ""),
      "data-id": id, "data-method": conn ? "" : s.method, "data-path": conn ? "" : s.path,
      "data-status": conn ? "" : String(s.status || ""), onclick: () => select(id),
    },
      el("td", { class: "time", text: clock(s.time) }),
      el("td", { class: "method", text: conn ? s.proto : s.method }),
      el("td", { class: "path", title: conn ? (s.note || "") : s.path, text: conn ? "connection" + (s.note ? " · " + s.note : "") : s.path }),
      statusCell(s),
      el("td", { class: "dur", text: s.state === "pending" || s.state === "no response" ? "" : dur(s.duration_ms) }),
      el("td", { class: "req", text: size(s.req_size) }),
      el("td", { class: "resp", text: size(s.resp_size) }),
    );
    frag.append(tr);
  }
  rows.replaceChildren(frag);
  $("empty").style.display = items.size ? "none" : "";
  if (items.size && !shown) { $("empty").style.display = ""; $("empty").textContent = "No request matches the filters."; }
  else $("empty").textContent = "Waiting for traffic through the tunnel…";
}

async function reload() {
  const list = await api("/api/items");
  items.clear();
  for (const s of list) items.set(s.id, s);
  renderList();
  if (selected && !items.has(selected)) clearDetail();
}

// ---- live updates ----

function connect() {
  const es = new EventSource("/api/events");
  es.onopen = () => { $("live").className = "live on"; $("live").textContent = "live"; reload().catch(() => {}); };
  es.onerror = () => { $("live").className = "live off"; $("live").textContent = "reconnecting…"; };
  es.addEventListener("item", (ev) => {
    const s = JSON.parse(ev.data);
    items.set(s.id, s);
    scheduleList();
    if (s.id === selected) scheduleDetail();
  });
  es.addEventListener("remove", (ev) => {
    const id = Number(ev.data);
    items.delete(id);
    scheduleList();
    if (id === selected) clearDetail();
  });
  es.addEventListener("reset", () => reload().catch(() => {}));
}

// ---- detail ----

function clearDetail() {
  selected = 0; detail = null;
  const d = $("detail");
  d.className = "hint";
  d.textContent = "Select a request to see its headers, bodies and raw bytes, and to replay it.";
}

function scheduleDetail() {
  if (detailTimer) return;
  detailTimer = setTimeout(() => { detailTimer = 0; loadDetail(selected, true); }, 250);
}

function select(id) {
  selected = id;
  document.querySelectorAll("#rows tr.selected").forEach((r) => r.classList.remove("selected"));
  const row = document.querySelector(`#rows tr[data-id="${id}"]`);
  if (row) row.classList.add("selected");
  loadDetail(id, false);
}

async function loadDetail(id, refresh) {
  try {
    const d = await api("/api/items/" + id);
    if (id !== selected) return;
    // A refresh must not wipe a replay form being edited.
    if (refresh && detail && tab === "replay") { detail = d; return; }
    detail = d;
    renderDetail();
  } catch (e) {
    if (id === selected) { $("detail").className = "hint"; $("detail").textContent = e.message; }
  }
}

function kvTable(pairs) {
  if (!pairs || !pairs.length) return el("p", { class: "hint", text: "none" });
  const t = el("table", { class: "kv" });
  for (const [k, v] of pairs) t.append(el("tr", {}, el("td", { text: k }), el("td", { text: v })));
  return t;
}

function bodyBlock(b, title) {
  const head = el("h3", { text: title });
  if (b.kind !== "empty") head.append(el("span", { class: "badge", text: b.kind }));
  if (b.decoded) head.append(el("span", { class: "badge", text: "decoded from " + b.decoded }));
  head.append(el("span", { class: "badge", text: size(b.size) }));
  if (b.truncated) head.append(el("span", { class: "badge trunc", text: "truncated: kept " + size(b.kept) + " of " + size(b.size) }));
  if (!b.complete) head.append(el("span", { class: "badge trunc", text: "incomplete" }));
  const out = el("div", { class: "body" }, head);
  if (b.kind === "empty") out.append(el("p", { class: "hint", text: "no body" }));
  else if (b.kind === "form") out.append(kvTable(b.form));
  else out.append(el("pre", { class: "body-" + b.kind, text: b.text }));
  return out;
}

function messagePane(m, title, extra) {
  const box = el("div", { class: "msg" });
  if (extra) box.append(extra);
  if (m.error) box.append(el("p", { class: "note", text: m.error }));
  box.append(el("h3", { text: "Headers" }), kvTable(m.headers), bodyBlock(m.body, title + " body"));
  return box;
}

function responseHead(status, text, duration, proto) {
  return el("div", { class: "status-line" },
    el("span", { class: "status s" + String(status)[0], text: String(status) }),
    document.createTextNode(" " + (text || "") + (duration != null ? "  ·  " + dur(duration) : "") + (proto ? "  ·  " + proto : "")));
}

function renderDetail() {
  const d = detail;
  const box = $("detail");
  box.className = "";
  box.replaceChildren();
  if (d.kind === "conn") {
    box.append(
      el("h2", { text: d.proto + " connection" }),
      d.note ? el("p", { class: "note", text: d.note }) : null,
      kvTable([
        ["Opened", new Date(d.time).toLocaleString()],
        ["State", d.connection.open ? "open" : "closed"],
        ["Duration", dur(d.connection.duration_ms)],
        ["Bytes to the service", size(d.connection.bytes_in) + " (" + d.connection.bytes_in + ")"],
        ["Bytes from the service", size(d.connection.bytes_out) + " (" + d.connection.bytes_out + ")"],
      ]),
      el("p", { class: "hint", text: "Only HTTP/1.x traffic is parsed; this connection is shown by its bytes each way." }),
    );
    return;
  }
  box.append(el("h2", { id: "d-title", text: d.method + " " + d.path }));
  if (d.response) box.append(responseHead(d.status, d.status_text, d.state === "done" ? d.duration_ms : null, d.response.proto));
  else box.append(el("p", { class: "pending", text: d.state === "pending" ? "waiting for the response…" : d.state }));
  if (d.note) box.append(el("p", { class: "note", text: d.note }));
  if (d.upgrade) box.append(el("p", { class: "hint", text: "Upgraded to " + d.upgrade + ": the bytes that followed are listed as a connection." }));
  const tabs = el("div", { class: "tabs" });
  const pane = el("div", { id: "pane" });
  for (const [key, label] of [["request", "Request"], ["response", "Response"], ["raw", "Raw"], ["replay", "Replay"]]) {
    tabs.append(el("button", { type: "button", id: "tab-" + key, class: key === tab ? "on" : "", text: label,
      onclick: () => { tab = key; renderDetail(); } }));
  }
  box.append(tabs, pane);
  if (tab === "request") {
    pane.append(
      el("h3", { text: "Request" }),
      kvTable([["Host", d.host || ""], ["Protocol", d.request.proto], ["Body size", size(d.req_size)]]),
      el("h3", { text: "Query" }), kvTable(d.query),
      messagePane(d.request, "Request"));
    if (d.informational && d.informational.length) pane.prepend(el("p", { class: "hint", text: "Interim responses: " + d.informational.join(", ") }));
  } else if (tab === "response") {
    pane.append(d.response ? messagePane(d.response, "Response") : el("p", { class: "hint", text: "No response yet." }));
  } else if (tab === "raw") {
    pane.append(rawBlock(d.request, "Request"));
    if (d.response) pane.append(rawBlock(d.response, "Response"));
  } else {
    pane.append(replayPane(d));
  }
}

function rawBlock(m, title) {
  let hexView = false;
  const pre = el("pre", { class: "raw", text: m.raw });
  const toggle = el("button", { type: "button", text: "Hex", onclick: () => {
    hexView = !hexView; pre.textContent = hexView ? m.raw_hex : m.raw; toggle.textContent = hexView ? "Text" : "Hex";
  } });
  const head = el("h3", { text: title + " as sent" }, el("span", { class: "badge", text: size(m.raw_size) }));
  if (m.raw_kept < m.raw_size) head.append(el("span", { class: "badge trunc", text: "truncated: kept " + size(m.raw_kept) }));
  head.append(" ", toggle);
  return el("div", {}, head, pre);
}

function replayPane(d) {
  const e = d.editable;
  const method = el("input", { id: "r-method", value: e.method, size: "8" });
  const target = el("input", { id: "r-target", value: e.target });
  const headers = el("textarea", { id: "r-headers", spellcheck: "false" });
  headers.value = e.headers;
  const body = el("textarea", { id: "r-body", spellcheck: "false" });
  body.value = e.body;
  const status = el("span", { id: "replay-state", class: "hint" });
  const btn = el("button", { id: "replay-btn", type: "button", class: "primary", text: "Replay to the local service" });
  const out = el("div", { class: "side", id: "replay-side" });
  btn.addEventListener("click", async () => {
    btn.disabled = true;
    status.textContent = "sending…";
    try {
      const r = await api("/api/items/" + d.id + "/replay", {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ method: method.value, target: target.value, headers: headers.value, body: body.value, base64: e.base64 }),
      });
      status.textContent = "";
      d.replays = (d.replays || []).concat([r]);
      showReplay(out, d, r);
    } catch (err) {
      status.textContent = err.message;
      status.className = "error";
    } finally { btn.disabled = false; }
  });
  const form = el("div", { class: "replay-form" },
    el("label", { for: "r-method", text: "Method" }), method,
    el("label", { for: "r-target", text: "Path" }), target,
    el("label", { for: "r-headers", text: "Headers" }), headers,
    el("label", { for: "r-body", text: e.base64 ? "Body (base64)" : "Body" }), body,
    el("span"), el("div", {}, btn, " ", status));
  const wrap = el("div", {}, form);
  if (e.truncated) wrap.prepend(el("p", { class: "note", text: "The captured body was truncated; a replay sends the part that was kept." }));
  wrap.append(out);
  if (d.replays && d.replays.length) showReplay(out, d, d.replays[d.replays.length - 1]);
  return wrap;
}

function showReplay(out, d, r) {
  const old = el("div", { id: "replay-old" }, el("h3", { text: "Original response" }));
  if (d.response) old.append(responseHead(d.status, d.status_text, d.duration_ms), messagePane(d.response, "Response"));
  else old.append(el("p", { class: "hint", text: "none" }));
  const neu = el("div", { id: "replay-new" }, el("h3", { text: "Replay · " + clock(r.time) }));
  if (r.error && !r.status) neu.append(el("p", { class: "error", text: r.error }));
  else {
    neu.append(responseHead(r.status, r.status_text, r.duration_ms));
    if (r.error) neu.append(el("p", { class: "note", text: r.error }));
    neu.append(messagePane({ headers: r.headers, body: r.body }, "Response"));
  }
  out.replaceChildren(old, neu);
}

// ---- start ----

document.addEventListener("DOMContentLoaded", async () => {
  for (const id of ["f-path", "f-method", "f-status"]) $(id).addEventListener("input", scheduleList);
  $("clear").addEventListener("click", async () => {
    await api("/api/clear", { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
    items.clear(); clearDetail(); renderList();
  });
  try {
    const info = await api("/api/info");
    $("title").textContent = info.title;
    document.title = "Bore inspector · " + info.title;
    $("limits").textContent = "Keeps the newest " + info.max_items + " requests (up to " + size(info.max_bytes) +
      "), bodies up to " + size(info.body_cap) + " each, in memory only.";
  } catch (e) { $("title").textContent = e.message; }
  await reload().catch(() => {});
  connect();
});
