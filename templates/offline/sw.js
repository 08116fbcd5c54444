/* coso service worker {{ version }}.
 * Navigations: network first (with a timeout for weak signal), the last good copy when offline,
 * and for any branch's checklist the generic checklist page. Static files: cache first (their
 * URLs carry content hashes). Never cached: htmx fragments and the API.
 * The outbox is drained here too (Background Sync, and whenever the worker starts) — but the
 * page-side triggers are the main path, since iOS Safari has no Background Sync.
 */
const VERSION = "{{ version }}";
const SHELL = "coso-shell-" + VERSION;
const PAGES = "coso-pages";
const ASSETS = {{ assets|tojson }};
const SHELL_PAGES = {{ pages|tojson }};
const NAV_TIMEOUT = 6000;
importScripts({{ outbox_js|tojson }});

// pages: the list the page sent for its signed-in user (its roles decide: issue 16, item 18);
// only same-origin paths are taken. Without it, the list this script was served with.
async function cachePages(pages) {
  const cache = await caches.open(PAGES);
  const list = Array.isArray(pages) ? pages.filter((p) => typeof p === "string" && /^\/(?!\/)/.test(p)) : SHELL_PAGES;
  let ok = true;
  await Promise.all(list.map(async (path) => {
    try {
      const res = await fetch(path, { credentials: "same-origin", cache: "no-store" });
      if (res.ok && !res.redirected) await cache.put(path, res);
      else ok = false;
    } catch (e) { ok = false; }
  }));
  return ok;
}

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(SHELL);
    await cache.addAll(ASSETS);
    await cachePages(); // the public pages; a user's own list comes with "prepare for the field"
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    const names = await caches.keys();
    await Promise.all(names.filter((n) => n !== SHELL && n !== PAGES).map((n) => caches.delete(n)));
    await self.clients.claim();
    CosoOutbox.drain().catch(() => {});
  })());
});

self.addEventListener("message", (event) => {
  if (event.data && event.data.type === "precache") {
    event.waitUntil(cachePages(event.data.pages).then((ok) => event.ports[0] && event.ports[0].postMessage({ ok })));
  }
});

// Background Sync. The browser fires "sync" when the signal is back; our own backoff need not be
// waited out then (force). A drain that met no network, or a server that asked us to wait,
// REJECTS: the browser then keeps the tag and fires it again later. Resolving would tell it the
// job was done and the queue would wait for the next page to open (issue 16, item 7).
async function syncOutbox() {
  const result = await CosoOutbox.drain({ force: true, wait: true });
  if (result && (result.offline || result.retry)) {
    throw new Error("coso outbox not drained: " + (result.offline ? "no network" : "server busy"));
  }
  const held = (await CosoOutbox.all("outbox")).filter((i) => i.state === "waiting" && i.held_by_server);
  if (held.length) throw new Error("coso outbox: " + held.length + " held by the server");
  return result;
}
self.cosoSync = syncOutbox; // the handler calls it by this name, so a test can watch its outcome

self.addEventListener("sync", (event) => {
  if (event.tag === "coso-outbox") event.waitUntil(self.cosoSync());
});

function timeout(ms) {
  return new Promise((_, reject) => setTimeout(() => reject(new Error("timeout")), ms));
}

// A page served from this phone's copies says so (issue 16, item 8): the server may be down
// while the phone has signal, so navigator.onLine alone cannot tell the page. The new page's
// client appears a little after its response, hence the few tries.
async function tellOfflineCopy(clientId) {
  for (let i = 0; clientId && i < 20; i++) {
    const client = await self.clients.get(clientId);
    if (client) { client.postMessage({ type: "offline-copy" }); return; }
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function inPack(id) {
  try {
    const stored = await CosoOutbox.get("meta", "fieldpack");
    return !!(stored && stored.value && stored.value.branches.some((b) => b.id === id));
  } catch (e) { return false; }
}

async function navigate(request, event) {
  const url = new URL(request.url);
  const key = url.pathname + url.search;
  try {
    const res = await Promise.race([fetch(request), timeout(NAV_TIMEOUT)]);
    const type = res.headers.get("Content-Type") || "";
    if (res.ok && !res.redirected && type.indexOf("text/html") === 0) {
      const copy = res.clone();
      caches.open(PAGES).then((c) => c.put(key, copy));
    }
    return res;
  } catch (e) {
    if (event) event.waitUntil(tellOfflineCopy(event.resultingClientId));
    const cache = await caches.open(PAGES);
    // A branch's checklist: the generic page, drawn from the field pack, whenever the pack
    // holds the branch. A copy of the page kept from an earlier visit is a snapshot of then
    // (its warnings, its last result) and cannot take a "?correct=" the server never saw.
    const branch = /^\/evaluate\/(\d+)$/.exec(url.pathname);
    if (branch && (await inPack(parseInt(branch[1], 10)))) {
      const shell = await cache.match("/evaluate/form");
      if (shell) return shell;
    }
    const hit = (await cache.match(key)) || (await cache.match(url.pathname));
    if (hit) return hit;
    if (branch) {
      const shell = await cache.match("/evaluate/form");
      if (shell) return shell;
    }
    return (await cache.match("/offline")) || new Response("offline", { status: 503 });
  }
}

async function asset(request) {
  const cache = await caches.open(SHELL);
  const hit = await cache.match(request);
  if (hit) return hit;
  const res = await fetch(request);
  if (res.ok) cache.put(request, res.clone());
  return res;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.headers.get("HX-Request")) return; // fragments are never cached
  if (url.pathname.startsWith("/api/")) return;
  if (url.pathname.startsWith("/static/")) { event.respondWith(asset(request)); return; }
  if (request.mode === "navigate") { event.respondWith(navigate(request, event)); return; }
});
