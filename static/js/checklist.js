/* The checklist page: live hints (P4, topic share), drafts saved on every change, and submitting
 * through the outbox — written to IndexedDB first, the form cleared only after that write, then sent.
 * Offline, the service worker serves a generic copy of this page for any branch; it is completed
 * here from the field pack (branch, guidance topics, last result).
 */
(function () {
  "use strict";
  const O = window.CosoOutbox;
  const EPS = 1e-9;
  const t = window.CosoText; // app.js
  let form = null;
  let saveTimer = null;
  // A fresh, untouched form shows no verdict (issue 16: not "0/4 topics — C1 fails" at first sight).
  let touched = false;
  const NBSP = "\u00a0";

  const fmtDateTime = window.CosoFormat.dateTime; // app.js, as the server's |date writes it
  const fmtMonth = window.CosoFormat.month; // as the server's |month
  const fmtDay = window.CosoFormat.date; // "2026-12-05" as 05/12/2026
  const vi = () => document.documentElement.lang === "vi";

  // ---- the progress line: how many checklist items have an answer ----
  function progress() {
    const box = document.getElementById("progress");
    if (!box) return;
    const items = form.querySelectorAll("fieldset.item[id^=item-]");
    const done = Array.prototype.filter.call(items, (fs) => fs.querySelector("input[type=radio]:checked")).length;
    document.getElementById("progress-text").textContent =
      box.dataset.text.replace("%(done)s", done).replace("%(total)s", items.length);
    const meter = document.getElementById("progress-meter");
    if (meter) { meter.max = items.length; meter.value = done; }
  }

  // ---- live hints (display only: the server's score is the one that counts) ----
  function update() {
    if (!form) return;
    const ratio = parseFloat(form.dataset.ratio), floor = parseFloat(form.dataset.floor);
    const total = parseInt(form.elements.members_total.value, 10);
    const present = parseInt(form.elements.members_present.value, 10);
    const out = document.getElementById("attendance");
    if (out) {
      if (total > 0 && present >= 0 && present <= total) {
        const share = present / total;
        const value = share + EPS >= ratio ? "pass" : share + EPS >= floor ? "partial" : "fail";
        out.textContent = out.dataset.label + ": " + present + "/" + total + " = " +
          Math.round(share * 100) + NBSP + "% → " + out.dataset[value];
        out.classList.toggle("warn", value === "fail");
      } else {
        out.textContent = "";
      }
    }
    const topics = form.querySelectorAll("input[name=topics]");
    const cov = document.getElementById("coverage");
    if (cov && topics.length) {
      const ticked = Array.prototype.filter.call(topics, (x) => x.checked).length;
      const share = ticked / topics.length;
      const low = share + EPS < parseFloat(form.dataset.contentFloor) && (touched || ticked > 0);
      cov.textContent = cov.dataset.label + ": " + ticked + "/" + topics.length + " (" +
        Math.round(share * 100) + NBSP + "%)" + (low ? " — " + cov.dataset.warn : "");
      cov.classList.toggle("warn", low);
    }
    progress();
  }

  // ---- the form as data, and back ----
  function fields() {
    const data = {};
    new FormData(form).forEach((value, key) => {
      if (key === "csrf_token") return;
      if (key === "topics") (data.topics = data.topics || []).push(value);
      else if (key === "seen_done") (data.seen_done = data.seen_done || []).push(value);
      else data[key] = value;
    });
    return data;
  }

  function fill(data) {
    Array.prototype.forEach.call(form.elements, (el) => {
      if (!el.name || el.name === "csrf_token") return;
      if (el.type === "radio") el.checked = data[el.name] === el.value;
      else if (el.type === "checkbox") {
        if (el.name === "topics") el.checked = (data.topics || []).indexOf(el.value) >= 0;
        else if (el.name === "seen_done") el.checked = (data.seen_done || []).indexOf(el.value) >= 0;
        else el.checked = !!data[el.name];
      } else if (el.name in data) el.value = data[el.name];
    });
    update();
    if (window.CosoPhotos) window.CosoPhotos.refresh(form); // the photos of the uuid just filled in
  }

  const intOrText = (v) => (v === undefined || v === "" ? null : /^-?\d+$/.test(v.trim()) ? parseInt(v, 10) : v);

  function payload(data) {
    const item = basePayload(data);
    // Optional (issue 18, item 4): sent only when an action was ticked, so an evaluation without
    // one goes out exactly as before.
    const seen = (data.seen_done || []).map((v) => parseInt(v, 10)).filter((n) => n > 0);
    if (seen.length) item.seen_done = seen;
    return item;
  }

  function basePayload(data) {
    const answers = [];
    form.querySelectorAll("fieldset.item[id^=item-]").forEach((fs) => {
      const code = fs.id.slice(5);
      const value = data["answer-" + code];
      if (value) answers.push({ item: code, value: value, note: data["note-" + code] || null });
    });
    return {
      uuid: data.uuid,
      branch_id: parseInt(form.dataset.branchId, 10),
      template_id: parseInt(data.template_id, 10),
      guidance_id: data.guidance_id ? parseInt(data.guidance_id, 10) : null,
      meeting_date: data.meeting_date || null,
      meeting_type: data.meeting_type || null,
      mode: data.mode || null,
      members_total: intOrText(data.members_total),
      members_present: intOrText(data.members_present),
      answers: answers,
      topics_covered: data.topics || [],
      notes: data.notes || null,
      good_practice: data.good_practice || null,
      recommend_practice: !!data.recommend_practice,
      supersedes: data.supersedes || null,
      started_at: data.started_at || null,
      submitted_at: new Date().toISOString(),
    };
  }

  // ---- errors beside the fields, in the same markup the server renders ----
  function clearErrors() {
    form.querySelectorAll(".field-error.js, .error-summary.js").forEach((el) => el.remove());
    form.querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
    form.querySelectorAll("fieldset.item.invalid").forEach((el) => el.classList.remove("invalid"));
  }

  function showErrors(errors) {
    touched = true;
    clearErrors();
    const summary = document.createElement("div");
    summary.className = "error-summary js";
    summary.setAttribute("role", "alert");
    summary.tabIndex = -1;
    const strong = document.createElement("p");
    strong.innerHTML = "<strong></strong>";
    strong.firstChild.textContent = t("fixBelow");
    summary.appendChild(strong);
    const place = (anchor, messages, id) => {
      const p = document.createElement("p");
      p.className = "field-error js";
      p.id = id;
      p.textContent = [].concat(messages).join(" ");
      anchor.insertAdjacentElement("afterend", p);
    };
    Object.keys(errors || {}).forEach((key) => {
      const messages = errors[key];
      if (key === "answers" && messages && !Array.isArray(messages)) {
        Object.keys(messages).forEach((code) => {
          const fs = document.getElementById("item-" + code);
          if (fs) {
            fs.classList.add("invalid");
            place(fs.querySelector(".choices"), messages[code], "err-item-" + code);
          } else {
            const p = document.createElement("p"); p.textContent = code + ": " + [].concat(messages[code]).join(" "); summary.appendChild(p);
          }
        });
        return;
      }
      const input = form.elements[key === "topics_covered" ? "topics" : key];
      const el = input && (input.length && !input.tagName ? input[0].closest("fieldset") : input);
      if (el && el.type !== "hidden") {
        if (el.setAttribute) el.setAttribute("aria-invalid", "true");
        place(el, messages, "err-" + key);
      } else {
        const p = document.createElement("p"); p.textContent = [].concat(messages).join(" "); summary.appendChild(p);
      }
    });
    const missing = missingList(errors);
    if (missing) summary.appendChild(missing);
    const bar = document.getElementById("progress");
    form.insertBefore(summary, bar ? bar.nextSibling : form.firstChild.nextSibling);
    summary.focus();
  }

  /** The refused items as links that jump to them, in the order of the form. */
  function missingList(errors) {
    const targets = [];
    const answers = errors.answers && !Array.isArray(errors.answers) ? errors.answers : {};
    form.querySelectorAll("#meeting_date, #meeting_type, #mode-choices, #members_total, #members_present, " +
      "#topics, fieldset.item[id^=item-], #notes, #good_practice").forEach((el) => {
      const key = el.id === "mode-choices" ? "mode" : el.id === "topics" ? "topics_covered" : el.id;
      const code = el.id.indexOf("item-") === 0 ? el.id.slice(5) : null;
      if (code ? !answers[code] : !errors[key]) return;
      let text;
      if (code) text = el.querySelector("legend").textContent.replace(/\s+/g, " ").trim();
      else if (el.tagName === "FIELDSET") text = el.querySelector("legend").textContent.trim();
      else if (el.id === "topics") text = t("topicsCovered");
      else {
        const label = form.querySelector("label[for='" + el.id + "']");
        text = label ? label.textContent.trim() : el.id;
      }
      targets.push([el.id, text]);
    });
    if (!targets.length) return null;
    const ul = document.createElement("ul");
    ul.className = "missing";
    ul.id = "missing";
    targets.forEach(([id, text]) => {
      const li = document.createElement("li");
      const a = document.createElement("a");
      a.href = "#" + id;
      a.textContent = text;
      li.appendChild(a);
      ul.appendChild(li);
    });
    return ul;
  }

  function checkLocally(data) {
    const errors = {};
    const answers = {};
    form.querySelectorAll("fieldset.item[id^=item-]").forEach((fs) => {
      const code = fs.id.slice(5);
      if (!data["answer-" + code]) answers[code] = [t("chooseAnswer")];
    });
    if (Object.keys(answers).length) errors.answers = answers;
    const total = intOrText(data.members_total), present = intOrText(data.members_present);
    if (!Number.isInteger(total) || total < 1) errors.members_total = [t("enterNumber")];
    if (!Number.isInteger(present) || present < 0) errors.members_present = [t("enterNumber")];
    else if (Number.isInteger(total) && present > total) errors.members_present = [t("presentOverTotal")];
    if (!data.meeting_date) errors.meeting_date = [t("required")];
    return errors;
  }

  // ---- drafts ----
  function draftKey() {
    const sup = form.elements.supersedes ? ":" + form.elements.supersedes.value : "";
    return "draft:" + form.dataset.branchId + sup;
  }

  function saveDraft() {
    if (!O || !form) return;
    clearTimeout(saveTimer);
    saveTimer = null;
    O.put("drafts", { key: draftKey(), branch_id: form.dataset.branchId, saved_at: Date.now(), data: fields() })
      .catch((e) => showStorageError(e));
  }

  function scheduleSave() {
    clearTimeout(saveTimer);
    saveTimer = setTimeout(saveDraft, 200);
  }

  async function offerDraft() {
    const draft = await O.get("drafts", draftKey());
    if (!draft) return;
    const box = document.getElementById("draft-offer");
    if (!box) return;
    box.querySelector(".when").textContent = fmtDateTime(draft.saved_at);
    box.hidden = false;
    // After a reload the browser restores the scroll position, which can leave the offer
    // off-screen and the form looking wiped: the progress line (always in view) points to it,
    // and the offer is brought into view once the browser has restored its scroll.
    const link = document.getElementById("draft-link");
    const done = () => { box.hidden = true; if (link) link.hidden = true; };
    if (link) link.hidden = false;
    box.querySelector("[data-action=restore]").onclick = () => { fill(draft.data); touched = true; update(); done(); };
    box.querySelector("[data-action=discard]").onclick = async () => {
      await O.del("drafts", draftKey());
      if (window.CosoPhotos && draft.data && draft.data.uuid) await window.CosoPhotos.discard(draft.data.uuid);
      done();
    };
    const show = () => {
      const r = box.getBoundingClientRect();
      if (!box.hidden && (r.top < 0 || r.bottom > window.innerHeight)) box.scrollIntoView({ block: "center" });
    };
    if (document.readyState === "complete") setTimeout(show, 0);
    else window.addEventListener("load", () => setTimeout(show, 0), { once: true });
  }

  function showStorageError(err) {
    const box = document.getElementById("submit-status");
    if (!box) return;
    box.hidden = false;
    box.className = "flash flash-error";
    box.textContent = err && err.name === "QuotaExceededError" ? t("quotaFull") : t("storageFailed");
  }

  // ---- submit: outbox first, then send ----
  async function submit(e) {
    e.preventDefault();
    e.stopImmediatePropagation();
    const data = fields();
    const errors = checkLocally(data);
    if (Object.keys(errors).length) { showErrors(errors); return; }
    clearErrors();
    const item = {
      uuid: data.uuid,
      user_id: parseInt(document.body.dataset.user, 10),
      branch_id: parseInt(form.dataset.branchId, 10),
      branch_name: form.dataset.branchName || "",
      payload: payload(data),
    };
    const status = document.getElementById("submit-status");
    if (navigator.storage && navigator.storage.persist) navigator.storage.persist().catch(() => {});
    try {
      await O.enqueue(item);
      await O.releasePhotos(item.uuid); // the draft's photos go with it (issue 20)
    } catch (err) {
      showStorageError(err); // nothing was cleared: the cadre can try again or export
      return;
    }
    // Written and confirmed: only now clear the draft and the form.
    clearTimeout(saveTimer);
    await O.del("drafts", draftKey()).catch(() => {});
    form.reset();
    form.elements.uuid.value = O.newUuid();
    update();
    if (window.CosoPhotos) await window.CosoPhotos.refresh(form);
    if (navigator.serviceWorker && navigator.serviceWorker.ready) {
      navigator.serviceWorker.ready.then((reg) => reg.sync && reg.sync.register("coso-outbox")).catch(() => {});
    }
    status.hidden = false;
    status.className = "flash";
    status.textContent = t("sendingOne");
    if (window.CosoApp) await window.CosoApp.drain();
    const sent = await O.get("sent", item.uuid);
    if (sent) { window.location.href = "/evaluations/" + sent.id; return; }
    const queued = await O.get("outbox", item.uuid);
    if (queued && queued.state === "attention") {
      fill(Object.assign(dataFromPayload(queued.payload), { uuid: queued.uuid }));
      showErrors(queued.errors || {});
      status.hidden = true;
      return;
    }
    document.getElementById("saved-panel").hidden = false;
    status.hidden = true;
    form.hidden = true;
    window.scrollTo(0, 0);
  }

  function dataFromPayload(p) {
    const data = {
      uuid: p.uuid, template_id: String(p.template_id), guidance_id: p.guidance_id ? String(p.guidance_id) : "",
      meeting_date: p.meeting_date || "", meeting_type: p.meeting_type || "", mode: p.mode || "",
      members_total: p.members_total == null ? "" : String(p.members_total),
      members_present: p.members_present == null ? "" : String(p.members_present),
      topics: p.topics_covered || [], notes: p.notes || "", good_practice: p.good_practice || "",
      recommend_practice: p.recommend_practice ? "1" : "", supersedes: p.supersedes || "",
      started_at: p.started_at || "", seen_done: (p.seen_done || []).map(String),
    };
    (p.answers || []).forEach((a) => { data["answer-" + a.item] = a.value; if (a.note) data["note-" + a.item] = a.note; });
    return data;
  }

  // ---- offline shell: fill in the branch from the field pack ----
  async function hydrate() {
    const match = /^\/evaluate\/(\d+)/.exec(location.pathname);
    const stored = await O.get("meta", "fieldpack");
    const pack = stored && stored.value;
    const branch = match && pack && pack.branches.find((b) => b.id === parseInt(match[1], 10));
    const heading = document.getElementById("branch-name");
    if (!branch) {
      heading.textContent = t("noBranchOffline");
      form.hidden = true;
      return;
    }
    form.dataset.branchId = String(branch.id);
    form.dataset.branchName = branch.name;
    form.action = "/evaluate/" + branch.id;
    heading.textContent = branch.name;
    document.getElementById("branch-meta").textContent = branch.code + (branch.parent_name ? " · " + branch.parent_name : "");
    if (branch.next_meeting) {  // the branch's next declared meeting (issue 18, item 1)
      const next = note(window.CosoFormat.meeting(branch.next_meeting), "muted");
      next.id = "branch-next-meeting";
      document.getElementById("branch-meta").insertAdjacentElement("afterend", next);
    }
    if (branch.members && !form.elements.members_total.value) form.elements.members_total.value = branch.members;
    const s = pack.settings || {};
    form.dataset.ratio = s.attendance_ratio; form.dataset.floor = s.attendance_floor; form.dataset.contentFloor = s.content_floor;
    // The branch's own checklist (issue 16, item 6): the page was rendered with the cadre's home
    // unit's template; the pack names the one that applies to this branch.
    const tpl = (pack.templates || []).find((x) => x.id === branch.template_id);
    if (!tpl) {
      heading.insertAdjacentElement("afterend", note(t("noTemplateOffline"), "flash flash-error"));
      form.hidden = true;
      return;
    }
    if (String(tpl.id) !== form.dataset.templateId) renderItems(tpl);
    showLast(branch.last_evaluation);
    renderTopics(pack, branch);
    renderBrief(pack, branch);
  }

  // ---- the brief before leaving (issue 18, item 4), from the field pack ----
  /** Fill the page's brief (evaluations/_brief.html, rendered empty with its labels) and mark
   * last time's failed items, as the server does online. A page cached before the brief
   * existed has no #brief: nothing to do. */
  function renderBrief(pack, branch) {
    const box = document.getElementById("brief");
    if (!box) return;
    const brief = branch.brief || {};
    const show = (id, on) => { const el = document.getElementById(id); if (el) el.hidden = !on; return el; };
    const text = (id, value) => { const el = document.getElementById(id); if (el) el.textContent = value; return el; };
    let any = false;
    // What the cadre's own plan asks to look at.
    const plans = brief.plans || [];
    const planTpl = (pack.templates || []).find((x) => x.id === branch.template_id);
    const planItemText = (code) => {
      const item = planTpl && planTpl.items.find((i) => i.code === code);
      return item ? (vi() ? item.text_vi : item.text_en) || item.text : "";
    };
    const planList = document.getElementById("brief-plan-list");
    planList.textContent = "";
    plans.forEach((p) => {
      const li = document.createElement("li");
      const strong = document.createElement("strong"); strong.textContent = p.form_label;
      li.appendChild(strong);
      li.appendChild(document.createTextNode(" · " + fmtDay(p.start) + (p.end !== p.start ? "–" + fmtDay(p.end) : "")));
      if (p.focus) {
        li.appendChild(document.createElement("br"));
        const span = document.createElement("span"); span.className = "brief-text"; span.textContent = p.focus;
        li.appendChild(span);
      }
      if (p.items && p.items.length) {  // the checklist items the plan asks to look at
        li.appendChild(document.createElement("br"));
        const items = document.createElement("span"); items.className = "brief-items";
        p.items.forEach((code, i) => {
          const c = document.createElement("span"); c.className = "code"; c.textContent = code;
          items.appendChild(c);
          items.appendChild(document.createTextNode(" " + planItemText(code) + (i < p.items.length - 1 ? "; " : "")));
        });
        li.appendChild(items);
      }
      planList.appendChild(li);
    });
    any = show("brief-plans", plans.length) && plans.length ? true : any;
    // The month's guidance that applies to this branch, with its material and link.
    const period = (form.elements.meeting_date.value || "").slice(0, 7) || pack.period;
    const g = (pack.guidance || []).find((x) => x.id === branch.guidance_id && x.period === period) ||
      (pack.guidance || []).find((x) => x.id === branch.guidance_id);
    if (g) {
      text("brief-guidance-title", g.title);
      show("brief-material", !!g.material); text("brief-material", g.material || "");
      show("brief-link-line", !!g.link);
      if (g.link && /^https?:\/\//i.test(g.link)) document.getElementById("brief-link").href = g.link;
      any = true;
    }
    show("brief-guidance", !!g);
    // The secretary: name, since when, Party member or not.
    const sec = brief.secretary;
    const secBox = show("brief-secretary", !!sec);
    if (sec) {
      const parts = [sec.name || "—"];
      if (sec.since) parts.push(secBox.dataset.since.replace("%(date)s", fmtDay(sec.since)));
      if (sec.party === true) parts.push(secBox.dataset.party);
      else if (sec.party === false) parts.push(secBox.dataset.notParty);
      text("brief-secretary-text", parts.join(" · "));
      any = true;
    }
    // The declared meeting.
    show("brief-meeting", !!branch.next_meeting);
    if (branch.next_meeting) { text("brief-meeting-text", window.CosoFormat.meeting(branch.next_meeting)); any = true; }
    // Last time's failed items and the cadre's comments.
    const failed = brief.failed || [];
    const tpl = (pack.templates || []).find((x) => x.id === branch.template_id);
    const itemText = (code) => {
      const item = tpl && tpl.items.find((i) => i.code === code);
      return item ? (vi() ? item.text_vi : item.text_en) || item.text : "";
    };
    const failedList = document.getElementById("brief-failed");
    failedList.textContent = "";
    failed.forEach((code) => {
      const li = document.createElement("li");
      const span = document.createElement("span"); span.className = "code"; span.textContent = code;
      li.appendChild(span); li.appendChild(document.createTextNode(" " + itemText(code)));
      failedList.appendChild(li);
    });
    const label = document.getElementById("brief-notes-label");
    show("brief-notes", !!brief.notes);
    text("brief-notes", brief.notes ? (label ? label.textContent.trim() + ": " : "") + brief.notes : "");
    if (show("brief-last", failed.length || brief.notes) && (failed.length || brief.notes)) any = true;
    markFailed(failed, box.dataset.failedLabel);
    // The open actions, each with its "seen done" box.
    const actions = brief.actions || [];
    const list = document.getElementById("brief-action-list");
    const proto = document.getElementById("brief-action-proto");
    list.textContent = "";
    actions.forEach((a) => {
      const li = proto.content.firstElementChild.cloneNode(true);
      li.dataset.actionId = String(a.id);
      const box2 = li.querySelector("input"); box2.value = String(a.id);
      li.querySelector(".brief-action-text").textContent = (a.item ? a.item + " · " : "") + a.text;
      const meta = li.querySelector(".brief-action-meta");
      meta.textContent = a.owner + " · " + meta.dataset.due + ": " + fmtDay(a.due);
      li.querySelector(".fb-late").hidden = !a.overdue;
      li.querySelector(".brief-seen").hidden = !a.seen;
      list.appendChild(li);
    });
    if (show("brief-actions", actions.length) && actions.length) any = true;
    const un = document.getElementById("brief-unanswered");
    un.hidden = !brief.unanswered;
    un.textContent = brief.unanswered ? un.dataset.text.replace("%(n)s", brief.unanswered) : "";
    if (brief.unanswered) any = true;
    box.hidden = !any;
  }

  /** Mark the items the branch failed at its last evaluation (the server's markup online). */
  function markFailed(codes, label) {
    codes.forEach((code) => {
      const fs = document.getElementById("item-" + code);
      if (!fs || fs.classList.contains("failed-last")) return;
      fs.classList.add("failed-last");
      const head = fs.querySelector("legend") || fs.querySelector("p");
      if (!head) return;
      const tag = document.createElement("span"); tag.className = "tag last-failed"; tag.textContent = label;
      head.appendChild(document.createTextNode(" ")); head.appendChild(tag);
    });
  }

  function note(text, cls) {
    const p = document.createElement("p");
    p.className = cls; p.textContent = text;
    return p;
  }

  /** A score as the server's ``|number`` filter writes it (81,5 in Vietnamese). */
  const fmtNumber = (n) => (n == null ? "—" : vi() ? n.toFixed(1).replace(".", ",") : n.toFixed(1));

  /** The branch's last result, in the words of the online page's header. */
  function showLast(last) {
    if (!last || document.getElementById("last-result")) return;
    const p = note(t("lastEvaluation") + ": " + fmtDay(last.meeting_date) + " · " + fmtNumber(last.score) + " · " +
      (last.compliant ? t("compliant") : t("nonCompliant")), "muted");
    p.id = "last-result";
    document.getElementById("branch-meta").insertAdjacentElement("afterend", p);
  }

  /** Redraw the checklist items for ``tpl`` (a field pack template), in the page's own markup:
   * each item is a copy of one the server rendered, renamed. */
  function renderItems(tpl) {
    const choice = form.querySelector("fieldset.item[id^=item-]");
    const computed = form.querySelector(".computed-item");
    const starProto = form.querySelector("abbr.critical");
    if (!choice) return;
    const protoChoice = choice.cloneNode(true), protoComputed = computed && computed.cloneNode(true);
    form.querySelectorAll("fieldset.item[id^=item-], .computed-item").forEach((el) => el.remove());
    const text = (item) => (vi() ? item.text_vi : item.text_en) || item.text;
    tpl.items.forEach((item) => {
      const section = document.getElementById("section-" + item.section);
      if (!section) return;
      let el;
      if (item.kind === "choice") {
        el = protoChoice.cloneNode(true);
        const old = el.id.slice(5);
        el.id = "item-" + item.code;
        el.querySelectorAll("input[type=radio]").forEach((r) => { r.name = "answer-" + item.code; r.checked = false; });
        const area = el.querySelector("textarea");
        area.id = area.name = "note-" + item.code; area.value = "";
        const label = el.querySelector("label.sr");
        label.htmlFor = area.id; label.textContent = label.textContent.replace(old, item.code);
        el.querySelector("details").open = false;
      } else {
        if (!protoComputed) return;
        el = protoComputed.cloneNode(true);
        el.id = "item-" + item.code;
      }
      const head = el.querySelector(item.kind === "choice" ? "legend" : "p");
      head.textContent = "";
      const code = document.createElement("span"); code.className = "code"; code.textContent = item.code;
      head.appendChild(code); head.appendChild(document.createTextNode(" " + text(item)));
      if (item.critical && starProto) { head.appendChild(document.createTextNode(" ")); head.appendChild(starProto.cloneNode(true)); }
      section.appendChild(el);
    });
    form.elements.template_id.value = String(tpl.id);
    form.dataset.templateId = String(tpl.id);
    update();
    if (window.CosoPhotos) window.CosoPhotos.refresh(form);
  }

  // ---- the same meeting evaluated already? (issue 16, item 3; non-blocking) ----
  // Online the server answers beside the topics (evaluations/_duplicate.html); offline, or for
  // what only this phone knows, the field pack's recent_evaluations, the outbox and the sent list.
  async function checkDuplicates() {
    if (!O || !form || !form.dataset.branchId) return;
    const id = parseInt(form.dataset.branchId, 10);
    const day = form.elements.meeting_date.value;
    const own = form.elements.uuid.value;
    const fixing = form.elements.supersedes ? form.elements.supersedes.value : "";
    const generic = !!form.dataset.generic;
    const me = parseInt(document.body.dataset.user, 10);
    const found = [];
    const seen = new Set([own]);
    const replaced = new Set([fixing]);
    const queued = (await O.all("outbox")).filter((i) => i.branch_id === id && i.user_id === me);
    const sent = generic ? (await O.all("sent")).filter((i) => i.branch_id === id && (!i.user_id || i.user_id === me)) : [];
    queued.forEach((i) => { if (i.payload && i.payload.supersedes) replaced.add(i.payload.supersedes); });
    sent.forEach((i) => { if (i.supersedes) replaced.add(i.supersedes); });
    const hours = generic ? await correctionHours() : 0;
    const open = (ms) => Date.now() - ms <= hours * 3600e3;
    queued.forEach((i) => {
      if (seen.has(i.uuid) || replaced.has(i.uuid) || !i.payload || i.payload.meeting_date !== day) return;
      seen.add(i.uuid);
      found.push({ text: t("dupWaiting").replace("%(when)s", fmtDateTime(i.created_at)),
        href: "/evaluate/" + id + "?outbox=" + encodeURIComponent(i.uuid) });
    });
    if (generic) {
      const stored = await O.get("meta", "fieldpack");
      const branch = stored && stored.value.branches.find((b) => b.id === id);
      ((branch && branch.recent_evaluations) || []).forEach((e) => {
        if (e.meeting_date !== day || (e.uuid && (seen.has(e.uuid) || replaced.has(e.uuid)))) return;
        if (e.uuid) seen.add(e.uuid);
        const when = fmtDateTime(Date.parse(e.received_at));
        if (!e.mine) { found.push({ text: t("dupOther").replace("%(name)s", e.cadre).replace("%(when)s", when) }); return; }
        found.push(mine(id, e.uuid, when, open(Date.parse(e.received_at))));
      });
      sent.forEach((i) => {
        if (i.meeting_date !== day || seen.has(i.uuid) || replaced.has(i.uuid)) return;
        seen.add(i.uuid);
        found.push(mine(id, i.uuid, fmtDateTime(i.sent_at), open(i.sent_at)));
      });
    }
    drawDuplicates(found, generic);
  }

  function mine(id, uuid, when, correctable) {
    const text = t("dupMine").replace("%(when)s", when);
    if (correctable) return { text: text, href: "/evaluate/" + id + "?correct=" + encodeURIComponent(uuid) };
    return { text: text + " " + t("dupLate") };
  }

  async function correctionHours() {
    const stored = await O.get("meta", "fieldpack");
    const s = (stored && stored.value.settings) || {};
    return typeof s.correction_hours === "number" ? s.correction_hours : 48;
  }

  /** Draw the warnings in the server's markup: into its box offline, beside it online. */
  function drawDuplicates(found, generic) {
    const server = document.getElementById("duplicate-warning");
    if (!server) return;
    let box = server;
    if (!generic) {
      box = document.getElementById("duplicate-local");
      if (!box) {
        box = document.createElement("div");
        box.id = "duplicate-local"; box.className = "duplicate"; box.setAttribute("aria-live", "polite");
        server.insertAdjacentElement("afterend", box);
      }
    }
    box.textContent = "";
    if (!found.length) return;
    const panel = document.createElement("div");
    panel.className = "flash flash-warn"; panel.setAttribute("role", "status");
    const ul = document.createElement("ul");
    found.forEach((f) => {
      const li = document.createElement("li");
      li.textContent = f.text;
      if (f.href) {
        const a = document.createElement("a");
        a.href = f.href; a.className = "correct-earlier"; a.textContent = t("dupCorrect");
        li.appendChild(document.createTextNode(" ")); li.appendChild(a);
      }
      ul.appendChild(li);
    });
    panel.appendChild(ul);
    panel.appendChild(note(t("dupBoth"), ""));
    box.appendChild(panel);
  }

  function renderTopics(pack, branch) {
    const box = document.getElementById("topics");
    if (!box || !pack) return;
    const date = form.elements.meeting_date.value || new Date().toISOString().slice(0, 10);
    const period = date.slice(0, 7);
    const ancestors = (pack.guidance || []).filter((g) => g.period === period);
    // The branch's guidance for this month is named in the pack; for another month, the
    // nearest issuer is not known offline, so take the one issued highest up the tree.
    let g = ancestors.find((x) => x.id === branch.guidance_id) || ancestors[0];
    box.textContent = "";
    if (!g) {
      const p = document.createElement("p"); p.className = "muted"; p.textContent = t("noGuidance"); box.appendChild(p);
      return;
    }
    const hidden = document.createElement("input");
    hidden.type = "hidden"; hidden.name = "guidance_id"; hidden.value = g.id;
    const fs = document.createElement("fieldset");
    const legend = document.createElement("legend");
    legend.textContent = t("topicsOf").replace("%(period)s", fmtMonth(g.period)) + ": " + g.title;
    fs.appendChild(legend);
    g.topics.forEach((topic) => {
      const label = document.createElement("label"); label.className = "check";
      const box2 = document.createElement("input"); box2.type = "checkbox"; box2.name = "topics"; box2.value = topic.code;
      label.appendChild(box2); label.appendChild(document.createTextNode(" " + topic.title));
      fs.appendChild(label);
    });
    const cov = document.createElement("p");
    cov.className = "computed"; cov.id = "coverage"; cov.setAttribute("aria-live", "polite");
    cov.dataset.label = t("topicsCovered"); cov.dataset.warn = t("underFloor");
    fs.appendChild(cov);
    box.appendChild(hidden); box.appendChild(fs);
    update();
  }

  // The topics of the chosen month from the field pack, when the server cannot be asked.
  async function topicsFromPack() {
    const stored = await O.get("meta", "fieldpack");
    const id = parseInt(form.dataset.branchId, 10);
    const branch = stored && stored.value.branches.find((b) => b.id === id);
    if (branch) renderTopics(stored.value, branch);
  }

  async function loadFromOutbox(uuid) {
    const queued = await O.get("outbox", uuid);
    if (!queued) return;
    fill(Object.assign(dataFromPayload(queued.payload), { uuid: queued.uuid }));
    if (queued.errors) showErrors(queued.errors);
  }

  /** Offline, "correct the earlier one" (issue 16, item 3): the server would fill the form from
   * the stored evaluation; without signal the phone fills it from what it sent (the "sent" list
   * keeps each payload) and marks the new one as superseding it, as the server's form does. */
  async function loadCorrection(uuid) {
    const id = parseInt(form.dataset.branchId, 10);
    const sent = await O.get("sent", uuid);
    const stored = await O.get("meta", "fieldpack");
    const branch = stored && stored.value.branches.find((b) => b.id === id);
    const known = ((branch && branch.recent_evaluations) || []).find((e) => e.uuid === uuid);
    const earlier = sent && sent.branch_id === id && sent.payload ? sent.payload : null;
    const day = earlier ? earlier.meeting_date : (sent && sent.branch_id === id && sent.meeting_date) || (known && known.meeting_date);
    if (!day) return; // not an evaluation of this branch this phone knows of: a new one
    let field = form.elements.supersedes;
    if (!field) {
      field = document.createElement("input");
      field.type = "hidden"; field.name = "supersedes";
      form.insertBefore(field, form.firstChild);
    }
    field.value = uuid;
    form.elements.meeting_date.value = day;
    await topicsFromPack(); // the topics of that meeting's month
    if (earlier) {
      const data = dataFromPayload(earlier);
      delete data.template_id; // the branch's checklist as the pack has it now
      Object.assign(data, { uuid: form.elements.uuid.value, supersedes: uuid, started_at: new Date().toISOString() });
      fill(data);
      touched = true;
      update();
    }
    const head = document.getElementById("branch-meta");
    const msg = note(t("correcting").replace("%(date)s", fmtDay(day)), "flash");
    msg.id = "correcting"; msg.setAttribute("role", "status");
    head.insertAdjacentElement("afterend", msg);
    if (!earlier) msg.insertAdjacentElement("afterend", note(t("correctNotHere"), "flash flash-warn"));
  }

  async function init() {
    form = document.getElementById("checklist");
    if (!form) return;
    // A form the server sent back refused has been worked on: its verdicts may show at once.
    touched = !!form.querySelector(".error-summary");
    update();
    if (!O) return; // no IndexedDB: the plain form POST still works
    form.addEventListener("submit", submit, true);
    form.addEventListener("input", scheduleSave);
    form.addEventListener("change", scheduleSave);
    window.addEventListener("pagehide", () => { if (saveTimer) saveDraft(); });
    document.addEventListener("visibilitychange", () => { if (document.visibilityState === "hidden" && saveTimer) saveDraft(); });
    if (form.dataset.generic) await hydrate();
    if (!form.elements.uuid.value) form.elements.uuid.value = O.newUuid();
    if (window.CosoPhotos) {
      window.CosoPhotos.mount(form, saveDraft);
      await window.CosoPhotos.sweep([form.elements.uuid.value]).catch(() => {});
      await window.CosoPhotos.refresh(form);
    }
    const params = new URLSearchParams(location.search);
    if (params.get("outbox")) await loadFromOutbox(params.get("outbox"));
    else {
      if (params.get("correct") && form.dataset.generic && !form.hidden) await loadCorrection(params.get("correct"));
      await offerDraft();
    }
    // Offline, the topics for another month come from the pack instead of the server.
    form.elements.meeting_date.addEventListener("change", async () => {
      await checkDuplicates();
      if (navigator.onLine && !form.dataset.generic) return; // htmx asks the server
      await topicsFromPack();
    });
    await checkDuplicates();
  }

  const touch = (e) => { if (e.target.closest && e.target.closest("#checklist")) { if (e.isTrusted) touched = true; update(); } };
  document.addEventListener("input", touch);
  document.addEventListener("change", touch);
  document.addEventListener("htmx:afterSettle", update);
  document.addEventListener("htmx:sendError", async (e) => {
    // The topics request failed (no signal): render them from the pack.
    if (!form || !e.detail || !e.detail.elt || e.detail.elt.name !== "meeting_date") return;
    await topicsFromPack();
  });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
