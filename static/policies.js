// The channel and policy editors of /policies. Channels: add one (email, SMS
// number or webhook URL), edit one in place in its row, delete one. Policies: an ordered list of rules,
// each with a time window (always, during or outside some days and hours in
// the user's timezone), the least severity it takes, the channels, how long
// to collect alerts before sending, and whether to hold them until the
// window ends. Everything goes to the JSON API; its problems are shown by
// their fields.
"use strict";

(function () {
  const { api, el, showProblems } = window.tellify;
  const DAYS = [["mon", "Mon"], ["tue", "Tue"], ["wed", "Wed"], ["thu", "Thu"], ["fri", "Fri"], ["sat", "Sat"], ["sun", "Sun"]];
  const SEVERITIES = ["info", "warning", "critical"];
  let channels = [];
  let policies = [];

  function field(label, control, hintText) {
    return el("div", { class: "field" }, el("label", {}, label, control), hintText ? el("span", { class: "hint" }, hintText) : null);
  }

  // Channels

  const ADDRESS_KEY = { email: "address", sms: "number", webhook: "url" };

  // The kind, label and address controls of a channel form (adding one, or
  // editing one in place), and the body they make for the API.
  function channelFields(c) {
    const kind = el("select", { dataset: { pointer: "/kind" }, "aria-label": "Kind" },
      el("option", { value: "email" }, "email"), el("option", { value: "sms" }, "SMS"), el("option", { value: "webhook" }, "webhook"));
    kind.value = c ? c.kind : "email";
    const label = el("input", { type: "text", placeholder: "work email", dataset: { pointer: "/label" }, "aria-label": "Label" });
    label.value = c ? c.label : "";
    const to = el("input", { type: "text", placeholder: "ann@corp.example", "aria-label": "Address" });
    to.value = c ? c[ADDRESS_KEY[c.kind]] || "" : "";
    const toLabel = el("label", {}, "Address", to);
    const placeholders = { email: ["Address", "ann@corp.example"], sms: ["Number", "+33612345678"], webhook: ["URL", "https://chat.example/hook"] };
    const update = () => {
      const [t, ph] = placeholders[kind.value];
      toLabel.firstChild.textContent = t;
      to.setAttribute("aria-label", t);
      to.placeholder = ph;
      to.dataset.pointer = "/" + ADDRESS_KEY[kind.value];
    };
    kind.addEventListener("change", update);
    update();
    return {
      nodes: [el("label", {}, "Kind", kind), el("label", {}, "Label", label), toLabel],
      body: () => ({ kind: kind.value, label: label.value, [ADDRESS_KEY[kind.value]]: to.value }),
      focus: () => label.focus(),
    };
  }

  // Edit a channel in its own table row: the row's cells give way to a form
  // until it is saved (PUT, the same checks as adding) or cancelled.
  function editChannelInPlace(tr, c) {
    const cells = Array.from(tr.children);
    const fields = channelFields(c);
    const errors = el("div", {});
    const cancel = el("button", { type: "button", class: "secondary" }, "Cancel");
    const form = el("form", { class: "row channel-edit" }, fields.nodes, el("button", { type: "submit" }, "Save channel"), cancel);
    const cell = el("td", { colspan: String(cells.length) }, form, errors);
    tr.classList.add("editing");
    tr.replaceChildren(cell);
    fields.focus();
    cancel.addEventListener("click", () => {
      tr.classList.remove("editing");
      tr.replaceChildren(...cells);
    });
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const r = await api("PUT", "/api/v1/channels/" + encodeURIComponent(c.id), fields.body());
      if (r.ok) location.reload();
      else showProblems(form, errors, r.data, r.status);
    });
  }

  function channelEditor() {
    const box = document.getElementById("channel-editor");
    const fields = channelFields(null);
    const errors = el("div", {});
    const form = el("form", { class: "row" }, fields.nodes, el("button", { type: "submit" }, "Add channel"));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const r = await api("POST", "/api/v1/channels", fields.body());
      if (r.ok) location.reload();
      else showProblems(form, errors, r.data, r.status);
    });
    box.replaceChildren(el("h3", {}, "Add a channel"), form, errors);

    document.querySelectorAll("#channels tr[data-id]").forEach((tr) => {
      const c = channels.find((x) => x.id === tr.dataset.id);
      const edit = el("button", { type: "button", class: "small secondary" }, "Edit");
      if (c) edit.addEventListener("click", () => editChannelInPlace(tr, c));
      else edit.disabled = true;
      const del = el("button", { type: "button", class: "small danger" }, "Delete");
      del.addEventListener("click", async () => {
        if (!confirm("Delete this channel?")) return;
        const r = await api("DELETE", "/api/v1/channels/" + encodeURIComponent(tr.dataset.id));
        if (r.ok) location.reload();
        else alert((r.data && r.data.error) || "The channel could not be deleted.");
      });
      tr.querySelector("[data-channel-actions]").replaceChildren(edit, " ", del);
    });
  }

  // Policies

  function ruleEditor(rule, onRemove) {
    const r = rule || { when: "always", min_severity: "warning", channels: [], aggregate_for: "1m", hold: false, notify_resolved: true };
    let mode = "always";
    let sched = { days: ["mon", "tue", "wed", "thu", "fri"], from: "09:00", to: "18:00" };
    if (r.when && r.when.not) { mode = "outside"; sched = r.when.not; }
    else if (r.when && r.when.days) { mode = "during"; sched = r.when; }

    const modeSel = el("select", {},
      el("option", { value: "always" }, "at any time"),
      el("option", { value: "during" }, "during these hours"),
      el("option", { value: "outside" }, "outside these hours"));
    modeSel.value = mode;
    const dayBoxes = DAYS.map(([d, label]) => {
      const b = el("input", { type: "checkbox", value: d });
      b.checked = sched.days.includes(d);
      return [d, b, el("label", { class: "check" }, b, label)];
    });
    const days = el("div", { class: "days" }, dayBoxes.map((x) => x[2]));
    const from = el("input", { type: "time", value: sched.from });
    const to = el("input", { type: "time", value: sched.to });
    const tz = document.getElementById("policy-editor").dataset.timezone || "";
    const schedBox = el("fieldset", { class: "schedule" }, el("legend", {}, "Days and hours" + (tz ? " (" + tz + " time)" : "")), days,
      el("div", { class: "row" }, el("label", {}, "From", from), el("label", {}, "To", to)),
      el("span", { class: "hint" }, "22:00 to 06:00 runs into the next morning; equal times mean the whole day."));
    const updateMode = () => { schedBox.hidden = modeSel.value === "always"; };
    modeSel.addEventListener("change", updateMode);
    updateMode();

    const sev = el("select", {}, SEVERITIES.map((s) => el("option", { value: s }, s + (s === "critical" ? " only" : " and worse"))));
    sev.value = r.min_severity || "info";
    const chanBoxes = channels.map((c) => {
      const b = el("input", { type: "checkbox", value: c.id });
      b.checked = (r.channels || []).includes(c.id);
      return [b, el("label", { class: "check" }, b, `${c.label} (${c.kind})`)];
    });
    const chans = el("div", { class: "checks" }, chanBoxes.length ? chanBoxes.map((x) => x[1]) : el("span", { class: "muted" }, "Add a channel first."));
    const agg = el("input", { type: "text", value: r.aggregate_for || "1m", placeholder: "1m" });
    const hold = el("input", { type: "checkbox" });
    hold.checked = !!r.hold;
    const repeat = el("input", { type: "text", value: r.repeat_every || "", placeholder: "e.g. 1h (empty: never)" });
    const resolved = el("input", { type: "checkbox" });
    resolved.checked = r.notify_resolved !== false;
    const remove = el("button", { type: "button", class: "small danger" }, "Remove rule");
    const node = el("fieldset", { class: "rule" }, el("legend", {}, "Rule"),
      field("When", modeSel), schedBox,
      field("Severity", sev),
      el("div", { class: "field" }, el("span", {}, "Send to"), chans),
      field("Collect for", agg, "Alerts are gathered this long into one message (30s, 1m, 1h)."),
      el("div", { class: "field" }, el("label", { class: "check" }, hold, "Hold alerts that arise in this window until it ends (e.g. at night: send at 06:00)")),
      field("Repeat every", repeat, "Remind of alerts still firing."),
      el("div", { class: "field" }, el("label", { class: "check" }, resolved, "Tell me when they resolve")),
      remove);
    remove.addEventListener("click", onRemove);
    return {
      node,
      get(p) {
        node.dataset.pointer = p;
        let when = "always";
        const s = { days: dayBoxes.filter((x) => x[1].checked).map((x) => x[0]), from: from.value, to: to.value };
        let sp = p + "/when";
        if (modeSel.value === "during") when = s;
        if (modeSel.value === "outside") { when = { not: s }; sp += "/not"; }
        modeSel.dataset.pointer = p + "/when";
        days.dataset.pointer = sp + "/days";
        from.dataset.pointer = sp + "/from";
        to.dataset.pointer = sp + "/to";
        sev.dataset.pointer = p + "/min_severity";
        chans.dataset.pointer = p + "/channels";
        agg.dataset.pointer = p + "/aggregate_for";
        hold.parentNode.dataset.pointer = p + "/hold";
        repeat.dataset.pointer = p + "/repeat_every";
        const out = {
          when,
          min_severity: sev.value,
          channels: chanBoxes.filter((x) => x[0].checked).map((x) => x[0].value),
          aggregate_for: agg.value.trim() || "1m",
          hold: hold.checked,
          notify_resolved: resolved.checked,
        };
        if (repeat.value.trim()) out.repeat_every = repeat.value.trim();
        return out;
      },
    };
  }

  function policyEditor(policy) {
    const box = document.getElementById("policy-editor");
    const name = el("input", { type: "text", value: policy ? policy.name : "", placeholder: "e.g. Disk space", dataset: { pointer: "/name" } });
    const isDefault = el("input", { type: "checkbox" });
    isDefault.checked = policy ? policy.default : policies.length === 0;
    const rulesBox = el("div", { dataset: { pointer: "/rules" } });
    const rules = [];
    const addRule = (r) => {
      const entry = ruleEditor(r, () => { rules.splice(rules.indexOf(entry), 1); entry.node.remove(); });
      rules.push(entry);
      rulesBox.append(entry.node);
    };
    for (const r of policy ? policy.rules : [undefined]) addRule(r);
    const add = el("button", { type: "button", class: "secondary" }, "+ Add rule");
    add.addEventListener("click", () => addRule(undefined));
    const errors = el("div", {});
    const form = el("form", { class: "card" },
      el("h3", {}, policy ? "Edit policy" : "New policy"),
      field("Name", name),
      el("div", { class: "field", dataset: { pointer: "/default" } }, el("label", { class: "check" }, isDefault, "Default policy (for handlers that name none)")),
      el("p", { class: "hint" }, "Rules are tried in order; the first whose time window and severity match the alert decides where it goes."),
      rulesBox, add, errors,
      el("div", { class: "form-actions" }, el("button", { type: "submit" }, "Save policy"),
        el("button", { type: "button", class: "secondary", onclick: () => box.replaceChildren(newButton()) }, "Cancel")));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const body = { name: name.value, default: isDefault.checked, rules: rules.map((r, i) => r.get("/rules/" + i)) };
      const r = policy
        ? await api("PUT", "/api/v1/policies/" + encodeURIComponent(policy.id), body)
        : await api("POST", "/api/v1/policies", body);
      if (r.ok) location.reload();
      else showProblems(form, errors, r.data, r.status);
    });
    box.replaceChildren(form);
    name.focus();
  }

  function newButton() {
    const b = el("button", { type: "button" }, "New policy");
    b.addEventListener("click", () => policyEditor(null));
    return b;
  }

  async function main() {
    const [c, p] = await Promise.all([api("GET", "/api/v1/channels"), api("GET", "/api/v1/policies")]);
    if (!c.ok || !p.ok) return;
    channels = c.data;
    policies = p.data;
    channelEditor();
    document.getElementById("policy-editor").replaceChildren(newButton());
    document.querySelectorAll("article.policy[data-id]").forEach((art) => {
      const policy = policies.find((x) => x.id === art.dataset.id);
      if (!policy) return;
      const edit = el("button", { type: "button", class: "small secondary" }, "Edit");
      edit.addEventListener("click", () => policyEditor(policy));
      const del = el("button", { type: "button", class: "small danger" }, "Delete");
      del.addEventListener("click", async () => {
        if (!confirm("Delete this policy?")) return;
        const r = await api("DELETE", "/api/v1/policies/" + encodeURIComponent(policy.id));
        if (r.ok) location.reload();
        else alert((r.data && r.data.error) || "The policy could not be deleted.");
      });
      art.querySelector("[data-policy-actions]").replaceChildren(edit, " ", del);
    });
  }

  main();
})();
