/* The outbox page: every waiting evaluation with its state, and what the cadre can do about it. */
(function () {
  "use strict";
  const O = window.CosoOutbox;
  const t = window.CosoText; // app.js
  const me = parseInt(document.body.dataset.user, 10);

  function errorsText(errors) {
    const parts = [];
    Object.keys(errors || {}).forEach((key) => {
      const v = errors[key];
      if (Array.isArray(v)) parts.push(v.join(" "));
      else if (v && typeof v === "object") Object.keys(v).forEach((k) => parts.push(k + ": " + [].concat(v[k]).join(" ")));
    });
    return parts.join(" · ");
  }

  function button(label, action, uuid, primary) {
    const b = document.createElement("button");
    b.type = "button"; b.textContent = label; b.dataset.action = action; b.dataset.uuid = uuid;
    if (primary) b.className = "primary";
    return b;
  }

  // Visits and their reports (issue 18, item 5) and difficulties (issue 19, item 1) say what
  // they are: "Visit · unit", "Report v2 · unit", "Difficulty · unit".
  const words = (document.getElementById("outbox-list") || { dataset: {} }).dataset;
  function label(item) {
    const kind = item.payload.kind;
    const what = kind === "visit" ? words.visit : kind === "difficulty" ? words.difficulty :
      (words.report || "").replace("%(n)s", item.payload.version);
    return what + " · " + (item.unit_name || ("#" + (item.payload.unit_id || "")));
  }

  const render = O.serial(draw);

  async function draw() {
    const list = document.getElementById("outbox-list");
    const sentList = document.getElementById("sent-list");
    const items = (await O.all("outbox")).sort((a, b) => a.created_at - b.created_at);
    list.textContent = "";
    if (!items.length) {
      const li = document.createElement("li"); li.className = "muted"; li.textContent = t("empty"); list.appendChild(li);
    }
    items.forEach((item) => {
      const li = document.createElement("li");
      li.className = "outbox-item state-" + item.state;
      li.dataset.uuid = item.uuid;
      const kind = item.payload.kind || "evaluation";
      li.dataset.kind = kind;
      const name = document.createElement("strong");
      name.textContent = kind === "evaluation" ? (item.branch_name || ("#" + item.branch_id)) : label(item);
      const meta = document.createElement("span"); meta.className = "muted";
      meta.textContent = window.CosoFormat.date(kind === "evaluation" ? item.payload.meeting_date : item.start_date);
      const state = document.createElement("span");
      state.className = "state " + (item.state === "attention" ? "state-flagged" : "state-overdue");
      state.textContent = item.state === "attention" ? t("attention") : item.state === "sending" ? t("stateSending") : t("waiting");
      li.append(name, meta, state);
      if (item.user_id !== me) {
        const other = document.createElement("span"); other.className = "muted"; other.textContent = t("otherAccount"); li.appendChild(other);
      }
      if (item.state === "attention") {
        const why = document.createElement("p"); why.className = "field-error reason";
        why.textContent = item.status === "server_error" ? t("serverFailed") : errorsText(item.errors);
        li.appendChild(why);
        li.appendChild(button(t("fix"), "fix", item.uuid, true));
      }
      li.appendChild(button(t("discard"), "discard", item.uuid));
      list.appendChild(li);
    });
    await drawPhotos(list, items.length === 0);
    const sent = (await O.all("sent")).sort((a, b) => b.sent_at - a.sent_at).slice(0, 20);
    sentList.textContent = "";
    if (!sent.length) {
      const li = document.createElement("li"); li.className = "muted"; li.textContent = t("noneSent"); sentList.appendChild(li);
    }
    sent.forEach((s) => {
      const li = document.createElement("li");
      const a = document.createElement("a");
      if (s.kind === "difficulty") {
        a.href = "/difficulties/" + s.id;
        a.textContent = label({ payload: { kind: s.kind }, unit_name: s.unit_name });
      } else if (s.kind === "visit" || s.kind === "visit_report") {
        a.href = "/visits/" + s.id + "/report";
        a.textContent = label({ payload: { kind: s.kind, version: s.version }, unit_name: s.unit_name });
      } else {
        a.href = "/evaluations/" + s.id; a.textContent = s.branch_name || ("#" + s.branch_id);
      }
      const meta = document.createElement("span"); meta.className = "muted";
      meta.textContent = window.CosoFormat.date(s.kind ? s.start_date : s.meeting_date);
      const state = document.createElement("span"); state.className = "state state-ok"; state.textContent = t("stateSent");
      li.append(a, meta, state);
      sentList.appendChild(li);
    });
  }

  // Photos waiting to go (issue 20), each on its own line: the answers may be on the server
  // already while a photo waits, or is refused and says why.
  async function drawPhotos(list, empty) {
    const photos = (await O.all("photos")).filter((p) => p.state !== "draft").sort((a, b) => a.created_at - b.created_at);
    if (photos.length && empty) list.textContent = "";
    photos.forEach((p) => {
      const li = document.createElement("li");
      li.className = "outbox-item outbox-photo state-" + p.state;
      li.dataset.photo = p.id;
      const name = document.createElement("strong");
      name.textContent = t("photoWaiting").replace("%(item)s", p.item || t("photoWhole"));
      const meta = document.createElement("span"); meta.className = "muted";
      meta.textContent = Math.round((p.size || 0) / 1024) + " KB";
      const state = document.createElement("span");
      state.className = "state " + (p.state === "attention" ? "state-flagged" : "state-overdue");
      state.textContent = p.state === "attention" ? t("attention") : p.state === "sending" ? t("stateSending") : t("waiting");
      li.append(name, meta, state);
      if (p.state === "attention") {
        const why = document.createElement("p"); why.className = "field-error reason";
        why.textContent = errorsText(p.errors);
        li.appendChild(why);
      }
      const b = button(t("discard"), "discard-photo", p.id);
      b.dataset.photo = p.id;
      li.appendChild(b);
      list.appendChild(li);
    });
  }

  document.addEventListener("click", async (e) => {
    const b = e.target.closest && e.target.closest("button[data-action]");
    if (b && b.dataset.action === "discard-photo") {
      if (window.confirm(t("photoConfirmRemove"))) { await O.del("photos", b.dataset.photo); O.notify({ type: "changed" }); }
      render();
      return;
    }
    if (b) {
      const item = await O.get("outbox", b.dataset.uuid);
      if (!item) return render();
      if (b.dataset.action === "fix" && item.payload.kind === "visit") {
        location.href = "/visits/new?outbox=" + encodeURIComponent(item.uuid);
      } else if (b.dataset.action === "fix" && item.payload.kind === "difficulty") {
        location.href = "/difficulties/new?outbox=" + encodeURIComponent(item.uuid);
      } else if (b.dataset.action === "fix" && item.payload.kind === "visit_report") {
        location.href = "/visits/drafts?visit=" + encodeURIComponent(item.payload.visit_uuid);
      } else if (b.dataset.action === "fix") {
        location.href = "/evaluate/" + item.branch_id + "?outbox=" + encodeURIComponent(item.uuid);
      } else if (b.dataset.action === "discard" && window.confirm(t("confirmDiscard"))) {
        await O.remove(item.uuid);
        render();
      }
      return;
    }
    if (e.target.id === "send-now" && window.CosoApp) { await window.CosoApp.drain({ force: true }); render(); }
    if (e.target.id === "export-outbox") exportAll();
  });

  const dataUrl = (blob) => new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(r.result); r.onerror = () => reject(r.error);
    r.readAsDataURL(blob);
  });

  // Everything not yet on the server, photos included (as data: URLs, with their hash and item).
  async function exportAll() {
    const items = await O.all("outbox");
    const photos = [];
    for (const p of await O.all("photos")) {
      const copy = Object.assign({}, p, { data: await dataUrl(p.blob) });
      delete copy.blob;
      photos.push(copy);
    }
    const blob = new Blob([JSON.stringify({ exported_at: new Date().toISOString(), evaluations: items, photos: photos }, null, 2)],
      { type: "application/json" });
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = "coso-outbox-" + new Date().toISOString().slice(0, 19).replace(/[:T]/g, "-") + ".json";
    document.body.appendChild(a); a.click(); a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  }

  window.addEventListener("coso:outbox", render);
  if (typeof BroadcastChannel !== "undefined") new BroadcastChannel(O.CHANNEL).addEventListener("message", render);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", render); else render();
})();
