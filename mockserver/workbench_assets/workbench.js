// The workbench page: everything here comes from the mock's JSON admin surface (/_mock/...).
"use strict";

const $ = (selector, root = document) => root.querySelector(selector);
const JOURNAL_POLL_MS = 400;
const FAULTS_POLL_MS = 2000;
const JOURNAL_ROWS = 500;

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "class") node.className = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (value !== undefined && value !== null) node.setAttribute(name, value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

async function admin(method, path, body) {
  const options = { method, headers: {} };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (_) { data = text; }
  if (!response.ok) {
    const detail = data && data.detail ? data.detail : `${response.status} ${text}`;
    const error = new Error(detail);
    error.attr = data && data.attr;
    throw error;
  }
  return data;
}

function copyButton(text) {
  return element("button", { class: "copy", onclick: async (event) => {
    try { await navigator.clipboard.writeText(text); event.target.textContent = "Copied"; }
    catch (_) { event.target.textContent = "Select and copy"; }
    setTimeout(() => { event.target.textContent = "Copy"; }, 1500);
  } }, "Copy");
}

// Connect ------------------------------------------------------------------------------------------
async function showOverview() {
  const overview = await admin("GET", "/_mock/overview");
  $("#base-url").textContent = overview.base_url;
  $("#base-url-pill").textContent = overview.base_url;
  $("#auth-pill").textContent = `auth: ${overview.auth}`;
  $("#auth-mode").innerHTML = overview.auth === "open"
    ? "Auth mode <b>open</b>: a request without credentials is the demo user's session."
    : "Auth mode <b>keys</b>: every request needs a personal API key or a session cookie (start with <code>--auth open</code> to let a browser call without).";
  $("#session-route").textContent = overview.session_route;
  $("#prefer-mode").textContent = {
    loopback: "honoured from this machine", any: "honoured from any client", off: "turned off (--prefer off)",
  }[overview.prefer];
  const keys = $("#keys tbody");
  keys.replaceChildren(...overview.keys.map((key) => element("tr", {},
    element("td", {}, key.label),
    element("td", {}, key.scopes.join(", "), key.scoped_teams ? element("div", { class: "muted" }, `projects ${key.scoped_teams.join(", ")}`) : null),
    element("td", {}, element("code", {}, key.value || key.mask_value)),
    element("td", {}, key.value ? copyButton(key.value) : element("span", { class: "muted" }, "hashed")),
  )));
  $("#projects").replaceChildren(...overview.organizations.flatMap((organization) => organization.projects.map((project) =>
    element("li", {}, element("b", {}, `${project.id} `), project.name, element("span", { class: "muted" }, ` (${organization.name})`),
      element("div", { class: "muted" }, "environments: ", project.environments.map((env) => `${env.id} ${env.name}`).join(", "))))));
  return overview;
}

// Faults -------------------------------------------------------------------------------------------
function describeRule(rule) {
  const match = Object.entries(rule.match).map(([name, value]) => `${name}=${value}`).join(", ") || "every call";
  const effect = Object.entries(rule.effect).map(([name, value]) => value === true ? name : `${name} ${value}`).join(", ");
  const often = [rule.remaining !== null ? `${rule.remaining} left` : "every time",
    rule.probability !== null ? `p=${rule.probability}` : null, `${rule.hits} hits`,
    rule.source === "flag" ? "from the command line" : null].filter(Boolean).join(", ");
  return `${effect} on ${match} (${often})`;
}

async function showFaults() {
  const faults = await admin("GET", "/_mock/faults");
  const list = $("#fault-rules");
  const pill = $("#faults-pill");
  pill.dataset.count = faults.rules.length;
  pill.textContent = faults.rules.length ? `${faults.rules.length} fault rule${faults.rules.length > 1 ? "s" : ""} active` : "no faults";
  pill.classList.toggle("alert", faults.rules.length > 0);
  if (!faults.rules.length) {
    list.replaceChildren(element("p", { class: "muted" }, "No fault rules: every answer is the mock's own."));
  } else {
    list.replaceChildren(...faults.rules.map((rule) => element("div", { class: "rule", "data-rule": rule.id },
      element("span", { class: "what" }, describeRule(rule)),
      element("button", { onclick: async () => { await admin("DELETE", `/_mock/faults/${rule.id}`); showFaults(); } }, "Remove"))));
  }
  const statuses = $("#fault-status");
  if (statuses.options.length === 1) {
    for (const status of faults.statuses) statuses.append(element("option", { value: status }, status));
  }
  return faults;
}

function ruleFromForm(form) {
  const data = new FormData(form);
  const text = (name) => (data.get(name) || "").toString().trim();
  const match = {};
  for (const name of ["operation_id", "method", "path", "key_label"]) if (text(name)) match[name] = text(name);
  if (text("project")) match.project = Number(text("project"));
  const effect = {};
  if (text("status")) effect.status = Number(text("status"));
  if (text("latency")) effect.latency = text("latency");
  if (text("slow_body")) effect.slow_body = Number(text("slow_body"));
  if (data.get("drop")) effect.drop = true;
  const rule = { match, effect };
  if (text("times")) rule.times = Number(text("times"));
  if (text("probability")) rule.probability = Number(text("probability"));
  return rule;
}

function wireFaults() {
  $("#fault-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    $("#fault-problem").textContent = "";
    try {
      await admin("POST", "/_mock/faults", ruleFromForm(event.target));
      event.target.reset();
    } catch (problem) {
      $("#fault-problem").textContent = problem.attr ? `${problem.attr}: ${problem.message}` : problem.message;
    }
    showFaults();
  });
  $("#clear-faults").addEventListener("click", async () => { await admin("DELETE", "/_mock/faults"); showFaults(); });
  setInterval(() => showFaults().catch(() => {}), FAULTS_POLL_MS);
}

