// Tellify's small helpers for the pages' scripts: calls to the JSON API with
// the session cookie and the CSRF token (from the page's <meta>), building
// DOM nodes without innerHTML (so nothing is ever parsed as HTML), and
// showing the API's problems next to the fields they point at.
"use strict";

(function () {
  function csrf() {
    const m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.content : "";
  }

  async function api(method, path, body) {
    const init = {
      method,
      credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf(), Accept: "application/json" },
    };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let r;
    try {
      r = await fetch(path, init);
    } catch (e) {
      return { ok: false, status: 0, data: { error: "the server cannot be reached" } };
    }
    let data = null;
    try { data = await r.json(); } catch (e) { data = null; }
    return { ok: r.ok, status: r.status, data };
  }

  // el("p", {class: "x", onclick: f}, "text", child, …)
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else if (k === "dataset") Object.assign(node.dataset, v);
      else if (v === true) node.setAttribute(k, "");
      else node.setAttribute(k, String(v));
    }
    for (const c of children.flat()) {
      if (c === undefined || c === null || c === false) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  // Put each problem of a 4xx answer under the element whose data-pointer is
  // its pointer (or the nearest parent pointer that has one); the rest, and
  // the message, go into `box`.
  function showProblems(root, box, data, status) {
    root.querySelectorAll(".field-error.generated").forEach((n) => n.remove());
    root.querySelectorAll(".has-error").forEach((n) => n.classList.remove("has-error"));
    box.replaceChildren();
    if (!data) {
      box.append(el("p", { class: "error", role: "alert" }, `The server answered ${status}.`));
      return;
    }
    const unplaced = [];
    for (const p of data.problems || []) {
      let ptr = p.pointer || "";
      let target = null;
      while (true) {
        target = root.querySelector(`[data-pointer="${CSS.escape(ptr)}"]`);
        if (target || ptr === "") break;
        ptr = ptr.slice(0, ptr.lastIndexOf("/"));
      }
      if (target) {
        target.classList.add("has-error");
        target.after(el("p", { class: "field-error generated", role: "alert", dataset: { for: p.pointer } }, p.message));
      } else {
        unplaced.push(p);
      }
    }
    box.append(el("p", { class: "error", role: "alert" }, data.error || `The server answered ${status}.`));
    if (unplaced.length) {
      box.append(el("ul", { class: "error" }, unplaced.map((p) => el("li", {}, (p.pointer ? p.pointer + ": " : "") + p.message))));
    }
  }

  window.tellify = { csrf, api, el, showProblems };
})();
