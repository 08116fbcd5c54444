/* Branch search the same online and offline.
 * CosoSearch.key is coso.search_keys.search_key in JavaScript: lower case, no accents, đ as d,
 * single spaces (tests/test_search.py holds the two to the same outputs). Online the server
 * searches its stored keys; offline (no signal, or the search request failed) this script
 * lists and searches every branch of the field pack kept on the phone.
 */
(function () {
  "use strict";

  /** A text as searches compare it (the same rule as coso.search_keys.search_key). */
  function key(text) {
    const out = [];
    let space = false;
    for (const ch of String(text || "").normalize("NFD").toLowerCase()) {
      if (/^[\p{M}\p{Cf}]$/u.test(ch)) continue;
      if (/^[\p{Z}\p{Cc}]$/u.test(ch)) { space = out.length > 0; continue; }
      if (space) { out.push(" "); space = false; }
      out.push(ch === "đ" ? "d" : ch);
    }
    return out.join("");
  }

  /** Whether a field-pack branch's name or code contains the query (compared as keys). */
  function matches(branch, query) {
    const q = key(query);
    return key(branch.name).includes(q) || key(branch.code).includes(q);
  }

  window.CosoSearch = { key, matches };

  const box = document.getElementById("branch-offline");
  const input = document.getElementById("q");
  const online = document.getElementById("branch-list");
  if (!box || !input || !online) return;
  const ORDER = { repeat: 0, flagged: 1, overdue: 2, never: 3, ok: 4 };
  // Drawn at most: a province's pack holds 3,000 branches, and drawing them all on every
  // keystroke took seconds on a slow phone (bench/offline_search.py). More typing narrows.
  const SHOWN = 30;
  let offline = false;
  // The pack's branches in the order shown, each with its search keys, read from IndexedDB
  // and keyed once per offline spell (never per keystroke: the read and the keys were the
  // cost); forgotten when the signal returns, so the next spell reads a fresher pack.
  let index = null;

  async function branchIndex() {
    if (index) return index;
    const O = window.CosoOutbox;
    if (!O) return null;
    let stored = null;
    try { stored = await O.get("meta", "fieldpack"); } catch (e) { return null; }
    if (!stored || !stored.value) return null;
    const branches = stored.value.branches.slice().sort((a, b) =>
      (ORDER[a.state] ?? 5) - (ORDER[b.state] ?? 5) || a.name.localeCompare(b.name, "vi"));
    index = branches.map((b) => ({ branch: b, name: key(b.name), code: key(b.code) }));
    return index;
  }

  function item(branch) {
    const li = document.createElement("li");
    const a = document.createElement("a");
    a.href = "/evaluate/" + branch.id;
    a.textContent = branch.name;
    const where = document.createElement("span");
    where.className = "muted";
    where.textContent = " " + branch.code + (branch.parent_name ? " · " + branch.parent_name : "") + " ";
    const state = document.createElement("span");
    state.className = "state state-" + branch.state;
    state.textContent = box.dataset["state" + branch.state.charAt(0).toUpperCase() + branch.state.slice(1)] || branch.state;
    li.append(a, where, state);
    if (branch.next_meeting && window.CosoFormat) {  // the branch's declared meeting (issue 18)
      const next = document.createElement("span");
      next.className = "muted next-meeting";
      next.textContent = " " + window.CosoFormat.meeting(branch.next_meeting);
      li.append(next);
    }
    return li;
  }

  /** Draw every field-pack branch matching the box's query (all of them, no pager). */
  async function drawOffline() {
    const all = await branchIndex();
    const note = box.querySelector("[data-role=note]");
    const list = box.querySelector("[data-role=list]");
    const query = input.value.trim();
    list.replaceChildren();
    online.hidden = true;
    box.hidden = false;
    if (!all) { note.textContent = box.dataset.noPack; return; }
    const q = key(query);
    const found = all.filter((e) => e.name.includes(q) || e.code.includes(q)).map((e) => e.branch);
    let count = (query ? box.dataset.count : box.dataset.all).replace("%(n)s", found.length);
    if (found.length > SHOWN) count += " " + box.dataset.firstShown.replace("%(n)s", SHOWN);
    note.textContent = box.dataset.offline + " " + count;
    if (!found.length) {
      const li = document.createElement("li");
      li.className = "muted";
      li.textContent = query ? box.dataset.none.replace("%(q)s", query) : box.dataset.empty;
      list.append(li);
      return;
    }
    list.append(...found.slice(0, SHOWN).map(item));
  }

  function goOffline() { offline = true; drawOffline(); }
  function goOnline() { offline = false; index = null; box.hidden = true; online.hidden = false; }

  // A search request that meets no network: answer it from the field pack.
  document.body.addEventListener("htmx:sendError", (e) => {
    if (e.target === input || online.contains(e.target)) goOffline();
  });
  document.body.addEventListener("htmx:afterSwap", (e) => { if (e.target === online) goOnline(); });
  input.addEventListener("input", () => { if (offline || !navigator.onLine) goOffline(); });
  window.addEventListener("offline", goOffline);
  window.addEventListener("online", () => {
    if (offline && window.htmx) window.htmx.trigger(input, "search");
  });

  // A page served from the phone's cache (no signal): the URL's query, and every branch.
  const q = new URLSearchParams(location.search).get("q");
  if (q && !input.value) input.value = q;
  if (!navigator.onLine) goOffline();
})();