// Journal ------------------------------------------------------------------------------------------
const journal = { after: null, rows: 0, selected: null };

function faultBadge(fault) {
  if (!fault) return null;
  const parts = [];
  if (fault.status) parts.push(`injected ${fault.status}`);
  if (fault.drop) parts.push("dropped");
  if (fault.latency_ms) parts.push(`+${fault.latency_ms} ms`);
  if (fault.slow_body_ms) parts.push(`slow body ${fault.slow_body_ms} ms`);
  return element("span", { class: "badge fault", title: JSON.stringify(fault) }, parts.join(", ") || "fault");
}

function journalRow(entry) {
  const time = entry.at.slice(11, 23);
  const status = entry.status || "—";
  return element("tr", { "data-id": entry.id, onclick: () => showEntry(entry.id) },
    element("td", { class: "mono" }, time),
    element("td", {}, entry.method),
    element("td", { class: "path" }, entry.path + (entry.query ? `?${entry.query}` : "")),
    element("td", {}, entry.operation_id || element("span", { class: "muted" }, "no route")),
    element("td", { class: `status s${String(entry.status)[0]}` }, entry.fault && entry.fault.drop ? "dropped" : status),
    element("td", { class: "mono" }, entry.duration_ms.toFixed(1)),
    element("td", {}, entry.caller || element("span", { class: "muted" }, "anonymous")),
    element("td", {}, faultBadge(entry.fault),
      entry.problems.map((problem) => element("span", { class: "badge problem", title: problem }, problem.length > 60 ? `${problem.slice(0, 60)}…` : problem))),
  );
}

function journalQuery() {
  const params = new URLSearchParams({ limit: "200" });
  const status = $("#journal-status").value;
  const operation = $("#journal-operation").value.trim();
  if (status) params.set("status", status);
  if (operation) params.set("operation", operation);
  if (journal.after !== null) params.set("after", journal.after);
  return params;
}

// One read of the journal at a time: two in flight would both ask for what follows the same entry
// and show it twice. A poll asked for meanwhile runs once the current one is done.
let journalRead = null;
let journalAgain = false;

function pollJournal() {
  if (journalRead) {
    journalAgain = true;
    return journalRead;
  }
  journalRead = readJournal().finally(() => {
    journalRead = null;
    if (journalAgain) {
      journalAgain = false;
      pollJournal().catch(() => {});
    }
  });
  return journalRead;
}

async function readJournal() {
  if ($("#journal-pause").checked) return;
  const found = await admin("GET", `/_mock/requests?${journalQuery()}`);
  const body = $("#journal-table tbody");
  if (found.results.length) {
    journal.after = found.results[0].id;
    body.prepend(...found.results.map(journalRow));
    while (body.rows.length > JOURNAL_ROWS) body.deleteRow(-1);
  }
  $("#journal-count").textContent = `(${body.rows.length} shown${found.server_errors ? `, ${found.server_errors} server errors` : ""})`;
}

function restartJournal() {
  journal.after = null;
  $("#journal-table tbody").replaceChildren();
  pollJournal().catch(() => {});
}

function pretty(body, type) {
  if (!body) return "(empty)";
  if ((type || "").includes("json")) {
    try { return JSON.stringify(JSON.parse(body), null, 2); } catch (_) { /* as sent */ }
  }
  return body;
}

