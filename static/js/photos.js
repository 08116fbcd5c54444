/* Photo evidence on the phone (issue 20): taken with the camera or chosen from the gallery,
 * scaled and re-encoded here (long edge 1600 px, JPEG ~150–250 KB; the re-encode drops EXIF,
 * the location with it), hashed (SHA-256, the upload's key) and kept as a Blob in IndexedDB
 * (outbox.js, store "photos") with the draft, then with the outbox item — so a photo survives
 * a reload, a browser restart and a dead battery exactly as the answers do.
 *
 * The page gives each photo area a data-item ("" for the evaluation as a whole, else the
 * item's code) inside a form whose hidden "uuid" input names the evaluation.
 */
(function (global) {
  "use strict";
  const O = global.CosoOutbox;
  const t = global.CosoText || ((k) => k);
  const EDGE = 1600;
  const TARGET = 250 * 1024;
  const SPARE = 3; // ask for three times the photo's size: IndexedDB keeps copies as it writes
  const urls = new Map(); // photo id -> object URL of its thumbnail in the form

  function say(box, text, cls) {
    if (!box) return;
    box.textContent = text || "";
    box.className = "photo-status " + (cls || "muted");
    box.hidden = !text;
  }

  async function decode(file) {
    if (global.createImageBitmap) {
      try { return await createImageBitmap(file, { imageOrientation: "from-image" }); } catch (e) { /* below */ }
    }
    return new Promise((resolve, reject) => { // older WebKit: through an <img>
      const img = new Image();
      const url = URL.createObjectURL(file);
      img.onload = () => { URL.revokeObjectURL(url); resolve(img); };
      img.onerror = () => { URL.revokeObjectURL(url); reject(new Error("not an image")); };
      img.src = url;
    });
  }

  const toBlob = (canvas, quality) => new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", quality));

  async function hex(blob) {
    const digest = await crypto.subtle.digest("SHA-256", await blob.arrayBuffer());
    return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
  }

  // The photo as coso keeps it: at most EDGE px on its long side, JPEG, near TARGET bytes.
  async function encode(file) {
    const source = await decode(file);
    const w = source.width, h = source.height;
    if (!w || !h) throw new Error("not an image");
    const scale = Math.min(1, EDGE / Math.max(w, h));
    const canvas = document.createElement("canvas");
    canvas.width = Math.max(1, Math.round(w * scale));
    canvas.height = Math.max(1, Math.round(h * scale));
    canvas.getContext("2d").drawImage(source, 0, 0, canvas.width, canvas.height);
    if (source.close) source.close();
    let quality = 0.82;
    let blob = await toBlob(canvas, quality);
    while (blob && blob.size > TARGET && quality > 0.5) {
      quality -= 0.1;
      blob = await toBlob(canvas, quality);
    }
    if (!blob) throw new Error("not an image");
    return { blob: blob, type: "image/jpeg", width: canvas.width, height: canvas.height, sha256: await hex(blob) };
  }

  // Room left on the phone for this site, in bytes (null when the browser does not say).
  async function room() {
    if (!navigator.storage || !navigator.storage.estimate) return null;
    try {
      const e = await navigator.storage.estimate();
      return typeof e.quota === "number" ? Math.max(0, e.quota - (e.usage || 0)) : null;
    } catch (e) { return null; }
  }

  async function showRoom(form) {
    const out = form.querySelector("#photo-room");
    if (!out) return;
    const left = await room();
    if (left === null) { out.hidden = true; return; }
    out.textContent = t("photoRoom").replace("%(mb)s", String(Math.floor(left / (1024 * 1024))));
    out.hidden = false;
  }

  // Keep one chosen file as a photo of (owner, item). Returns true when it was kept.
  async function add(form, area, file) {
    const status = area.querySelector(".photo-status");
    say(status, t("photoPreparing"));
    let photo;
    try {
      photo = await encode(file);
    } catch (e) {
      say(status, t("photoNotImage"), "field-error");
      return false;
    }
    const left = await room();
    if (left !== null && left < photo.blob.size * SPARE) {
      say(status, t("photoNoRoom"), "field-error");
      return false;
    }
    const owner = form.elements.uuid.value;
    const item = area.dataset.item || "";
    const existing = (await O.photosOf(owner)).find((p) => p.item === item && p.sha256 === photo.sha256);
    if (existing) { say(status, t("photoAlready")); return false; }
    if (navigator.storage && navigator.storage.persist) navigator.storage.persist().catch(() => {});
    try {
      await O.put("photos", Object.assign(photo, {
        id: O.newUuid(), owner: owner, item: item, state: "draft", size: photo.blob.size,
        user_id: parseInt(document.body.dataset.user, 10), created_at: Date.now(), updated_at: Date.now(),
      }));
    } catch (e) {
      // QuotaExceededError above all: said, never a silent loss; the answers are untouched.
      say(status, e && e.name === "QuotaExceededError" ? t("photoNoRoom") : t("photoStoreFailed"), "field-error");
      return false;
    }
    say(status, "");
    return true;
  }

  function thumb(p) {
    const li = document.createElement("li");
    li.className = "photo-thumb state-" + p.state;
    li.dataset.photo = p.id;
    let url = urls.get(p.id);
    if (!url) { url = URL.createObjectURL(p.blob); urls.set(p.id, url); }
    const img = document.createElement("img");
    img.src = url; img.alt = t("photoAlt"); img.width = 72; img.height = 72;
    const remove = document.createElement("button");
    remove.type = "button"; remove.className = "photo-remove"; remove.dataset.photoRemove = p.id;
    remove.setAttribute("aria-label", t("photoRemove")); remove.textContent = "×";
    li.append(img, remove);
    if (p.state === "attention" && p.errors) {
      const why = document.createElement("span"); why.className = "field-error";
      why.textContent = [].concat(p.errors.photo || []).join(" ");
      li.appendChild(why);
    }
    return li;
  }

  function controls(item) {
    const box = document.createElement("div");
    box.className = "photos";
    box.dataset.item = item;
    const list = document.createElement("ul"); list.className = "photo-list";
    const buttons = document.createElement("div"); buttons.className = "photo-buttons";
    [["photoTake", true], ["photoChoose", false]].forEach(([key, camera]) => {
      const label = document.createElement("label"); label.className = "button photo-add";
      const input = document.createElement("input");
      input.type = "file"; input.accept = "image/*"; input.className = "photo-input sr";
      if (camera) input.setAttribute("capture", "environment"); else input.multiple = true;
      label.append(input, document.createTextNode(t(key)));
      buttons.appendChild(label);
    });
    const status = document.createElement("p"); status.className = "photo-status"; status.hidden = true;
    status.setAttribute("role", "status");
    box.append(list, buttons, status);
    return box;
  }

  // Every choice item gets its photo area; the evaluation's own area is in the page already.
  function ensureAreas(form) {
    form.querySelectorAll("fieldset.item[id^=item-]").forEach((fs) => {
      const code = fs.id.slice(5);
      let box = fs.querySelector(":scope > .photos");
      if (!box) { box = controls(code); fs.appendChild(box); }
      box.dataset.item = code; // a cloned item (checklist.js renderItems) names its own code
    });
    const card = form.querySelector("#photos-card");
    if (card) card.hidden = false;
    const whole = form.querySelector("#photos-whole");
    if (whole && !whole.querySelector(".photo-list")) {
      const made = controls("");
      while (made.firstChild) whole.appendChild(made.firstChild);
    }
  }

  async function refresh(form) {
    if (!O || !form || !form.elements.uuid) return;
    ensureAreas(form);
    const photos = form.elements.uuid.value ? await O.photosOf(form.elements.uuid.value) : [];
    photos.sort((a, b) => a.created_at - b.created_at);
    const shown = new Set(photos.map((p) => p.id));
    urls.forEach((url, id) => { if (!shown.has(id)) { URL.revokeObjectURL(url); urls.delete(id); } });
    form.querySelectorAll(".photos").forEach((area) => {
      const list = area.querySelector(".photo-list");
      list.textContent = "";
      photos.filter((p) => p.item === (area.dataset.item || "")).forEach((p) => list.appendChild(thumb(p)));
    });
    const count = form.querySelector("#photo-count");
    if (count) count.textContent = t("photoCount").replace("%(n)s", String(photos.length));
    await showRoom(form);
  }

  // Photos of drafts that no longer exist (replaced by a newer draft of the same branch).
  async function sweep(keep) {
    const drafts = await O.all("drafts");
    const owners = new Set(drafts.map((d) => d.data && d.data.uuid).filter(Boolean));
    (keep || []).forEach((k) => owners.add(k));
    for (const p of await O.all("photos")) {
      if (p.state === "draft" && !owners.has(p.owner) && !(await O.get("outbox", p.owner))) await O.del("photos", p.id);
    }
  }

  async function discard(owner) {
    for (const p of await O.photosOf(owner)) await O.del("photos", p.id);
  }

  // Wire a form: onChange runs after a photo was added or removed (the draft saves then).
  function mount(form, onChange) {
    if (!O || !form) return;
    form.addEventListener("change", async (e) => {
      const input = e.target;
      if (!input.classList || !input.classList.contains("photo-input")) return;
      e.stopPropagation();
      const area = input.closest(".photos");
      const files = Array.from(input.files || []);
      input.value = "";
      let added = false;
      for (const file of files) added = (await add(form, area, file)) || added;
      if (added && onChange) onChange();
      await refresh(form);
      if (added) O.notify({ type: "changed" });
    }, true);
    form.addEventListener("click", async (e) => {
      const b = e.target.closest && e.target.closest("[data-photo-remove]");
      if (!b) return;
      e.preventDefault();
      if (!global.confirm(t("photoConfirmRemove"))) return;
      await O.del("photos", b.dataset.photoRemove);
      if (onChange) onChange();
      await refresh(form);
      O.notify({ type: "changed" });
    });
  }

  global.CosoPhotos = { mount, refresh, sweep, discard, encode, room, controls };
})(window);
