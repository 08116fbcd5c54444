/* coso on every page: the service worker, the outbox badge, and the triggers that drain the queue.
 * On iOS Safari there is no Background Sync, so these page-side triggers are the main path:
 * page load, coming back online, the tab becoming visible, and a backoff timer while items wait.
 */
(function () {
  "use strict";
  const O = window.CosoOutbox;
  const body = document.body;
  const signedIn = body.dataset.user !== undefined && body.dataset.user !== "";
  // The page's words (templates/_i18n_js.html), shared with the page scripts loaded after this one.
  const t = (key) => (document.getElementById("i18n") || { dataset: {} }).dataset[key] || key;
  window.CosoText = t;

  // Dates and months as the server's |date and |month filters (coso/i18n.py) write them, so a
  // page drawn on the phone reads as one drawn by the server: 05/12/2026, 05/12/2026 14:30,
  // "tháng 12/2026" (December 2026 in English).
  const NBSP = "\u00a0";
  const pad = (n) => String(n).padStart(2, "0");
  const format = {
    /** "2026-12-05" (or a longer ISO text) as 05/12/2026; anything else as it came. */
    date(iso) {
      const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso || "");
      return m ? m[3] + "/" + m[2] + "/" + m[1] : iso || "";
    },
    /** A moment (ms since the epoch) as 05/12/2026 14:30 in the phone's time. */
    dateTime(ms) {
      const d = new Date(ms);
      return pad(d.getDate()) + "/" + pad(d.getMonth() + 1) + "/" + d.getFullYear() + " " +
        pad(d.getHours()) + ":" + pad(d.getMinutes());
    },
    /** A period "2026-12" as "tháng 12/2026" (Vietnamese) or "December 2026". */
    month(period) {
      const m = /^(\d{4})-(\d{2})$/.exec(period || "");
      if (!m) return period || "";
      if (document.documentElement.lang === "vi") return "tháng" + NBSP + m[2] + "/" + m[1];
      return new Date(Date.UTC(+m[1], +m[2] - 1, 1)).toLocaleDateString("en-GB", { month: "long", year: "numeric", timeZone: "UTC" });
    },
    /** A branch's next declared meeting from the field pack: "Next meeting: 13/12/2026 19:30 · place". */
    meeting(m) {
      if (!m) return "";
      const when = format.date(m.date) + " " + m.time;
      return t("nextMeeting").replace("%(when)s", when) + (m.place ? " · " + m.place : "");
    },
  };
  window.CosoFormat = format;

  // Work the first screen does not need waits until the page has loaded and the phone is idle
  // (at most 2 s more): it would otherwise share the first load's bandwidth and main thread
  // with the page itself (Lighthouse, issue 16 item 17).
  function afterLoad(fn) {
    const idle = () => {
      if ("requestIdleCallback" in window) window.requestIdleCallback(() => fn(), { timeout: 2000 });
      else setTimeout(fn, 0);
    };
    if (document.readyState === "complete") idle();
    else window.addEventListener("load", idle, { once: true });
  }

  // Installing the worker fetches and caches the offline shell.
  if ("serviceWorker" in navigator && body.dataset.sw) {
    afterLoad(() => navigator.serviceWorker.register(body.dataset.sw, { scope: "/" }).catch(() => {}));
  }

  const renderBadge = O ? O.serial(drawBadge) : async () => {};

  async function drawBadge() {
    const badge = document.getElementById("outbox-count") || { dataset: {} };
    if (!O) return;
    try {
      const c = await O.counts();
      badge.textContent = String(c.total);
      badge.dataset.count = String(c.total);
      const link = document.getElementById("outbox-link");
      if (link) link.classList.toggle("has-items", c.total > 0);
      link && link.classList.toggle("attention", c.attention > 0);
      const note = document.getElementById("outbox-note");
      if (note) { note.textContent = note.dataset.text.replace("%(n)s", c.total); note.hidden = c.total === 0; }
      const auth = await O.get("meta", "auth_required");
      const banner = document.getElementById("auth-banner");
      if (banner) banner.hidden = !(auth && auth.value && c.total > 0);
    } catch (e) { /* IndexedDB unavailable (private mode): the badge stays as rendered */ }
  }

  // The status bar says only what is true (issue 16, item 8): "all sent" only when the outbox is
  // empty; an item waiting for the cadre says so and stays said; no signal says "offline".
  let sentTimer = null;
  function say(text, state) {
    const out = document.getElementById("sync-status");
    if (!out) return;
    clearTimeout(sentTimer);
    out.textContent = text;
    out.dataset.state = state;
    out.hidden = false;
  }

  async function renderProgress(detail) {
    const out = document.getElementById("sync-status");
    if (!out || detail.type !== "progress" || !detail.total) return;
    if (detail.done < detail.total && !detail.stopped) {
      say(t("sending").replace("%(done)s", detail.done).replace("%(total)s", detail.total), "sending");
      return;
    }
    if (detail.stopped === "network" || (detail.stopped && !navigator.onLine)) { sayOffline(); return; }
    if (detail.stopped) { say(t("retrying"), "retrying"); return; }
    let c = { total: 0, attention: 0 };
    try { c = await O.counts(); } catch (e) { /* IndexedDB unavailable: say nothing false */ return; }
    if (c.attention > 0) {
      say(t("attentionCount").replace("%(n)s", c.attention), "attention");
    } else if (c.total > 0) {
      say(t("retrying"), "retrying");
    } else {
      say(t("sent"), "sent");
      sentTimer = setTimeout(() => { out.hidden = true; }, 3000);
    }
  }

  function sayOffline() { say(t("offline"), "offline"); }

  function showConnection() {
    const out = document.getElementById("sync-status");
    if (!out) return;
    if (!navigator.onLine) { sayOffline(); return; }
    if (out.dataset.state === "offline") {
      say(t("online"), "online");
      sentTimer = setTimeout(() => { out.hidden = true; }, 3000);
    }
  }
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.addEventListener("message", (e) => {
      if (e.data && e.data.type === "offline-copy") sayOffline();
    });
  }
  window.addEventListener("offline", showConnection);
  window.addEventListener("online", showConnection);

  function onMessage(detail) {
    renderProgress(detail);
    renderBadge();
  }
  window.addEventListener("coso:outbox", (e) => onMessage(e.detail));
  if (typeof BroadcastChannel !== "undefined" && O) {
    new BroadcastChannel(O.CHANNEL).onmessage = (e) => onMessage(e.data);
  }

  let draining = false;
  async function drain(options) {
    if (!O || !signedIn || draining) return;
    draining = true;
    try { await O.drain(options); } catch (e) { /* next trigger tries again */ }
    finally { draining = false; renderBadge(); }
  }

  // The backoff timer: wake up when the earliest waiting item is due.
  setInterval(async () => {
    if (!O || !signedIn) return;
    try {
      // Photos wait on their own (issue 20): one left after its answers went is due too.
      const items = (await O.all("outbox")).concat(await O.all("photos"));
      const now = Date.now();
      if (items.some((i) => i.state === "waiting" && (i.next_attempt_at || 0) <= now)) drain();
    } catch (e) { /* ignore */ }
  }, 3000);

  window.addEventListener("online", drain);
  document.addEventListener("visibilitychange", () => { if (document.visibilityState === "visible") drain(); });

  // Signing out: cached pages hold this user's data; the queue stays (it belongs to its author).
  document.addEventListener("submit", (e) => {
    if (e.target && e.target.id === "logout-form" && "caches" in window) {
      caches.delete("coso-pages");
    }
  });

  // Field pack: fetched after login (the home page) and by "prepare for the field".
  async function refreshPack(force) {
    if (!O || !signedIn) return null;
    const stored = await O.get("meta", "fieldpack");
    const age = stored ? Date.now() - stored.fetched_at : Infinity;
    if (!force && age < 60 * 60 * 1000) return stored;
    const headers = stored && stored.etag ? { "If-None-Match": stored.etag } : {};
    const res = await fetch("/api/v1/field-pack", { credentials: "same-origin", cache: "no-store", headers });
    if (res.status === 304 && stored) {
      stored.fetched_at = Date.now();
      await O.put("meta", stored);
      return stored;
    }
    if (!res.ok) throw new Error("field pack " + res.status);
    const pack = { key: "fieldpack", etag: res.headers.get("ETag"), fetched_at: Date.now(), value: await res.json() };
    await O.put("meta", pack);
    return pack;
  }

  function precachePages() {
    return new Promise((resolve) => {
      if (!("serviceWorker" in navigator)) return resolve(false);
      navigator.serviceWorker.ready.then((reg) => {
        const ch = new MessageChannel();
        ch.port1.onmessage = (e) => resolve(e.data && e.data.ok);
        let pages = null;
        try { pages = JSON.parse(body.dataset.offlinePages || "null"); } catch (e) { /* the worker's own list */ }
        reg.active.postMessage({ type: "precache", pages: pages }, [ch.port2]);
        setTimeout(() => resolve(false), 20000);
      });
    });
  }

  function describePack(stored) {
    const out = document.getElementById("field-ready");
    if (!out) return;
    if (!stored) { out.textContent = t("notPrepared"); return; }
    const p = stored.value;
    const template = p.templates[0];
    const months = Array.from(new Set(p.guidance.map((g) => g.period))).sort().map(format.month).join(", ");
    out.textContent = t("ready")
      .replace("%(branches)s", p.branches.length)
      .replace("%(version)s", template ? template.version : "—")
      .replace("%(months)s", months || "—")
      .replace("%(time)s", format.dateTime(stored.fetched_at));
    out.hidden = false;
  }

  async function prepare(button) {
    const out = document.getElementById("field-ready");
    button.disabled = true;
    if (out) { out.hidden = false; out.textContent = t("preparing"); }
    try {
      if (navigator.storage && navigator.storage.persist) await navigator.storage.persist();
      const stored = await refreshPack(true);
      const pagesKept = await precachePages();
      describePack(stored);
      // The pack alone does not open a checklist offline: say so when the pages were not kept.
      if (!pagesKept && out) out.textContent += " " + t("pagesNotKept");
    } catch (e) {
      if (out) out.textContent = t("prepareFailed");
    } finally {
      button.disabled = false;
    }
  }

  document.addEventListener("click", (e) => {
    const button = e.target.closest && e.target.closest("#prepare-field");
    if (button) prepare(button);
  });

  document.addEventListener("DOMContentLoaded", async () => {
    showConnection();
    renderBadge();
    if (!signedIn) return;
    drain();
    if (document.getElementById("prepare-field")) afterLoad(showPack);
    else if (document.getElementById("keep-offline")) afterLoad(keepPages);
  });

  // A secretary has no "prepare for the field": the pages they may need without signal (the
  // difficulty form, the outbox) are kept on this phone from their home page, again when the
  // copies are older than half a day.
  async function keepPages() {
    const out = document.getElementById("keep-offline");
    let kept = null;
    try { kept = O ? await O.get("meta", "pages") : null; } catch (e) { /* no IndexedDB */ }
    let ok = !!kept && Date.now() - kept.kept_at < 12 * 60 * 60 * 1000;
    if (!ok && navigator.onLine) {
      ok = await precachePages();
      if (ok) try { await O.put("meta", { key: "pages", kept_at: Date.now() }); } catch (e) { /* next visit */ }
    }
    out.textContent = ok ? t("pagesKept") : t("pagesNotKeptHere");
    out.dataset.kept = ok ? "yes" : "no";
  }

  // The home page's field line: the pack refreshed when older than an hour (offline: the one
  // kept), or a line saying the phone is not prepared. The server drew the line's place with a
  // "checking" text, so nothing below it moves when this fills it in.
  async function showPack() {
    let stored = null;
    try {
      stored = await refreshPack(false);
    } catch (e) {
      try { stored = O ? await O.get("meta", "fieldpack") : null; } catch (e2) { /* no IndexedDB */ }
    }
    describePack(stored);
  }

  window.CosoApp = { drain, refreshPack, renderBadge };
})();
