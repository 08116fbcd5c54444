/* Visits other than a branch meeting, with or without signal (issue 18, item 5).
 *
 * On /visits/new the form is kept working without script (a plain POST); with it, the visit is
 * written into the IndexedDB outbox (kind "visit", a UUID made here) before anything is sent,
 * like an evaluation, and the phone keeps a record of it in the "drafts" store
 * ("visit:<uuid>"). On /visits/drafts the cadre drafts each visit's report over days: the text
 * is saved on every change (it survives a reload or a dead battery) and "send" puts the next
 * version (kind "visit_report", the draft's own UUID, version 1, 2 …) into the outbox; a later
 * version replaces an earlier one still waiting. outbox.js marks the record when the server
 * confirms.
 *
 * Photos (issue 20, photos.js) belong to the visit: kept under the visit's UUID, taken on the
 * visit form or beside a report draft, they join the outbox with the visit or with the next
 * version of its report, and reach the report's page on the server.
 */
(function () {
  "use strict";
  const O = window.CosoOutbox;
  if (!O) return;
  const P = window.CosoPhotos; // photos.js, loaded before this script where photos are taken
  const PREFIX = "visit:";
  const MAX_REPORT = 5000;

  function pad(n) { return String(n).padStart(2, "0"); }
  function clock(ms) { const d = new Date(ms); return pad(d.getHours()) + ":" + pad(d.getMinutes()); }
  function fill(text, values) {
    return String(text || "").replace(/%\((\w+)\)s/g, (m, k) => (k in values ? values[k] : m));
  }
  function isoDay(value) { return /^\d{4}-\d{2}-\d{2}$/.test(value || "") ? value : null; }
  function addDays(day, n) {
    const d = new Date(day + "T00:00:00Z"); d.setUTCDate(d.getUTCDate() + n);
    return d.toISOString().slice(0, 10);
  }
  function daysBetween(a, b) { return Math.round((Date.parse(b + "T00:00:00Z") - Date.parse(a + "T00:00:00Z")) / 86400000); }
  const draining = () => { if (window.CosoApp) window.CosoApp.drain({ force: true }); };

  // ------------------------------------------------------------------ the visit form

  const form = document.querySelector('form[data-offline="visit"]');
  if (form) setUpForm(form);

  async function setUpForm(f) {
    // The visit's UUID from the start: its photos are kept under it before it is saved.
    if (f.elements.uuid && !f.elements.uuid.value) f.elements.uuid.value = O.newUuid();
    const photos = P && f.querySelector("#photos-card") ? P : null;
    if (photos) {
      photos.mount(f);
      await photos.sweep([f.elements.uuid.value]).catch(() => {}); // those of a form left unsaved
      await photos.refresh(f);
    }
    const select = f.querySelector("#unit_id");
    try { // the branches of the field pack, so a branch can be chosen with no signal
      const pack = await O.get("meta", "fieldpack");
      const branches = (pack && pack.value && pack.value.branches) || [];
      const have = new Set(Array.from(select.options).map((o) => o.value));
      const group = document.createElement("optgroup");
      group.label = f.dataset.branches;
      branches.forEach((b) => {
        if (have.has(String(b.id))) return;
        const o = document.createElement("option");
        o.value = String(b.id);
        o.textContent = b.name + (b.parent_name ? " (" + b.parent_name + ")" : "");
        group.appendChild(o);
      });
      if (group.children.length) select.appendChild(group);
    } catch (e) { /* no pack: the units the page came with */ }
    const fixing = new URLSearchParams(location.search).get("outbox");
    if (fixing) {
      const item = await O.get("outbox", fixing);
      if (item && item.payload.kind === "visit") {
        f.dataset.uuid = item.uuid;
        ["unit_id", "form", "start_date", "end_date"].forEach((name) => {
          if (f.elements[name]) f.elements[name].value = String(item.payload[name] || "");
        });
        if (f.elements.uuid) f.elements.uuid.value = item.uuid;
        if (photos) await photos.refresh(f);
      }
    }
  }

  function showErrors(f, errors) {
    f.querySelectorAll(".field-error.js-made").forEach((el) => el.remove());
    f.querySelectorAll("[aria-invalid].js-made").forEach((el) => { el.removeAttribute("aria-invalid"); el.classList.remove("js-made"); });
    let first = null;
    Object.keys(errors).forEach((name) => {
      const field = f.elements[name];
      if (!field) return;
      const p = document.createElement("p");
      p.className = "field-error js-made"; p.id = "err-js-" + name; p.textContent = errors[name];
      field.insertAdjacentElement("afterend", p);
      field.setAttribute("aria-invalid", "true"); field.classList.add("js-made");
      first = first || field;
    });
    if (first) first.focus();
    return !first;
  }

  function check(f) {
    const d = f.dataset;
    const errors = {};
    const v = (name) => (f.elements[name] ? f.elements[name].value.trim() : "");
    ["unit_id", "form", "start_date", "end_date"].forEach((name) => { if (!v(name)) errors[name] = d.required; });
    const start = isoDay(v("start_date")), end = isoDay(v("end_date"));
    if (v("start_date") && !start) errors.start_date = d.required;
    if (v("end_date") && !end) errors.end_date = d.required;
    if (start && start > d.today) errors.start_date = d.future;
    if (end && end > d.today) errors.end_date = d.future;
    else if (start && end && end < start) errors.end_date = d.order;
    else if (start && end && daysBetween(start, end) + 1 > parseInt(d.maxDays, 10)) errors.end_date = d.tooLong;
    if (v("report").length > MAX_REPORT) errors.report = d.required;
    return errors;
  }

  // Capture: runs before htmx's own submit handler on the form, which then never sees it.
  document.addEventListener("submit", async (e) => {
    const f = e.target;
    if (!f || f.dataset.offline !== "visit") return;
    e.preventDefault();
    e.stopPropagation();
    if (!showErrors(f, check(f))) return;
    const select = f.elements.unit_id;
    const unitName = (select.options[select.selectedIndex] || {}).textContent || "";
    const uuid = f.dataset.uuid || (f.elements.uuid && f.elements.uuid.value) || O.newUuid();
    const user = parseInt(f.dataset.user, 10);
    const start = f.elements.start_date.value, end = f.elements.end_date.value;
    const payload = {
      kind: "visit", uuid: uuid, unit_id: parseInt(select.value, 10), form: f.elements.form.value,
      start_date: start, end_date: end, submitted_at: new Date().toISOString(),
    };
    const text = f.elements.report ? f.elements.report.value.trim() : "";
    try {
      const key = PREFIX + uuid;
      const record = Object.assign({ report_uuid: O.newUuid(), report_version: 0, report_sent: 0, report_text: "" },
        (await O.get("drafts", key)) || {}, {
          key: key, uuid: uuid, user_id: user, unit_id: payload.unit_id, unit_name: unitName.replace(/^(— )+/, ""),
          form: payload.form, start_date: start, end_date: end, created_at: Date.now(), sent: false,
          data: { uuid: uuid }, // photos.js's sweep keeps the photos of a draft named so
        });
      if (text) Object.assign(record, { report_text: text, report_saved_at: Date.now() });
      await O.put("drafts", record);
      await O.enqueue({ uuid: uuid, payload: payload, unit_name: record.unit_name, start_date: start, user_id: user });
      await O.releasePhotos(uuid).catch(() => {}); // the form's photos go with it (else with the report)
      if (text) await queueReport(record, text);
    } catch (err) {
      // No room (or no IndexedDB) on this phone: with signal, the form goes to the server as it
      // does without script (submit() fires no submit event, so this handler stays out of it).
      if (navigator.onLine) { HTMLFormElement.prototype.submit.call(f); return; }
      showErrors(f, { unit_id: f.dataset.storageFailed });
      return;
    }
    // The next visit from this page (the back button may bring it back as it was) gets a UUID
    // of its own: reusing this one would replace the visit just kept.
    f.dataset.uuid = "";
    if (f.elements.uuid) f.elements.uuid.value = O.newUuid();
    draining();
    location.href = "/visits/drafts?visit=" + encodeURIComponent(uuid);
  }, true);

  async function queueReport(record, text) {
    const version = (record.report_version || 0) + 1;
    await O.enqueue({
      uuid: record.report_uuid,
      payload: {
        kind: "visit_report", uuid: record.report_uuid, visit_uuid: record.uuid, version: version,
        report: text, submitted_at: new Date().toISOString(),
      },
      unit_name: record.unit_name, start_date: record.start_date, user_id: record.user_id,
    });
    await O.releasePhotos(record.uuid).catch(() => {}); // the visit's photos go with the report
    record.report_version = version;
    record.report_queued_text = text;
    await O.put("drafts", record);
  }

  // ------------------------------------------------------------- drafts of the reports

  const box = document.getElementById("visit-drafts");
  if (box) setUpDrafts(box);

  async function records(user) {
    return (await O.all("drafts"))
      .filter((r) => typeof r.key === "string" && r.key.indexOf(PREFIX) === 0 && r.user_id === user)
      .sort((a, b) => (b.start_date || "").localeCompare(a.start_date || "") || b.created_at - a.created_at);
  }

  function statusText(record, waiting, words) {
    const parts = [];
    parts.push(record.sent ? words.visitSent : words.visitWaiting);
    if (record.report_version) {
      parts.push(record.report_sent >= record.report_version
        ? fill(words.sent, { n: record.report_version })
        : fill(words.queued, { n: record.report_version }));
      if ((record.report_text || "") !== (record.report_queued_text || "")) parts.push(words.changed);
    } else {
      parts.push(fill(words.due, { date: window.CosoFormat.date(addDays(record.end_date, parseInt(words.reportDays, 10) || 10)) }));
    }
    if (record.report_saved_at) parts.push(fill(words.saved, { time: clock(record.report_saved_at) }));
    return parts.join(" · ");
  }

  // One photo form for the page, moved into the draft whose photos are open: photos.js keeps
  // one set of thumbnail URLs, which a second form on the page would revoke.
  function photoForm(words) {
    const f = document.createElement("form");
    f.className = "visit-photos"; f.noValidate = true; f.hidden = true;
    f.addEventListener("submit", (e) => e.preventDefault());
    const uuid = document.createElement("input"); uuid.type = "hidden"; uuid.name = "uuid";
    const h = document.createElement("h3"); h.textContent = words.photos;
    const hint = document.createElement("p"); hint.className = "muted"; hint.textContent = words.photosHint;
    f.append(uuid, h, hint, P.controls(""));
    return f;
  }

  async function setUpDrafts(el) {
    const words = el.dataset;
    const user = parseInt(words.user, 10);
    const photos = P && words.photos ? photoForm(words) : null;
    // One write at a time, in typing order: a slower earlier write never lands last.
    let writing = Promise.resolve();
    const list = await records(user);
    el.textContent = "";
    if (!list.length) {
      const p = document.createElement("p"); p.className = "card muted"; p.textContent = words.empty; el.appendChild(p);
      return;
    }
    list.forEach((record) => {
      const card = document.createElement("section");
      card.className = "card visit-draft"; card.dataset.uuid = record.uuid;
      const h = document.createElement("h2");
      const formWord = words["form" + record.form.split("_").map((s) => s[0].toUpperCase() + s.slice(1)).join("")] || record.form;
      h.textContent = formWord + " · " + record.unit_name;
      const when = document.createElement("p"); when.className = "muted";
      when.textContent = window.CosoFormat.date(record.start_date) +
        (record.end_date !== record.start_date ? " – " + window.CosoFormat.date(record.end_date) : "");
      const label = document.createElement("label");
      const id = "report-" + record.uuid; label.htmlFor = id; label.textContent = words.report;
      const area = document.createElement("textarea");
      area.id = id; area.rows = 8; area.maxLength = MAX_REPORT; area.className = "visit-report";
      area.value = record.report_text || "";
      const status = document.createElement("p"); status.className = "muted draft-status"; status.setAttribute("role", "status");
      status.textContent = statusText(record, null, words);
      const error = document.createElement("p"); error.className = "field-error"; error.hidden = true;
      const save = document.createElement("button"); save.type = "button"; save.textContent = words.save; save.dataset.action = "save";
      const send = document.createElement("button"); send.type = "button"; send.className = "primary"; send.textContent = words.send; send.dataset.action = "send";
      const buttons = document.createElement("div"); buttons.className = "buttons"; buttons.append(save, send);
      if (photos) {
        const add = document.createElement("button"); add.type = "button"; add.textContent = words.addPhotos;
        add.dataset.action = "photos";
        buttons.prepend(add);
      }
      card.append(h, when, label, area, error, buttons, status);
      el.appendChild(card);
      // Saved on every change, as the checklist is: a reload or a dead battery loses nothing.
      area.addEventListener("input", () => keep(card, area.value));
    });
    const wanted = new URLSearchParams(location.search).get("visit");
    const target = wanted && el.querySelector('.visit-draft[data-uuid="' + CSS.escape(wanted) + '"] textarea');
    if (photos) {
      P.mount(photos, photosChanged);
      const open = target ? target.closest(".visit-draft") : list.length === 1 ? el.querySelector(".visit-draft") : null;
      if (open) await openPhotos(open);
      const again = () => { if (photos.isConnected) P.refresh(photos); }; // sent ones leave the phone
      window.addEventListener("coso:outbox", again);
      if (typeof BroadcastChannel !== "undefined") new BroadcastChannel(O.CHANNEL).addEventListener("message", again);
    }
    if (target) { target.scrollIntoView({ block: "center" }); target.focus(); }

    async function openPhotos(card) {
      photos.elements.uuid.value = card.dataset.uuid;
      card.querySelector(".buttons").insertAdjacentElement("beforebegin", photos);
      photos.hidden = false;
      el.querySelectorAll("button[data-action=photos]").forEach((b) => { b.hidden = b.closest(".visit-draft") === card; });
      await P.refresh(photos);
    }

    function keep(card, text) {
      const step = writing.then(async () => {
        const record = await O.get("drafts", PREFIX + card.dataset.uuid);
        if (!record) return null;
        record.report_text = text; record.report_saved_at = Date.now();
        try { await O.put("drafts", record); } catch (e) { fail(card, words.storageFailed); return null; }
        await refresh();
        return record;
      });
      writing = step.catch(() => null);
      return step;
    }

    // The record names its UUID as a draft does, so photos.js's sweep keeps its photos.
    function photosChanged() {
      const key = PREFIX + photos.elements.uuid.value;
      writing = writing.then(async () => {
        const record = await O.get("drafts", key);
        if (record && !record.data) { record.data = { uuid: record.uuid }; await O.put("drafts", record); }
      }).catch(() => null);
    }

    function fail(card, message) {
      const error = card.querySelector(".field-error");
      error.textContent = message; error.hidden = !message;
    }

    el.addEventListener("click", async (e) => {
      const b = e.target.closest && e.target.closest("button[data-action]");
      if (!b) return;
      const card = b.closest(".visit-draft");
      if (b.dataset.action === "photos") { await openPhotos(card); return; }
      const text = card.querySelector("textarea").value;
      const record = await keep(card, text);
      if (!record || b.dataset.action !== "send") return;
      if (!text.trim()) { fail(card, words.write); return; }
      fail(card, "");
      try { await queueReport(record, text.trim()); } catch (err) { fail(card, words.storageFailed); return; }
      record.report_text = text.trim();
      await O.put("drafts", record);
      await refresh();
      draining();
    });

    async function refresh() {
      const fresh = await records(user);
      fresh.forEach((record) => {
        const card = el.querySelector('.visit-draft[data-uuid="' + CSS.escape(record.uuid) + '"]');
        if (card) card.querySelector(".draft-status").textContent = statusText(record, null, words);
      });
    }
    window.addEventListener("coso:outbox", refresh);
    if (typeof BroadcastChannel !== "undefined") new BroadcastChannel(O.CHANNEL).addEventListener("message", refresh);
  }
})();
