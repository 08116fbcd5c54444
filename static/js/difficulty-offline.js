/* Raising a difficulty with or without signal (issue 19, item 1).
 *
 * On /difficulties/new the form still works without script (a plain POST). With it, the
 * difficulty is written into the IndexedDB outbox (kind "difficulty", a UUID made here) before
 * anything is sent, like an evaluation or a visit. With signal the outbox is drained at once
 * and the page opens the stored difficulty; the server's refusal (a category the province no
 * longer has, say) comes back into the form. Without signal the form says it is kept on this
 * phone and empties for the next one; the outbox sends it when the signal returns.
 * On /difficulties/ the ones still waiting on this phone are listed above the server's list.
 * Photos (issue 20, photos.js) are kept under the difficulty's UUID, made when the form opens,
 * and join the outbox with it.
 */
(function () {
  "use strict";
  const O = window.CosoOutbox;
  if (!O) return;
  const P = window.CosoPhotos; // photos.js, loaded before this script where photos are taken
  const MAX_TEXT = 4000;
  const FIELDS = ["unit_id", "category", "text"];

  function localDay() {
    const d = new Date();
    return d.getFullYear() + "-" + String(d.getMonth() + 1).padStart(2, "0") + "-" + String(d.getDate()).padStart(2, "0");
  }

  function showErrors(f, errors) {
    f.querySelectorAll(".field-error.js-made").forEach((el) => el.remove());
    f.querySelectorAll("[aria-invalid].js-made").forEach((el) => { el.removeAttribute("aria-invalid"); el.classList.remove("js-made"); });
    let first = null;
    Object.keys(errors).forEach((name) => {
      const field = f.elements[FIELDS.indexOf(name) >= 0 ? name : "text"];
      if (!field) return;
      const p = document.createElement("p");
      p.className = "field-error js-made"; p.id = "err-js-" + field.name;
      p.textContent = [].concat(errors[name]).join(" ");
      field.insertAdjacentElement("afterend", p);
      field.setAttribute("aria-invalid", "true"); field.classList.add("js-made");
      field.setAttribute("aria-describedby", p.id);
      first = first || field;
    });
    if (first) first.focus();
    return !first;
  }

  function check(f) {
    const d = f.dataset;
    const errors = {};
    if (!f.elements.unit_id.value) errors.unit_id = d.chooseUnit;
    if (!f.elements.category.value) errors.category = d.chooseCategory;
    const text = f.elements.text.value.trim();
    if (!text) errors.text = d.writeText;
    else if (text.length > MAX_TEXT) errors.text = d.tooLong;
    return errors;
  }

  function say(f, message, kind) {
    const out = document.getElementById("difficulty-status");
    if (!out) return;
    out.textContent = message;
    out.className = "card " + (kind || "");
    out.hidden = !message;
  }

  const form = document.querySelector('form[data-offline="difficulty"]');
  const photos = form && P && form.querySelector("#photos-card") ? P : null;
  if (form) setUpForm(form);

  async function setUpForm(f) {
    // The difficulty's UUID from the moment the form opens, its photos kept under it: never
    // the page's own, which every copy the phone kept shares (see the submit handler).
    f.elements.uuid.value = O.newUuid();
    if (photos) {
      photos.mount(f);
      await photos.sweep([f.elements.uuid.value]).catch(() => {}); // those of a form left unsent
      await photos.refresh(f);
    }
    const select = f.elements.unit_id;
    try { // the field pack's branches, so a cadre reaches every branch of their area offline
      const pack = await O.get("meta", "fieldpack");
      const branches = (f.dataset.cadre && pack && pack.value && pack.value.branches) || [];
      const have = new Set(Array.from(select.options).map((o) => o.value));
      const group = document.createElement("optgroup");
      group.label = f.dataset.branches;
      branches.forEach((b) => {
        if (have.has(String(b.id))) return;
        const o = document.createElement("option");
        o.value = String(b.id);
        o.textContent = b.name + " (" + b.code + ")";
        group.appendChild(o);
      });
      if (group.children.length) select.appendChild(group);
    } catch (e) { /* no pack: the units the page came with */ }
    const params = new URLSearchParams(location.search);
    // A copy of the page served offline was kept without its query: choose the unit here.
    const wanted = params.get("unit_id");
    if (wanted && Array.from(select.options).some((o) => o.value === wanted)) select.value = wanted;
    const fixing = params.get("outbox");
    if (fixing) {
      const item = await O.get("outbox", fixing);
      if (item && item.payload.kind === "difficulty") {
        f.dataset.uuid = item.uuid;
        [...FIELDS, "evaluation_id", "visit_id"].forEach((name) => {
          if (f.elements[name]) f.elements[name].value = String(item.payload[name] || "");
        });
        f.elements.uuid.value = item.uuid;
        if (photos) await photos.refresh(f);
        if (item.state === "attention" && item.errors) showErrors(f, item.errors);
      }
    }
  }

  // Capture: runs before any other submit handler, which then never sees it.
  document.addEventListener("submit", async (e) => {
    const f = e.target;
    if (!f || f.dataset.offline !== "difficulty") return;
    e.preventDefault();
    e.stopPropagation();
    if (!showErrors(f, check(f))) return;
    const select = f.elements.unit_id;
    const unitName = ((select.options[select.selectedIndex] || {}).textContent || "").trim();
    // A new UUID for each difficulty (made when the form opened, or after the last one was
    // kept): the page's own (for a POST without script) is the same in every copy the phone
    // kept, and a second difficulty under it would replace the first in the outbox. Sent again
    // after a refusal or a failure, it keeps the one it was given.
    const uuid = f.dataset.uuid || f.elements.uuid.value || O.newUuid();
    const payload = {
      kind: "difficulty", uuid: uuid, unit_id: parseInt(select.value, 10),
      category: f.elements.category.value, text: f.elements.text.value.trim(),
      raised_at: new Date().toISOString(),
    };
    // Raised from an evaluation or a visit report (the page's link named it).
    ["evaluation_id", "visit_id"].forEach((name) => {
      const value = parseInt((f.elements[name] || {}).value, 10);
      if (value > 0) payload[name] = value;
    });
    const button = f.querySelector('button[type="submit"]');
    button.disabled = true;
    try {
      await O.enqueue({ uuid: uuid, payload: payload, unit_name: unitName, start_date: localDay(),
                        user_id: parseInt(document.body.dataset.user, 10) });
      await O.releasePhotos(uuid).catch(() => {}); // the form's photos go with it
    } catch (err) {
      button.disabled = false;
      // No room (or no IndexedDB) on this phone: with signal the form goes to the server as it
      // does without script (submit() fires no submit event, so this handler stays out of it).
      if (navigator.onLine) { HTMLFormElement.prototype.submit.call(f); return; }
      showErrors(f, { text: f.dataset.storageFailed });
      return;
    }
    f.dataset.uuid = uuid;
    if (navigator.onLine) {
      say(f, f.dataset.sending, "muted");
      try { await O.drain({ force: true, wait: true }); } catch (err) { /* kept: sent later */ }
      const sent = await O.get("sent", uuid);
      if (sent && sent.id) { location.href = "/difficulties/" + sent.id; return; }
      const left = await O.get("outbox", uuid);
      if (left && left.state === "attention") {
        button.disabled = false;
        say(f, f.dataset.refused, "error");
        showErrors(f, left.errors || { text: f.dataset.refused });
        return;
      }
    }
    button.disabled = false;
    say(f, f.dataset.kept.replace("%(unit)s", unitName), "notice");
    f.elements.text.value = "";
    f.dataset.uuid = "";
    f.elements.uuid.value = O.newUuid(); // the next one, with photos of its own
    if (photos) await photos.refresh(f);
    if (window.CosoApp) window.CosoApp.renderBadge();
  }, true);

  // ------------------------------------------------- "my difficulties": those still here

  const pending = document.getElementById("pending-difficulties");
  if (pending) {
    const draw = O.serial(async () => {
      const me = parseInt(document.body.dataset.user, 10);
      const items = (await O.all("outbox"))
        .filter((i) => i.payload && i.payload.kind === "difficulty" && i.user_id === me)
        .sort((a, b) => b.created_at - a.created_at);
      const list = pending.querySelector("ul");
      list.textContent = "";
      items.forEach((item) => {
        const li = document.createElement("li");
        li.dataset.difficultyUuid = item.uuid;
        const name = document.createElement("strong"); name.textContent = item.unit_name || ("#" + item.payload.unit_id);
        const when = document.createElement("span"); when.className = "muted";
        when.textContent = " · " + window.CosoFormat.date(item.start_date) + " · ";
        const state = document.createElement("span");
        state.className = "state " + (item.state === "attention" ? "state-flagged" : "state-overdue");
        state.textContent = item.state === "attention" ? pending.dataset.attention : pending.dataset.waiting;
        const text = document.createElement("p"); text.textContent = item.payload.text;
        li.append(name, when, state, text);
        if (item.state === "attention") {
          const fix = document.createElement("a");
          fix.className = "button"; fix.href = "/difficulties/new?outbox=" + encodeURIComponent(item.uuid);
          fix.textContent = pending.dataset.fix;
          li.appendChild(fix);
        }
        list.appendChild(li);
      });
      pending.hidden = !items.length;
    });
    draw();
    window.addEventListener("coso:outbox", draw);
    if (typeof BroadcastChannel !== "undefined") new BroadcastChannel(O.CHANNEL).addEventListener("message", draw);
  }
})();
