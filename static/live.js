// Live updates of the alert tables of `/` and `/alerts` over server-sent
// events (GET /live). The server starts every stream, including the browser's
// reconnections, with a snapshot of the firing alerts, then sends each
// change: {"type":"alert","alert":{…}} and {"type":"cleared","ids":[…]}.
// Rows are built with DOM calls only, like templates/pages/alert_rows.html.
"use strict";

(function () {
  const table = document.querySelector("table[data-live]");
  if (!table || !window.EventSource) return;
  const tbody = table.tBodies[0];
  const mode = table.dataset.live; // "firing" (the dashboard) or "list"
  const names = JSON.parse(table.dataset.handlerNames || "{}");
  const tz = table.dataset.tz || undefined;
  const status = document.getElementById("live-status");
  const empty = document.querySelector("p.empty");
  let fmt;
  try {
    fmt = new Intl.DateTimeFormat("sv-SE", { timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" });
  } catch (e) {
    fmt = new Intl.DateTimeFormat("sv-SE", { year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" });
  }
  const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  function h(tag, attrs, ...kids) {
    const n = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) n.setAttribute(k, v);
    for (const k of kids) n.append(k instanceof Node ? k : document.createTextNode(String(k)));
    return n;
  }

  function wanted(a) {
    if (mode === "firing") return a.status === "firing";
    const f = table.dataset;
    return (!f.status || f.status === a.status) && (!f.severity || f.severity === a.severity) && (!f.handler || f.handler === a.handler_id);
  }

  function row(a) {
    const tr = h("tr", { "data-alert": a.id, class: "status-" + a.status });
    const summary = h("td", {}, h("a", { href: "/alerts/" + encodeURIComponent(a.id) }, a.summary));
    summary.append(h("div", { class: "muted small" }, (names[a.handler_id] || "handler") + " · " + a.key));
    const clear = h("td", {});
    if (a.status !== "cleared") {
      const form = h("form", { method: "post", action: "/alerts/" + encodeURIComponent(a.id) + "/clear", class: "inline" },
        h("input", { type: "hidden", name: "csrf", value: csrf }),
        h("input", { type: "hidden", name: "back", value: location.pathname + location.search }),
        h("button", { type: "submit", class: "small" }, "Clear"));
      clear.append(form);
    }
    let seen = a.last_seen;
    try { seen = fmt.format(new Date(a.last_seen)); } catch (e) { /* keep RFC 3339 */ }
    tr.append(
      h("td", {}, h("span", { class: "sev sev-" + a.severity }, a.severity)),
      h("td", {}, h("span", { class: "status" }, a.status)),
      summary,
      h("td", { class: "num" }, a.count),
      h("td", { class: "nowrap" }, seen),
      clear,
    );
    return tr;
  }

  function find(id) {
    return tbody.querySelector(`tr[data-alert="${CSS.escape(id)}"]`);
  }

  const clearAll = document.getElementById("clear-all");

  function refreshEmpty() {
    if (empty) empty.hidden = tbody.rows.length > 0;
    if (clearAll) clearAll.hidden = tbody.rows.length === 0;
  }

  function upsert(a, flash) {
    const old = find(a.id);
    if (!wanted(a)) {
      if (old) old.remove();
      return;
    }
    const tr = row(a);
    if (flash) tr.classList.add("flash");
    if (old) old.replaceWith(tr);
    else tbody.prepend(tr);
  }

  function cleared(ids) {
    for (const id of ids) {
      const tr = find(id);
      if (!tr) continue;
      if (mode === "firing" || (table.dataset.status && table.dataset.status !== "cleared")) {
        tr.remove();
      } else {
        tr.className = "status-cleared";
        tr.cells[1].replaceChildren(h("span", { class: "status" }, "cleared"));
        tr.cells[5].replaceChildren();
      }
    }
  }

  function setStatus(on) {
    if (!status) return;
    status.hidden = false;
    status.textContent = on ? "live" : "reconnecting…";
    status.classList.toggle("off", !on);
  }

  const source = new EventSource("/live");
  source.addEventListener("open", () => setStatus(true));
  source.addEventListener("error", () => setStatus(false));
  source.addEventListener("snapshot", (e) => {
    const data = JSON.parse(e.data);
    if (mode === "firing") {
      // The dashboard is exactly the firing alerts: the snapshot replaces it.
      tbody.replaceChildren(...data.alerts.map(row));
    } else {
      for (const a of data.alerts) upsert(a, false);
    }
    refreshEmpty();
  });
  source.addEventListener("alert", (e) => {
    upsert(JSON.parse(e.data).alert, true);
    refreshEmpty();
  });
  source.addEventListener("cleared", (e) => {
    cleared(JSON.parse(e.data).ids || []);
    refreshEmpty();
  });
})();
