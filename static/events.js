// Live updates of /events: every two seconds, ask the JSON API for the
// events newer than the newest one shown (`after`), with the page's filter
// (`q`), and put them at the top, built like the server's rows
// (templates/pages/events.html) with DOM calls and textContent only, so
// nothing an event carries is ever parsed as HTML. Polling, not SSE: see
// the README's decisions. The page stops asking while it is hidden.
"use strict";

(function () {
  const list = document.querySelector("ul[data-live-events]");
  if (!list) return;
  const { api, el } = window.tellify;
  const EVERY_MS = 2000;
  const KEEP = 500; // rows kept on the page; older ones drop off the end
  const q = list.dataset.q || "";
  let after = list.dataset.after || "";
  let fmt;
  const opts = { year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" };
  try {
    fmt = new Intl.DateTimeFormat("sv-SE", Object.assign({ timeZone: list.dataset.tz || undefined }, opts));
  } catch (e) {
    fmt = new Intl.DateTimeFormat("sv-SE", opts);
  }

  // The one-line form of the server: key:value of the top-level scalars,
  // the tags as words.
  function line(event) {
    const parts = [];
    for (const [k, v] of Object.entries(event)) {
      if (k === "received_at" || k === "_origin") continue;
      if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") parts.push(k + ":" + v);
      else if (k === "tags" && Array.isArray(v)) parts.push(v.filter((t) => typeof t === "string").join(" "));
    }
    return parts.join("  ");
  }

  function when(event) {
    const t = event.received_at ? new Date(event.received_at) : null;
    if (!t || isNaN(t)) return "";
    try { return fmt.format(t); } catch (e) { return event.received_at; }
  }

  function row(e) {
    return el("li", { dataset: { id: e.id }, class: "flash" },
      el("details", {},
        el("summary", {}, el("span", { class: "nowrap muted" }, when(e.event)), " ", el("code", {}, line(e.event))),
        el("pre", { class: "event" }, JSON.stringify(e.event, null, 2)),
        el("p", { class: "muted small" }, "Stream id ", el("code", {}, e.id))));
  }

  let busy = false;

  async function poll() {
    if (document.hidden || busy) return;
    busy = true;
    try { await step(); } finally { busy = false; }
  }

  async function step() {
    const params = new URLSearchParams({ limit: "100" });
    if (after) params.set("after", after);
    if (q) params.set("q", q);
    const r = await api("GET", "/api/v1/events/recent?" + params.toString());
    if (!r.ok || !r.data) return;
    // The newest entry the server looked at, matched or not: the next
    // question starts there, so a filter that matches nothing does not
    // make the server scan the same events again.
    if (r.data.newest) after = r.data.newest;
    const fresh = r.data.events; // newest first
    if (!fresh.length) return;
    const rows = fresh.map(row);
    if (r.data.next) {
      // More arrived than one answer holds: say where the gap is.
      rows.push(el("li", { class: "gap muted small" }, "More events arrived here than are shown; reload or page back to see them."));
    }
    list.prepend(...rows);
    const none = document.getElementById("no-events");
    if (none) none.remove();
    while (list.children.length > KEEP) list.lastElementChild.remove();
  }

  const note = document.getElementById("events-live");
  if (note) note.hidden = false;
  setInterval(poll, EVERY_MS);
})();