async function showEntry(id) {
  const entry = await admin("GET", `/_mock/requests/${id}`);
  for (const row of document.querySelectorAll("#journal-table tbody tr")) row.classList.toggle("selected", row.dataset.id === String(id));
  const detail = $("#journal-detail");
  detail.hidden = false;
  const truncated = (part) => part.truncated ? element("span", { class: "muted" }, ` (first ${part.body.length} of ${part.size} bytes)`) : null;
  detail.replaceChildren(...[
    element("h3", {}, `${entry.method} ${entry.path}${entry.query ? `?${entry.query}` : ""}`),
    element("p", {}, `${entry.operation_id || "no route"} · ${entry.status || "dropped"} · ${entry.duration_ms.toFixed(1)} ms · ${entry.caller || "anonymous"} · worker ${entry.worker}`),
    entry.fault ? element("p", {}, faultBadge(entry.fault), "injected by ", (entry.fault.rules || []).join(", ") || "the Prefer header") : null,
    entry.problems.length ? element("div", {}, element("h4", {}, "Problems"), element("ul", {}, entry.problems.map((p) => element("li", {}, p)))) : null,
    element("h4", {}, "Request body ", element("span", { class: "muted" }, entry.request.content_type || ""), truncated(entry.request)),
    element("pre", { class: "request-body" }, pretty(entry.request.body, entry.request.content_type)),
    element("h4", {}, "Response body ", element("span", { class: "muted" }, entry.response.content_type || ""), truncated(entry.response)),
    element("pre", { class: "response-body" }, pretty(entry.response.body, entry.response.content_type)),
  ].filter(Boolean));
}

function wireJournal() {
  $("#journal-status").addEventListener("change", restartJournal);
  $("#journal-operation").addEventListener("change", restartJournal);
  $("#journal-clear").addEventListener("click", async () => { await admin("DELETE", "/_mock/requests"); restartJournal(); });
  setInterval(() => pollJournal().catch(() => {}), JOURNAL_POLL_MS);
  pollJournal().catch(() => {});
}

// State --------------------------------------------------------------------------------------------
function wireState() {
  $("#load-state").addEventListener("change", async (event) => {
    const file = event.target.files[0];
    if (!file) return;
    try {
      const loaded = await admin("POST", "/_mock/state", JSON.parse(await file.text()));
      $("#state-result").textContent = `Loaded ${Object.entries(loaded.loaded).map(([k, v]) => `${v} ${k}`).join(", ")}.`;
      showOverview();
    } catch (problem) {
      $("#state-result").textContent = problem.message;
    }
    event.target.value = "";
  });
  $("#reset-state").addEventListener("click", async () => {
    await admin("POST", "/_mock/reset", {});
    $("#state-result").textContent = "Back to the seed.";
    showOverview();
    restartJournal();
  });
}

// Explorer and fidelity ----------------------------------------------------------------------------
async function showExplorer(key) {
  const spec = await admin("GET", "/_mock/openapi.json");
  spec.servers = [{ url: window.location.origin, description: "this mock" }];
  const operations = new Set();
  for (const item of Object.values(spec.paths)) {
    for (const operation of Object.values(item)) {
      if (operation && operation.operationId && !operation.operationId.startsWith("environments_")) operations.add(operation.operationId);
    }
  }
  $("#operation-ids").replaceChildren(...[...operations].sort().map((id) => element("option", { value: id })));
  $("#explorer-key-note").textContent = key ? "the demo all-access key filled in" : "no key filled in (no all-access key the mock knows the value of)";
  window.explorer = SwaggerUIBundle({
    spec,
    dom_id: "#explorer",
    deepLinking: false,
    layout: "BaseLayout",
    presets: [SwaggerUIBundle.presets.apis],
    displayRequestDuration: true,
    onComplete: () => { if (key) window.explorer.preauthorizeApiKey("PersonalAPIKeyAuth", key); },
  });
}

async function showFidelity() {
  const { sections } = await admin("GET", "/_mock/fidelity");
  const labels = { docs: "Docs", real: "PostHog", mock: "Mock", source: "Source" };
  $("#fidelity-notes").replaceChildren(...sections.map((section) => element("div", {},
    element("h4", {}, section.code ? element("code", {}, section.code) : null, section.code ? " " : null,
      section.title === "Schema" ? "(schema)" : section.title.replaceAll("`", "")),
    element("ul", {}, section.notes.map((note) => element("li", {},
      element("b", {}, note.topic), note.inferred ? element("i", {}, " (inferred)") : null,
      element("ul", {}, ["docs", "real", "mock", "source"].filter((k) => note[k]).map((k) => element("li", {}, `${labels[k]}: ${note[k]}`)))))),
  )));
}

// ---------------------------------------------------------------------------------------------------
document.querySelectorAll("button.copy[data-copy-from]").forEach((button) => {
  button.addEventListener("click", () => navigator.clipboard.writeText($(`#${button.dataset.copyFrom}`).textContent).catch(() => {}));
});
wireFaults();
wireJournal();
wireState();
showFaults().catch(() => {});
showOverview().then((overview) => showExplorer(overview.explorer_key)).catch((problem) => console.error(problem));
showFidelity().catch(() => {});
