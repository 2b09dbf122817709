// The handler form of /handlers/new?type=… and /handlers/{id}/edit, built
// from the type's JSON Schema (GET /api/v1/handler-types): objects become
// fieldsets, enums selects, numbers number inputs, booleans checkboxes,
// lists of texts (ten filesystems) a growing list of inputs, lists of objects
// (filter conditions, levels) repeated fieldsets. It sends JSON to the API
// and shows each of the server's 422 problems under the field its JSON
// pointer names. Every control knows its pointer only when the value is
// collected, so removing a list item never leaves stale pointers. Under the
// form, "Try it on recent events" runs the unsaved parameters over the
// newest events and lists what would have fired, built with textContent.
"use strict";

(function () {
  const { api, el, showProblems } = window.tellify;
  const root = document.getElementById("handler-form");
  if (!root) return;
  const id = root.dataset.id;
  let schemaRoot = null;

  // A property schema with its $ref resolved (the referring schema's own
  // title, description, default and examples win).
  function resolve(s) {
    if (s && s.$ref && s.$ref.startsWith("#/$defs/")) {
      const def = schemaRoot.$defs[s.$ref.slice(8)] || {};
      const merged = Object.assign({}, resolve(def), s);
      delete merged.$ref;
      return merged;
    }
    return s || {};
  }

  function kindOf(s) {
    if (s.enum) return "enum";
    const t = s.type;
    if (Array.isArray(t)) return "scalar";
    return t || "scalar";
  }

  // Text to a JSON scalar: numbers and true/false as such, the rest as text.
  function scalar(text) {
    const t = text.trim();
    if (/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(t)) return Number(t);
    if (t === "true") return true;
    if (t === "false") return false;
    return text;
  }
  function show(v) {
    if (v === undefined || v === null) return "";
    if (Array.isArray(v)) return v.map(show).join(", ");
    return String(v);
  }

  function hint(s) {
    const parts = [];
    if (s.description) parts.push(s.description);
    if (s.examples && s.examples.length && kindOf(s) !== "object" && kindOf(s) !== "array") {
      parts.push("e.g. " + s.examples.map((x) => JSON.stringify(x)).join(", "));
    }
    return parts.length ? el("span", { class: "hint" }, parts.join(" ")) : null;
  }

  // Each builder returns { node, get(pointer) } where get returns the value
  // (undefined: leave it out) and tags the control with its pointer.
  function build(s, value, required) {
    s = resolve(s);
    switch (kindOf(s)) {
      case "object": return buildObject(s, value);
      case "array": return buildArray(s, value);
      case "enum": {
        const sel = el("select", {}, required ? null : el("option", { value: "" }, "(default)"),
          s.enum.map((v) => el("option", { value: String(v) }, String(v))));
        sel.value = value !== undefined ? String(value) : (s.default !== undefined ? String(s.default) : (required ? String(s.enum[0]) : ""));
        return { node: sel, get(p) { sel.dataset.pointer = p; return sel.value === "" ? undefined : sel.value; } };
      }
      case "boolean": {
        const box = el("input", { type: "checkbox" });
        box.checked = value !== undefined ? !!value : !!s.default;
        return { node: box, get(p) { box.dataset.pointer = p; return box.checked; } };
      }
      case "number":
      case "integer": {
        // A text box, not type=number: a number box hands over "" for what
        // is not a number, so the server could only say "" is wrong; this
        // way it is told (and shows) exactly what was typed.
        const input = el("input", { type: "text", inputmode: kindOf(s) === "integer" ? "numeric" : "decimal", autocomplete: "off" });
        input.value = value !== undefined ? String(value) : "";
        if (s.default !== undefined) input.placeholder = "default " + s.default;
        return {
          node: input,
          get(p) {
            input.dataset.pointer = p;
            if (input.value.trim() === "") return required ? "" : undefined;
            const n = Number(input.value.trim());
            return Number.isFinite(n) ? n : input.value;
          },
        };
      }
      case "string": {
        const input = el("input", { type: "text", maxlength: s.maxLength });
        input.value = value !== undefined ? String(value) : "";
        const ex = (s.examples || [])[0];
        if (ex !== undefined) input.placeholder = typeof ex === "string" ? ex : JSON.stringify(ex);
        return {
          node: input,
          get(p) {
            input.dataset.pointer = p;
            if (input.value === "" && !required) return undefined;
            return input.value;
          },
        };
      }
      default: { // a text, number or true/false; a list where the schema allows one
        const input = el("input", { type: "text" });
        input.value = show(value);
        return {
          node: input,
          get(p) {
            input.dataset.pointer = p;
            // Empty and optional (e.g. a duration or null): leave it out, so
            // the type's default applies rather than "" being refused.
            if (input.value.trim() === "" && !required) return undefined;
            return scalar(input.value);
          },
        };
      }
    }
  }

  // The filter condition is special: its value's type depends on the operator.
  function buildCondition(s, value) {
    const props = s.properties;
    const v = value || {};
    const field = el("input", { type: "text", placeholder: "field, e.g. fs", "aria-label": "Field" });
    field.value = v.field || "";
    const op = el("select", { "aria-label": "Operator" }, resolve(props.op).enum.map((o) => el("option", { value: o }, o)));
    op.value = v.op || "eq";
    const val = el("input", { type: "text", "aria-label": "Value" });
    val.value = show(v.value);
    const placeholder = () => {
      val.placeholder = { in: "a, b, c (comma-separated)", not_in: "a, b, c (comma-separated)", exists: "true or false", regex: "regular expression" }[op.value] || "value";
    };
    op.addEventListener("change", placeholder);
    placeholder();
    const node = el("div", { class: "cond" }, field, op, val);
    return {
      node,
      get(p) {
        node.dataset.pointer = p;
        field.dataset.pointer = p + "/field";
        op.dataset.pointer = p + "/op";
        val.dataset.pointer = p + "/value";
        let value;
        if (op.value === "in" || op.value === "not_in") {
          value = val.value.split(",").map((x) => x.trim()).filter((x) => x !== "").map(scalar);
        } else if (op.value === "regex") {
          value = val.value;
        } else {
          value = scalar(val.value);
        }
        return { field: field.value.trim(), op: op.value, value };
      },
    };
  }

  function buildObject(s, value) {
    const v = value || {};
    const required = new Set(s.required || []);
    const fields = [];
    const box = el("div", { class: "object" });
    for (const [name, raw] of Object.entries(s.properties || {})) {
      const ps = resolve(raw);
      const b = build(ps, v[name], required.has(name));
      const title = (ps.title || name) + (required.has(name) ? "" : " (optional)");
      let wrapper;
      if (kindOf(ps) === "boolean") {
        wrapper = el("div", { class: "field" }, el("label", { class: "check" }, b.node, title), hint(ps));
      } else if (kindOf(ps) === "array" || kindOf(ps) === "object") {
        wrapper = el("fieldset", { class: "field" }, el("legend", {}, title), hint(ps), b.node);
      } else {
        wrapper = el("div", { class: "field" }, el("label", {}, title, b.node), hint(ps));
      }
      box.append(wrapper);
      fields.push([name, b]);
    }
    return {
      node: box,
      get(p) {
        box.dataset.pointer = p;
        const out = {};
        for (const [name, b] of fields) {
          const x = b.get(p + "/" + name);
          if (x !== undefined) out[name] = x;
        }
        return out;
      },
    };
  }

  function buildArray(s, value) {
    const items = resolve(s.items || {});
    const isCondition = s.items && s.items.$ref === "#/$defs/condition";
    const complex = isCondition || kindOf(items) === "object";
    const list = el("div", { class: "list" });
    const entries = [];
    const add = (v) => {
      const b = isCondition ? buildCondition(items, v) : build(items, v, true);
      const remove = el("button", { type: "button", class: "small secondary", title: "Remove", "aria-label": "Remove" }, "✕");
      const itemNode = complex
        ? el("div", { class: "list-item" }, isCondition ? el("div", { class: "grow" }, b.node) : el("fieldset", {}, el("legend", {}, items.title || "Item"), b.node), remove)
        : el("div", { class: "list-item" }, el("div", { class: "grow" }, b.node), remove);
      const entry = { b, node: itemNode };
      remove.addEventListener("click", () => {
        entries.splice(entries.indexOf(entry), 1);
        itemNode.remove();
      });
      entries.push(entry);
      list.append(itemNode);
      const first = itemNode.querySelector("input, select");
      return first;
    };
    const initial = value !== undefined ? value : (s.default !== undefined ? s.default : []);
    for (const v of initial) add(v);
    if (initial.length === 0 && (s.minItems || 0) > 0) add(undefined);
    const addButton = el("button", { type: "button", class: "small secondary" },
      "+ Add " + (isCondition ? "condition" : (items.title || "item").toLowerCase()));
    addButton.addEventListener("click", () => {
      const first = add(undefined);
      if (first) first.focus();
    });
    // Paste many lines (ten filesystems) into a list of texts at once.
    if (!complex) {
      list.addEventListener("paste", (e) => {
        const text = (e.clipboardData || window.clipboardData).getData("text");
        if (!text.includes("\n")) return;
        e.preventDefault();
        for (const line of text.split(/\r?\n/).map((x) => x.trim()).filter(Boolean)) add(line);
      });
    }
    const node = el("div", {}, list, addButton);
    return {
      node,
      get(p) {
        node.dataset.pointer = p;
        return entries.map((e, i) => e.b.get(p + "/" + i));
      },
    };
  }

  async function main() {
    const [types, policies, current] = await Promise.all([
      api("GET", "/api/v1/handler-types"),
      api("GET", "/api/v1/policies"),
      id ? api("GET", "/api/v1/handlers/" + encodeURIComponent(id)) : Promise.resolve(null),
    ]);
    if (!types.ok || (current && !current.ok)) {
      root.replaceChildren(el("p", { class: "error" }, "The form could not be loaded; reload the page."));
      return;
    }
    const handler = current ? current.data : null;
    const typeName = handler ? handler.type : root.dataset.type;
    const type = types.data.find((t) => t.name === typeName);
    if (!type) {
      root.replaceChildren(el("p", {}, "Choose what kind of handler to create:"),
        el("ul", { class: "types" }, types.data.map((t) =>
          el("li", {}, el("a", { class: "button", href: "/handlers/new?type=" + encodeURIComponent(t.name) }, t.name), " ", el("span", { class: "muted" }, t.description)))));
      return;
    }
    schemaRoot = type.schema;
    const name = el("input", { type: "text", required: true, maxlength: 200, placeholder: "e.g. Disk space", dataset: { pointer: "/name" } });
    name.value = handler ? handler.name : "";
    const enabled = el("input", { type: "checkbox", dataset: { pointer: "/enabled" } });
    enabled.checked = handler ? handler.enabled : true;
    const policy = el("select", { dataset: { pointer: "/policy" } }, el("option", { value: "" }, "my default policy"),
      (policies.data || []).map((p) => el("option", { value: p.id }, p.name)));
    policy.value = handler && handler.policy ? handler.policy : "";
    const params = buildObject(schemaRoot, handler ? handler.params : undefined);
    const errors = el("div", { class: "errors" });
    const save = el("button", { type: "submit" }, handler ? "Save" : "Create handler");
    const form = el("form", { class: "handler", novalidate: true },
      el("p", { class: "muted" }, el("strong", {}, type.name), ": ", type.description),
      el("div", { class: "field" }, el("label", {}, "Name", name), el("span", { class: "hint" }, "What you call it, e.g. “Disk space of the CAD servers”.")),
      el("div", { class: "field" }, el("label", { class: "check" }, enabled, "Enabled")),
      el("div", { class: "field" }, el("label", {}, "Notification policy", policy), el("span", { class: "hint" }, "How and when you hear of its alerts; see Policies.")),
      el("fieldset", { class: "params" }, el("legend", {}, "What to watch"), params.node),
      errors,
      el("div", { class: "form-actions" }, save, el("a", { href: "/handlers", class: "button secondary" }, "Cancel")));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      save.disabled = true;
      const body = {
        type: type.name,
        name: name.value,
        enabled: enabled.checked,
        policy: policy.value || null,
        params: params.get("/params"),
      };
      const r = handler
        ? await api("PUT", "/api/v1/handlers/" + encodeURIComponent(handler.id), body)
        : await api("POST", "/api/v1/handlers", body);
      save.disabled = false;
      if (r.ok) {
        location.assign("/handlers");
      } else {
        showProblems(form, errors, r.data, r.status);
        const first = form.querySelector(".field-error");
        if (first) first.scrollIntoView({ block: "center" });
      }
    });
    root.replaceChildren(form, tryBox(type, params));
  }

  // "Try it on recent events": the form's current type and parameters, not
  // saved, run over the newest events (POST /api/v1/handlers/try); the
  // result goes under the form. Problems with the parameters show by their
  // fields, as when saving.
  function tryBox(type, params) {
    const limit = el("input", { type: "text", inputmode: "numeric", value: "200", size: 5, dataset: { pointer: "/limit" } });
    const run = el("button", { type: "button", class: "secondary" }, "Try on recent events");
    const errors = el("div", {});
    const result = el("div", { id: "try-result", "aria-live": "polite" });
    const box = el("section", { class: "card try" },
      el("h2", {}, "Try it on recent events"),
      el("p", { class: "muted" }, "Runs the parameters above, as they are now and without saving them, over the newest events, from the oldest of them to the newest, and shows which events would have fired or resolved an alert. Nothing is stored and nobody is notified."),
      el("div", { class: "row" }, el("label", {}, "Events", limit), run),
      errors, result);
    run.addEventListener("click", async () => {
      run.disabled = true;
      result.replaceChildren(el("p", { class: "muted" }, "Trying…"));
      const text = limit.value.trim();
      const body = { type: type.name, params: params.get("/params") };
      if (text !== "") body.limit = /^\d+$/.test(text) ? Number(text) : text;
      const r = await api("POST", "/api/v1/handlers/try", body);
      run.disabled = false;
      if (r.ok) {
        errors.replaceChildren();
        root.querySelectorAll(".field-error.generated").forEach((n) => n.remove());
        root.querySelectorAll(".has-error").forEach((n) => n.classList.remove("has-error"));
        result.replaceChildren(...trialView(r.data));
        return;
      }
      // Problems go next to their fields: the parameters' in the form
      // above, the limit's here (both are inside root).
      result.replaceChildren();
      showProblems(root, errors, r.data, r.status);
      const first = document.querySelector(".field-error");
      if (first) first.scrollIntoView({ block: "center" });
    });
    return box;
  }

  function trialView(t) {
    const out = [];
    const plural = (n, one, many) => n + " " + (n === 1 ? one : many);
    out.push(el("p", { class: "try-summary" },
      "Tried on ", plural(t.scanned, "event", "events"), ": ",
      plural(t.matched, "event matched", "events matched"), " the filter; ",
      plural(t.fired, "alert fired", "alerts fired"), " (repeats count), ",
      plural(t.resolved, "resolved", "resolved"), "."));
    if (t.title) out.push(el("p", { class: "muted small" }, t.title));
    if (!t.results.length) {
      out.push(el("p", { class: "muted" }, t.scanned ? "Nothing would have fired or resolved." : "There are no events yet."));
      return out;
    }
    const rows = [];
    for (const r of t.results) {
      for (const o of r.outputs) {
        const what = o.type === "fire" ? el("span", { class: "sev sev-" + o.severity }, o.severity)
          : el("span", { class: "status" }, o.type === "resolve" ? "resolved" : "derived event");
        const why = o.type === "fire" ? o.summary : (o.type === "emit" ? JSON.stringify(o.event) : "");
        rows.push(el("tr", { dataset: { event: r.id || "" } },
          el("td", { class: "nowrap" }, r.received_at || r.at),
          el("td", {}, r.id ? el("code", {}, r.id) : el("span", { class: "muted" }, "clock")),
          el("td", {}, what),
          el("td", {}, el("code", {}, o.key || "")),
          el("td", {}, why)));
      }
    }
    out.push(el("table", { class: "try-results" },
      el("thead", {}, el("tr", {}, el("th", {}, "When"), el("th", {}, "Event"), el("th", {}, "Outcome"), el("th", {}, "Key"), el("th", {}, "Summary"))),
      el("tbody", {}, rows)));
    return out;
  }

  main();
})();
