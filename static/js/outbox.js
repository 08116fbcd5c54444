/* coso outbox: IndexedDB storage and the one sync sender, shared by pages and the service worker.
 *
 * design.md, "The offline path": an evaluation is written here before anything is sent and
 * leaves only after the server confirmed it (created or duplicate). Rejected and conflicting
 * items wait for the cadre ("attention") and never block the rest; network errors, a busy server
 * (429, 503 with Retry-After) back off; 401/403 keep everything and ask for a new login. A batch
 * that fails with another 5xx is halved until the item the server cannot take stands alone:
 * once the others went through and it fails alone again, it waits under "needs attention"
 * (a poison item never blocks the queue, issue 17). One sender at a time across tabs
 * and the worker (Web Locks). Plain data only: WebKit has lost request bodies passed through
 * service workers, so uploads are always built from what is stored here.
 */
(function (global) {
  "use strict";
  const DB_NAME = "coso";
  const DB_VERSION = 2; // 2: the photos store (issue 20)
  const CHANNEL = "coso-outbox";
  const BATCH = 25;
  const MAX_DELAY = 5 * 60 * 1000;
  const STALE_SENDING = 60 * 1000;
  // 5xx answers in one run with nothing going through: the server is down, not one item bad.
  const MAX_FAILURES_WITHOUT_SUCCESS = 8;
  let dbPromise = null;

  function openDb() {
    if (dbPromise) return dbPromise;
    dbPromise = new Promise((resolve, reject) => {
      const req = indexedDB.open(DB_NAME, DB_VERSION);
      req.onupgradeneeded = () => {
        const db = req.result;
        if (!db.objectStoreNames.contains("outbox")) db.createObjectStore("outbox", { keyPath: "uuid" });
        if (!db.objectStoreNames.contains("sent")) db.createObjectStore("sent", { keyPath: "uuid" });
        if (!db.objectStoreNames.contains("drafts")) db.createObjectStore("drafts", { keyPath: "key" });
        if (!db.objectStoreNames.contains("meta")) db.createObjectStore("meta", { keyPath: "key" });
        // Photos (issue 20): one record per photo, its re-encoded Blob with it. "owner" is the
        // evaluation's uuid; state "draft" until the evaluation is submitted, then sent like
        // the rest and deleted only after the server confirmed it.
        if (!db.objectStoreNames.contains("photos")) {
          db.createObjectStore("photos", { keyPath: "id" }).createIndex("owner", "owner");
        }
      };
      req.onsuccess = () => {
        const db = req.result;
        // iOS and Chrome may close the database under us: forget it so the next call reopens.
        db.onclose = () => { dbPromise = null; };
        db.onversionchange = () => { db.close(); dbPromise = null; };
        resolve(db);
      };
      req.onerror = () => { dbPromise = null; reject(req.error); };
      req.onblocked = () => { dbPromise = null; reject(new Error("IndexedDB blocked")); };
    });
    return dbPromise;
  }

  async function tx(store, mode, work, retry = true) {
    let db;
    try {
      db = await openDb();
      return await new Promise((resolve, reject) => {
        const t = db.transaction(store, mode);
        let result;
        Promise.resolve(work(t.objectStore(store))).then((r) => { result = r; }, reject);
        t.oncomplete = () => resolve(result);
        t.onerror = () => reject(t.error);
        t.onabort = () => reject(t.error || new Error("transaction aborted"));
      });
    } catch (err) {
      if (retry && err && (err.name === "InvalidStateError" || err.name === "TransactionInactiveError")) {
        dbPromise = null; // the connection was closed: reopen once
        return tx(store, mode, work, false);
      }
      throw err;
    }
  }

  const wrap = (req) => new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  const get = (store, key) => tx(store, "readonly", (s) => wrap(s.get(key)));
  const all = (store) => tx(store, "readonly", (s) => wrap(s.getAll()));
  const put = (store, value) => tx(store, "readwrite", (s) => wrap(s.put(value)));
  const del = (store, key) => tx(store, "readwrite", (s) => wrap(s.delete(key)));

  let channel = null;
  function notify(message) {
    try {
      if (!channel && typeof BroadcastChannel !== "undefined") channel = new BroadcastChannel(CHANNEL);
      if (channel) channel.postMessage(message);
    } catch (e) { /* a closed channel must never stop a sync */ }
    if (global.dispatchEvent && typeof CustomEvent !== "undefined") {
      global.dispatchEvent(new CustomEvent("coso:outbox", { detail: message }));
    }
  }

  async function enqueue(item) {
    const now = Date.now();
    const existing = await get("outbox", item.uuid);
    const record = Object.assign({}, existing || {}, item, {
      state: "waiting",
      errors: null,
      status: null,
      attempts: 0,
      next_attempt_at: 0,
      created_at: (existing && existing.created_at) || now,
      updated_at: now,
    });
    await put("outbox", record); // throws QuotaExceededError when the phone is full
    notify({ type: "changed" });
    return record;
  }

  // An evaluation discarded from the outbox takes its photos with it.
  async function remove(uuid) {
    await del("outbox", uuid);
    for (const p of await photosOf(uuid)) await del("photos", p.id);
    notify({ type: "changed" });
  }

  const photosOf = (owner) => tx("photos", "readonly", (s) => wrap(s.index("owner").getAll(owner)));

  // The badge counts photos waiting too: a photo not yet on the server is not yet safe.
  async function counts() {
    const items = (await all("outbox")).concat((await all("photos")).filter((p) => p.state !== "draft"));
    const c = { total: items.length, waiting: 0, sending: 0, attention: 0, photos: 0 };
    items.forEach((i) => { c[i.state] = (c[i.state] || 0) + 1; if (i.blob) c.photos += 1; });
    return c;
  }

  // The draft's photos join the outbox with their evaluation (checklist.js, on submit).
  async function releasePhotos(owner) {
    for (const p of await photosOf(owner)) {
      if (p.state !== "draft") continue;
      Object.assign(p, { state: "waiting", attempts: 0, next_attempt_at: 0, updated_at: Date.now() });
      await put("photos", p);
    }
    notify({ type: "changed" });
  }

  function backoffDelay(attempts, retryAfter) {
    if (retryAfter) return Math.min(MAX_DELAY, retryAfter * 1000);
    const base = Math.min(MAX_DELAY, 2000 * Math.pow(2, Math.max(0, attempts - 1)));
    return base / 2 + Math.random() * base / 2;
  }

  async function setStates(items, state, extra) {
    const now = Date.now();
    for (const item of items) {
      const fresh = await get("outbox", item.uuid);
      if (!fresh) continue; // discarded meanwhile
      Object.assign(fresh, { state: state, updated_at: now }, extra ? extra(fresh) : {});
      await put("outbox", fresh);
    }
    notify({ type: "changed" });
  }

  function backoff(items, retryAfter) {
    return setStates(items, "waiting", (i) => {
      const attempts = (i.attempts || 0) + 1;
      // held_by_server: the server said when (Retry-After); even "send now" waits for that.
      return { attempts: attempts, next_attempt_at: Date.now() + backoffDelay(attempts, retryAfter),
               held_by_server: !!retryAfter };
    });
  }

  async function session() {
    const res = await fetch("/api/v1/session", { credentials: "same-origin", cache: "no-store" });
    if (res.status === 401) return { auth: false };
    if (!res.ok) throw new Error("session " + res.status);
    const body = await res.json();
    return { auth: true, user: body.user, token: body.csrf_token };
  }

  async function deviceId() {
    let meta = await get("meta", "device");
    if (!meta) {
      meta = { key: "device", value: newUuid() };
      await put("meta", meta);
    }
    return meta.value;
  }

  function newUuid() {
    if (global.crypto && crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  async function post(batch, token, device) {
    return fetch("/api/v1/sync", {
      method: "POST",
      credentials: "same-origin",
      cache: "no-store",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token },
      body: JSON.stringify({ device_id: device, evaluations: batch.map((i) => i.payload) }),
    });
  }

  async function settle(batch, results) {
    const byUuid = {};
    results.forEach((r) => { byUuid[r.uuid] = r; });
    for (const item of batch) {
      const r = byUuid[item.uuid];
      if (!r) continue;
      const kind = item.payload.kind || "evaluation";
      if (r.status === "created" || r.status === "duplicate") {
        if (kind === "evaluation") {
          await put("sent", {
            uuid: item.uuid, id: r.id, branch_id: item.branch_id, branch_name: item.branch_name,
            meeting_date: item.payload.meeting_date, outcome: r.outcome, sent_at: Date.now(),
            user_id: item.user_id, supersedes: item.payload.supersedes || null, // the duplicate check
            payload: item.payload, // so it can be corrected from this phone without signal
          });
        } else { // a visit, a version of its report (issue 18, item 5) or a difficulty (19, 1)
          await put("sent", {
            uuid: item.uuid, id: r.id, kind: kind, unit_name: item.unit_name, sent_at: Date.now(),
            start_date: item.start_date, version: item.payload.version || null, user_id: item.user_id,
          });
          if (kind !== "difficulty") await markVisitSent(item);
        }
        // A report's later version saved while this one was on its way keeps its place.
        const fresh = await get("outbox", item.uuid);
        if (fresh && kind === "visit_report" && fresh.payload.version !== item.payload.version) continue;
        await del("outbox", item.uuid); // only now, after the server confirmed it
      } else {
        const fresh = await get("outbox", item.uuid);
        if (fresh && kind === "visit_report" && fresh.payload.version !== item.payload.version) continue;
        // A report that reached the server before its visit (the visit still on this phone):
        // it waits for the visit rather than asking the cadre to fix anything.
        const visit = kind === "visit_report" && r.errors && r.errors.visit_uuid ?
          await get("outbox", item.payload.visit_uuid) : null;
        if (visit && visit.state !== "attention") { await backoff([item]); continue; }
        await setStates([item], "attention", () => ({ status: r.status, errors: r.errors }));
      }
    }
    await trimSent();
  }

  // The visit's record on this phone (visit-offline.js) learns what the server confirmed.
  async function markVisitSent(item) {
    const key = "visit:" + (item.payload.kind === "visit" ? item.uuid : item.payload.visit_uuid);
    const record = await get("drafts", key);
    if (!record) return;
    if (item.payload.kind === "visit") record.sent = true;
    else record.report_sent = Math.max(record.report_sent || 0, item.payload.version);
    await put("drafts", record);
  }

  async function trimSent() {
    const sent = await all("sent");
    if (sent.length <= 50) return;
    sent.sort((a, b) => a.sent_at - b.sent_at);
    for (const old of sent.slice(0, sent.length - 50)) await del("sent", old.uuid);
  }

  // force: the person asked ("send now") or the signal just came back: items waiting out a
  // backoff of ours go now; items the server asked to hold (Retry-After) still wait.
  // locked: this run holds the sender's Web Lock, which the browser frees when the page or
  // worker holding it goes away. So an item still marked "sending" is one whose sender died
  // half-way (a page left during a drain): it goes now. Without Web Locks nobody can tell a
  // sender that died from one still waiting for its answer, and it goes after STALE_SENDING.
  async function run(options) {
    const force = !!(options && options.force);
    const stale = options && options.locked ? 0 : STALE_SENDING;
    const now = Date.now();
    const queued = await all("outbox");
    let items = queued.filter((i) =>
      (i.state === "waiting" && ((i.next_attempt_at || 0) <= now || (force && !i.held_by_server))) ||
      (i.state === "sending" && now - (i.updated_at || 0) >= stale));
    // A report goes with its visit when the visit is still waiting here (each backs off on
    // its own, so the report could otherwise reach the server first and be refused). The
    // sync is idempotent: a visit sent twice is a duplicate, never a second visit.
    const visits = new Map(queued.filter((i) => i.payload && i.payload.kind === "visit" &&
      i.state !== "attention").map((i) => [i.uuid, i]));
    items.slice().forEach((i) => {
      const visit = i.payload && i.payload.kind === "visit_report" && visits.get(i.payload.visit_uuid);
      if (visit && items.indexOf(visit) < 0) items.push(visit);
    });
    let photos = (await all("photos")).filter((p) =>
      (p.state === "waiting" && ((p.next_attempt_at || 0) <= now || (force && !p.held_by_server))) ||
      (p.state === "sending" && now - (p.updated_at || 0) >= stale));
    if (!items.length && !photos.length) return { sent: 0, left: 0 };
    let me;
    try {
      me = await session();
    } catch (e) {
      await backoff(items);
      await photoStates(photos, "waiting", backoffFields());
      return { offline: true };
    }
    if (!me.auth) {
      await put("meta", { key: "auth_required", value: true });
      notify({ type: "auth" });
      return { auth: false };
    }
    await put("meta", { key: "auth_required", value: false });
    // Items filled under another account wait for that account to sign in again.
    items = items.filter((i) => i.user_id === me.user.id);
    items.sort((a, b) => a.created_at - b.created_at);
    photos = photos.filter((p) => p.user_id === me.user.id).sort((a, b) => a.created_at - b.created_at);
    const device = await deviceId();
    const total = items.length + photos.length;
    let done = 0;
    let size = BATCH;
    let token = me.token;
    const aside = []; // items that failed alone with a 5xx
    let failures = 0; // 5xx answers in this run
    let wentThrough = false; // some batch of this run was answered 2xx
    notify({ type: "progress", done: 0, total: total });
    while (items.length) {
      const batch = items.slice(0, size);
      await setStates(batch, "sending");
      let res;
      try {
        res = await post(batch, token, device);
      } catch (e) {
        await backoff(items);
        notify({ type: "progress", done: done, total: total, stopped: "network" });
        return { offline: true };
      }
      if (res.status === 403 && token === me.token) {
        // The token may have gone stale between the session call and now: fetch once more.
        try { const again = await session(); if (again.auth) { token = again.token; } } catch (e) { /* next round */ }
        if (token !== me.token) { await setStates(batch, "waiting"); continue; }
      }
      if (res.status === 401 || res.status === 403) {
        await setStates(items, "waiting");
        await put("meta", { key: "auth_required", value: true });
        notify({ type: "auth" });
        return { auth: false };
      }
      const retryAfter = parseInt(res.headers.get("Retry-After") || "0", 10) || 0;
      if (res.status === 429 || (res.status === 503 && retryAfter)) {
        await backoff(items.concat(aside), retryAfter);
        notify({ type: "progress", done: done, total: total, stopped: "server" });
        return { retry: true };
      }
      if (res.status >= 500) {
        failures += 1;
        if (!wentThrough && failures >= MAX_FAILURES_WITHOUT_SUCCESS) {
          await backoff(items.concat(aside), retryAfter);
          notify({ type: "progress", done: done, total: total, stopped: "server" });
          return { retry: true };
        }
        if (batch.length > 1) {
          size = Math.ceil(batch.length / 2); // one of these may be the poison: halve and resend
          await setStates(batch, "waiting");
          continue;
        }
        aside.push(batch[0]); // failed alone: set it aside, send the rest
        await setStates(batch, "waiting");
        items = items.slice(1);
        size = BATCH;
        continue;
      }
      if ((res.status === 413 || res.status === 400) && batch.length > 1) {
        size = 1; // find the one that does not fit, send the others
        await setStates(batch, "waiting");
        continue;
      }
      if (!res.ok) {
        let message = "HTTP " + res.status;
        try { message = (await res.json()).message || message; } catch (e) { /* not JSON */ }
        await setStates(batch, "attention", () => ({ status: "rejected", errors: { _schema: [message] } }));
      } else {
        const body = await res.json();
        await settle(batch, body.results || []);
        wentThrough = true;
      }
      items = items.slice(batch.length);
      done += batch.length;
      notify({ type: "progress", done: done, total: total });
    }
    await isolate(aside, wentThrough, token, device);
    // The answers first, then the photos: a photo never holds back the evaluation it belongs to.
    const photoRun = await sendPhotos(photos, token, done, total);
    notify({ type: "changed" });
    return Object.assign({ sent: done + photoRun.sent }, photoRun.stop || {});
  }

  // ---- photos (issue 20) ----
  function backoffFields(retryAfter) {
    return (p) => {
      const attempts = (p.attempts || 0) + 1;
      return { attempts: attempts, next_attempt_at: Date.now() + backoffDelay(attempts, retryAfter),
               held_by_server: !!retryAfter };
    };
  }

  async function photoStates(photos, state, extra) {
    for (const p of photos) {
      const fresh = await get("photos", p.id);
      if (!fresh) continue; // removed meanwhile
      Object.assign(fresh, { state: state, updated_at: Date.now() }, extra ? extra(fresh) : {});
      await put("photos", fresh);
    }
    notify({ type: "changed" });
  }

  function photoUrl(p) {
    return "/api/v1/photos/" + encodeURIComponent(p.owner) + "/" + p.sha256 +
      (p.item ? "?item=" + encodeURIComponent(p.item) : "");
  }

  // Each photo alone, as its bytes: PUT is idempotent on (evaluation, item, hash), so a resend
  // after a lost answer is "already have it" and a half-sent photo is simply sent again whole.
  async function sendPhotos(photos, token, done, total) {
    let sent = 0;
    for (let i = 0; i < photos.length; i++) {
      const p = await get("photos", photos[i].id);
      if (!p || p.state === "draft" || p.state === "attention") continue;
      await photoStates([p], "sending");
      let res;
      try {
        res = await fetch(photoUrl(p), {
          method: "PUT", credentials: "same-origin", cache: "no-store",
          headers: { "Content-Type": p.type || "image/jpeg", "X-CSRFToken": token },
          body: p.blob,
        });
      } catch (e) {
        await photoStates(photos.slice(i), "waiting", backoffFields());
        notify({ type: "progress", done: done + sent, total: total, stopped: "network" });
        return { sent: sent, stop: { offline: true } };
      }
      if (res.status === 401 || res.status === 403) {
        await photoStates(photos.slice(i), "waiting");
        await put("meta", { key: "auth_required", value: true });
        notify({ type: "auth" });
        return { sent: sent, stop: { auth: false } };
      }
      const retryAfter = parseInt(res.headers.get("Retry-After") || "0", 10) || 0;
      if (res.status === 429 || res.status >= 500) {
        // The server is busy or failing: this photo and the rest wait; the answers went already.
        await photoStates(photos.slice(i), "waiting", backoffFields(retryAfter));
        notify({ type: "progress", done: done + sent, total: total, stopped: "server" });
        return { sent: sent, stop: { retry: true } };
      }
      if (res.ok) {
        await del("photos", p.id); // only now: the server has it
        sent += 1;
      } else {
        // Refused (not an image, too large …): it waits under "needs attention" with the reason.
        let message = "HTTP " + res.status;
        try { message = (await res.json()).message || message; } catch (e) { /* not JSON */ }
        await photoStates([p], "attention", () => ({ errors: { photo: [message] } }));
      }
      notify({ type: "progress", done: done + sent, total: total });
    }
    return { sent: sent };
  }

  // The items that failed alone. When others went through in the same run, the server works and
  // these fail by themselves: each is sent alone once more, and a second 5xx puts it under
  // "needs attention" (status server_error: the outbox page says so in the cadre's language).
  // When nothing went through, the server may simply be down: they wait and back off.
  async function isolate(aside, wentThrough, token, device) {
    if (!aside.length) return;
    if (!wentThrough) { await backoff(aside); return; }
    for (const item of aside) {
      await setStates([item], "sending");
      let res;
      try {
        res = await post([item], token, device);
      } catch (e) {
        await backoff([item]);
        continue;
      }
      const retryAfter = parseInt(res.headers.get("Retry-After") || "0", 10) || 0;
      if (res.ok) {
        const body = await res.json();
        await settle([item], body.results || []);
      } else if (res.status >= 500 && !(res.status === 503 && retryAfter)) {
        await setStates([item], "attention", () => ({ status: "server_error", errors: null }));
      } else {
        await backoff([item], retryAfter);
      }
    }
  }

  // An async redraw, one run at a time: calls that arrive while it runs fold into one more
  // run after it. Overlapping redraws could finish out of order and leave the screen on a
  // read made before the last change (an empty "sent" list after a drain, say).
  function serial(draw) {
    let running = null;
    let again = false;
    return function () {
      if (running) { again = true; return running; }
      running = (async () => {
        try { do { again = false; await draw(); } while (again); } finally { running = null; }
      })();
      return running;
    };
  }

  // wait: queue behind a sender that holds the lock (Background Sync must not report done
  // while another tab's drain may still fail); otherwise a busy lock means "someone is on it".
  function drain(options) {
    if (global.navigator && navigator.locks && navigator.locks.request) {
      const locked = Object.assign({}, options, { locked: true });
      if (options && options.wait) return navigator.locks.request("coso-sync", () => run(locked));
      return navigator.locks.request("coso-sync", { ifAvailable: true }, (lock) =>
        lock ? run(locked) : { busy: true });
    }
    return run(options);
  }

  global.CosoOutbox = {
    openDb, get, all, put, del, enqueue, remove, counts, drain, newUuid, notify, serial, CHANNEL,
    photosOf, releasePhotos,
    _forget() { dbPromise = null; },
  };
})(self);
