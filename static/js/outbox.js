// Field mode on the page: the outbox. Loaded on every staff page (templates/base.html).
//
// Mediators fill forms door to door, often with no connection. A form marked `data-outbox`
// (templates/_macros/field.html) is not posted: its submission is kept in IndexedDB, with its
// photos shrunk on the device, under an id made here (client_id). It is sent later, one item at a
// time, to /field/api (photos first, each with its SHA-256, then the submission as JSON). The
// server records each client_id once, so sending again after a cut connection, from a second tab
// or from an exported file adds nothing; that is why nothing here tries to be clever about
// "was it sent?": when in doubt, it sends again.
//
// The outbox belongs to the account that filled it: an item is sent only under that account.
// Logging out deletes everything the device keeps, so it first warns while items wait.
// Every text comes from the page (JSON in #field-config, rendered by Jinja): none is written here.
(function () {
  "use strict";

  const configTag = document.getElementById("field-config");
  if (!configTag || !window.indexedDB || !window.crypto || !window.crypto.subtle) { return; }
  const CONFIG = JSON.parse(configTag.textContent);
  const T = CONFIG.strings;
  const DB_NAME = "participation-field";
  const FIRST_DELAY = 5000;      // first retry after a failed send...
  const LONGEST_DELAY = 300000;  // ...doubling up to five minutes
  const CLIENT_ID = /^[A-Za-z0-9_-]{8,64}$/;
  const channel = "BroadcastChannel" in window ? new BroadcastChannel(DB_NAME) : null;

  function text(name, values) {
    let s = T[name] || "";
    Object.keys(values || {}).forEach((k) => { s = s.split("{" + k + "}").join(String(values[k])); });
    return s;
  }

  function uuid() {
    if (typeof crypto.randomUUID === "function") { return crypto.randomUUID(); }
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  // --- storage: "outbox" (one record per submission, key client_id) and "meta" (key → value) ---
  let dbPromise = null;
  let wiped = false;
  let storage = "opening"; // then "ready", or "broken" (no IndexedDB: forms post as usual)

  function openDb() {
    if (wiped) { return Promise.reject(new Error("wiped")); }
    if (!dbPromise) {
      dbPromise = new Promise((resolve, reject) => {
        const request = indexedDB.open(DB_NAME, 1);
        request.onupgradeneeded = () => {
          request.result.createObjectStore("outbox", { keyPath: "client_id" });
          request.result.createObjectStore("meta");
        };
        request.onsuccess = () => {
          const db = request.result;
          // Another tab deletes the database at logout: let it.
          db.onversionchange = () => { db.close(); dbPromise = null; };
          storage = "ready";
          resolve(db);
        };
        request.onerror = () => { dbPromise = null; storage = "broken"; reject(request.error); };
      });
    }
    return dbPromise;
  }

  function run(store, mode, work) {
    return openDb().then((db) => new Promise((resolve, reject) => {
      const tx = db.transaction(store, mode);
      let result;
      const request = work(tx.objectStore(store));
      if (request) { request.onsuccess = () => { result = request.result; }; }
      tx.oncomplete = () => resolve(result);
      tx.onerror = tx.onabort = () => reject(tx.error);
    }));
  }

  const all = () => run("outbox", "readonly", (s) => s.getAll())
    .then((items) => items.sort((a, b) => (a.created_at < b.created_at ? -1 : 1)));
  const get = (id) => run("outbox", "readonly", (s) => s.get(id));
  const put = (item) => run("outbox", "readwrite", (s) => s.put(item));
  const remove = (id) => run("outbox", "readwrite", (s) => s.delete(id));
  const getMeta = (key) => run("meta", "readonly", (s) => s.get(key));
  const setMeta = (key, value) => run("meta", "readwrite", (s) => s.put(value, key));

  const mine = (item) => item.user_id === CONFIG.user_id;

  // --- state shown to people: counts, "log in again", "no connection" ---
  const state = { paused: null, sending: false, nextTry: null };
  let failures = 0;
  let timer = null;

  async function changed(broadcast) {
    let items = [];
    try { items = await all(); } catch (e) { return; }
    const counts = { total: items.length };
    // The header shows the number; screen readers hear the sentence (a live region: only changes).
    document.querySelectorAll("[data-outbox-badge]").forEach((el) => {
      const number = el.querySelector("[data-outbox-badge-number]");
      const sentence = el.querySelector("[data-outbox-badge-text]");
      const value = text("count", { count: counts.total });
      if (sentence.textContent !== value) { sentence.textContent = value; number.textContent = counts.total; }
      el.hidden = false;
    });
    document.querySelectorAll("[data-outbox-count]").forEach((el) => {
      el.textContent = text("count", { count: counts.total });
    });
    document.dispatchEvent(new CustomEvent("outbox:change", { detail: { items, counts, state } }));
    if (broadcast && channel) { channel.postMessage("change"); }
  }

  // The status line under the form an item came from: what became of it.
  const statusOf = new Map(); // client_id → the status element of its form

  function tell(clientId, message) {
    const el = statusOf.get(clientId);
    if (el) { el.textContent = message; }
  }

  function tellAll(message) {
    statusOf.forEach((el) => { el.textContent = message; });
  }

  // --- photos: shrunk on the device (a phone photo is several MB), hashed, kept as a Blob ---
  async function shrink(file, maxSide) {
    if (!/^image\//.test(file.type) || typeof window.createImageBitmap !== "function") { return file; }
    try {
      const bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
      const scale = Math.min(1, maxSide / Math.max(bitmap.width, bitmap.height));
      const canvas = document.createElement("canvas");
      canvas.width = Math.max(1, Math.round(bitmap.width * scale));
      canvas.height = Math.max(1, Math.round(bitmap.height * scale));
      const ctx = canvas.getContext("2d");
      ctx.fillStyle = "#fff"; // transparent PNG areas would turn black in a JPEG
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      ctx.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      if (bitmap.close) { bitmap.close(); }
      const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.85));
      return blob || file;
    } catch (e) {
      return file; // a format this browser cannot draw: the server decides
    }
  }

  async function sha256(blob) {
    const digest = await crypto.subtle.digest("SHA-256", await blob.arrayBuffer());
    return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
  }

  // --- queueing a form -------------------------------------------------------------------
  function idInput(form) { return form.querySelector("input[name=client_id]"); }

  function freshId(form) {
    const input = idInput(form);
    if (input) { input.value = uuid(); }
  }

  async function queue(form) {
    const status = form.querySelector("[data-outbox-status-text]");
    const data = new FormData(form);
    // Slots as the server counts them: file inputs in document order, one slot per chosen file,
    // and one for an input left empty (so slot n is the photo of row n, next to its caption).
    const chosen = [];
    let slot = 0;
    form.querySelectorAll("input[type=file][name]").forEach((input) => {
      if (input.disabled) { return; }
      const files = Array.from(input.files || []);
      if (!files.length) { slot += 1; return; }
      files.forEach((file) => { chosen.push({ slot: slot++, name: input.name, file }); });
    });
    let clientId = (idInput(form) || {}).value || "";
    if (!CLIENT_ID.test(clientId) || await get(clientId)) { clientId = uuid(); }
    const fields = [];
    data.forEach((value, name) => {
      if (typeof value !== "string" || name === "csrf_token") { return; }
      fields.push([name, name === "client_id" ? clientId : value]);
    });
    if (chosen.length && status) { status.textContent = T.photos; }
    const maxSide = (await getMeta("photo_max_side")) || CONFIG.photo_max_side || 1600;
    const photos = [];
    for (const p of chosen) {
      const blob = await shrink(p.file, maxSide);
      photos.push({ slot: p.slot, name: p.name, sha: await sha256(blob), blob, type: blob.type || "image/jpeg" });
    }
    let target = {};
    try { target = JSON.parse(form.dataset.outboxTarget || "{}"); } catch (e) { target = {}; }
    const item = {
      client_id: clientId,
      kind: form.dataset.outbox,
      form_version: parseInt(form.dataset.outboxVersion, 10) || 1,
      target,
      title: form.dataset.outboxTitle || document.title,
      fields,
      photos,
      locale: CONFIG.locale || document.documentElement.lang,
      created_at: new Date().toISOString(),
      status: "waiting",
      attempts: 0,
      last_error: null,
      message: null,
      user_id: CONFIG.user_id,
    };
    await put(item);
    if (status) { statusOf.set(clientId, status); status.textContent = T.queued; }
    form.dispatchEvent(new CustomEvent("outbox:queued", { bubbles: true, detail: { client_id: clientId } }));
    form.reset();
    freshId(form);
    await changed(true);
    sendAll();
  }

  // Capture at the document, after the page's own handlers: a form whose own script delays
  // sending (photos still being prepared) has cancelled the event and will submit again.
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (event.defaultPrevented || !(form instanceof HTMLFormElement)) { return; }
    if (form.hasAttribute("data-logout")) { onLogout(event, form); return; }
    if (!form.hasAttribute("data-outbox") || form.method !== "post" || storage === "broken") { return; }
    event.preventDefault();
    if (form.dataset.outboxBusy) { return; } // a second tap while the first is being kept
    form.dataset.outboxBusy = "1";
    const button = form.querySelector("[type=submit]");
    if (button) { button.disabled = true; }
    queue(form).catch(() => {
      if (storage === "broken") { // sent before we knew: post it as if there were no outbox
        HTMLFormElement.prototype.submit.call(form);
        return;
      }
      const status = form.querySelector("[data-outbox-status-text]");
      if (status) { status.textContent = T.save_failed; }
    }).finally(() => {
      delete form.dataset.outboxBusy;
      if (button) { button.disabled = false; }
    });
  });

  // --- sending ---------------------------------------------------------------------------
  class Stop extends Error {}          // stop the loop: "offline" (retry later) or "login"
  class Refused extends Error {         // this item is not recorded; a person decides
    constructor(status, body) { super(body.message || T.refused); this.status = status; this.body = body; }
  }

  let token = null;

  async function call(url, options) {
    let response;
    try {
      response = await fetch(url, Object.assign({ credentials: "same-origin", cache: "no-store" }, options));
    } catch (e) {
      throw new Stop("offline");
    }
    let body = {};
    try { body = await response.json(); } catch (e) { body = {}; }
    if (response.status === 401) { throw new Stop("login"); }
    if (response.status >= 500 || response.status === 408 || response.status === 429 || !body.status) {
      throw new Stop("offline"); // the server (or something before it) is unwell: later
    }
    return { status: response.status, body };
  }

  async function fetchConfig() {
    const { status, body } = await call(CONFIG.api.config, { method: "GET" });
    if (status !== 200) { throw new Refused(status, body); }
    token = body.csrf_token;
    await setMeta("shift_ends_at", body.shift_ends_at);
    await setMeta("photo_max_side", body.photo_max_side);
    return body;
  }

  // A call with the CSRF token; an expired token is renewed once.
  async function withToken(url, options) {
    for (let attempt = 0; attempt < 2; attempt += 1) {
      if (!token) { await fetchConfig(); }
      const headers = Object.assign({ "X-CSRFToken": token }, options.headers);
      const answer = await call(url, Object.assign({}, options, { headers }));
      if (!(answer.status === 400 && answer.body.status === "csrf")) { return answer; }
      token = null;
    }
    throw new Stop("offline");
  }

  async function sendPhoto(item, photo) {
    const url = CONFIG.api.photos + encodeURIComponent(item.client_id) + "/" + photo.slot;
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const { status, body } = await withToken(url, {
        method: "PUT", body: photo.blob, headers: { "Content-Type": photo.type, "X-Photo-SHA256": photo.sha },
      });
      if (status === 200 || status === 201) { return; }
      if (!(status === 422 && body.status === "corrupt")) { throw new Refused(status, body); }
    }
    throw new Stop("offline"); // damaged twice on the way: a bad connection, try later
  }

  function payload(item) {
    return JSON.stringify({
      client_id: item.client_id, kind: item.kind, form_version: item.form_version, target: item.target,
      fields: item.fields, photos: item.photos.map((p) => ({ slot: p.slot, name: p.name, sha: p.sha })),
      locale: item.locale, created_at: item.created_at,
    });
  }

  async function sendOne(item) {
    item.status = "sending";
    item.attempts += 1;
    await put(item);
    await changed(false);
    try {
      for (const photo of item.photos) { await sendPhoto(item, photo); }
      const submit = () => withToken(CONFIG.api.submissions, {
        method: "POST", body: payload(item), headers: { "Content-Type": "application/json" },
      });
      let answer = await submit();
      if (answer.status === 422 && answer.body.status === "photos_missing") {
        const missing = answer.body.missing || [];
        for (const photo of item.photos) {
          if (missing.indexOf(photo.slot) !== -1) { await sendPhoto(item, photo); }
        }
        answer = await submit();
        if (answer.body.status === "photos_missing") { throw new Stop("offline"); }
      }
      if (answer.status !== 200 && answer.status !== 201) { throw new Refused(answer.status, answer.body); }
      await remove(item.client_id);
      await logSent(item, answer.body);
      tell(item.client_id, answer.body.message || T.sent);
    } catch (e) {
      if (e instanceof Refused) {
        item.status = e.status === 409 ? "conflict" : "rejected";
        item.last_error = e.body.status || String(e.status);
        const details = Object.values(e.body.fields || {}).filter((m) => m && m !== e.message);
        item.message = [e.message].concat(details).join(" ");
        await put(item);
        tell(item.client_id, T.refused + " " + item.message);
        return;
      }
      item.status = "waiting";
      item.last_error = e instanceof Stop ? e.message : String(e);
      await put(item);
      throw e;
    }
  }

  // What was sent, without its content: a count and the server's short answers, for the
  // field-mode page. Deleted with everything else at logout.
  async function logSent(item, body) {
    const log = (await getMeta("sent")) || { count: 0, last: [] };
    log.count += 1;
    log.last = [{ at: new Date().toISOString(), status: body.status, message: body.message || "" }]
      .concat(log.last).slice(0, 10);
    await setMeta("sent", log);
  }

  function later() {
    failures += 1;
    const delay = Math.min(FIRST_DELAY * 2 ** (failures - 1), LONGEST_DELAY);
    clearTimeout(timer);
    timer = setTimeout(sendAll, delay);
    state.nextTry = new Date(Date.now() + delay).toISOString();
  }

  async function loop() {
    const items = (await all()).filter((i) => mine(i) && (i.status === "waiting" || i.status === "sending"));
    if (!items.length) { state.paused = null; return; }
    token = null;
    await fetchConfig();
    for (const item of items) {
      const current = await get(item.client_id); // another tab may have sent or deleted it
      if (current && (current.status === "waiting" || current.status === "sending")) { await sendOne(current); }
    }
    failures = 0;
    state.paused = null;
    state.nextTry = null;
  }

  let running = null;

  // One sender per device: tabs take turns through a Web Lock (where there is none, the server's
  // idempotency still makes a double send harmless).
  function sendAll() {
    if (running || wiped) { return running || Promise.resolve(); }
    clearTimeout(timer);
    state.sending = true;
    const work = () => loop().catch((e) => {
      if (e instanceof Stop && e.message === "login") {
        state.paused = "login";
        tellAll(T.login);
      } else if (e instanceof Refused) {
        // The account may no longer send at all (a role removed): say so, do not retry blindly.
        state.paused = "forbidden";
        tellAll(e.message);
      } else {
        // The form's line already says "kept, sent when there is a connection": leave it.
        state.paused = "offline";
        later();
      }
    });
    const locked = navigator.locks
      ? navigator.locks.request(DB_NAME + "-send", { ifAvailable: true }, (lock) => (lock ? work() : null))
      : work();
    running = locked.finally(() => {
      running = null;
      state.sending = false;
      return changed(true);
    });
    return running;
  }

  // --- export: the whole outbox as one JSON file, photos included (the lead's /field/import) ---
  function base64(blob) {
    return new Promise((resolve, reject) => {
      const reader = new FileReader();
      reader.onload = () => resolve(String(reader.result).split(",", 2)[1] || "");
      reader.onerror = () => reject(reader.error);
      reader.readAsDataURL(blob);
    });
  }

  async function exportFile() {
    // Only this account's entries: another account's stay for their owner (who alone sends them).
    const items = (await all()).filter(mine);
    const out = { format: "participation-outbox", version: 1, exported_at: new Date().toISOString(), items: [] };
    for (const item of items) {
      const photos = [];
      for (const p of item.photos) { photos.push({ slot: p.slot, name: p.name, sha: p.sha, data: await base64(p.blob) }); }
      out.items.push({
        client_id: item.client_id, kind: item.kind, form_version: item.form_version, target: item.target,
        fields: item.fields, photos, locale: item.locale, created_at: item.created_at, title: item.title,
      });
    }
    const link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([JSON.stringify(out)], { type: "application/json" }));
    link.download = "outbox-" + out.exported_at.slice(0, 16).replace(/[^0-9]/g, "") + ".json";
    link.hidden = true;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 60000);
    return items.length;
  }

  // --- forms taken offline: the service worker keeps them (templates/field/sw.js) ---------
  function worker() {
    if (!navigator.serviceWorker) { return Promise.resolve(null); }
    const wait = new Promise((resolve) => setTimeout(() => resolve(null), 15000));
    return Promise.race([navigator.serviceWorker.ready, wait]).then((reg) => (reg && reg.active) || null);
  }

  async function askWorker(message) {
    const active = await worker();
    if (!active) { return false; }
    return new Promise((resolve) => {
      const ch = new MessageChannel();
      ch.port1.onmessage = (event) => resolve(!!(event.data && event.data.ok));
      active.postMessage(message, [ch.port2]);
      setTimeout(() => resolve(false), 60000);
    });
  }

  async function takeOffline(url, on) {
    const ok = await askWorker({ type: on ? "take-offline" : "drop-offline", url });
    if (ok || !on) {
      const urls = new Set((await getMeta("offline_urls")) || []);
      if (on) { urls.add(url); } else { urls.delete(url); }
      await setMeta("offline_urls", Array.from(urls));
    }
    return ok;
  }

  // --- logging out: nothing of the shift stays on the tablet -------------------------------
  async function wipe() {
    wiped = true;
    if (channel) { channel.postMessage("wiped"); }
    if (dbPromise) { try { (await dbPromise).close(); } catch (e) { /* never opened */ } }
    dbPromise = null;
    await new Promise((resolve) => {
      const request = indexedDB.deleteDatabase(DB_NAME);
      request.onsuccess = request.onerror = request.onblocked = resolve;
    });
    if (window.caches) {
      for (const name of await caches.keys()) { await caches.delete(name); }
    }
    if (navigator.serviceWorker) {
      for (const reg of await navigator.serviceWorker.getRegistrations()) { await reg.unregister(); }
    }
    try { localStorage.clear(); sessionStorage.clear(); } catch (e) { /* storage disabled */ }
  }

  async function logout(form) {
    // The page may be a copy kept offline, with an old token: ask for a fresh one.
    const body = new FormData(form);
    body.set("wipe", "1"); // the server then answers with Clear-Site-Data (see onLogout)
    try {
      const answer = await fetch(CONFIG.api.config, { credentials: "same-origin", cache: "no-store" });
      if (answer.status === 200) { body.set("csrf_token", (await answer.json()).csrf_token); }
      if (answer.status !== 401) { // (401: the login has already ended on the server)
        // The server ends the login (and answers with Clear-Site-Data); only then is the device wiped.
        const done = await fetch(form.action, { method: "POST", body, credentials: "same-origin", redirect: "manual" });
        if (done.type !== "opaqueredirect") { // refused: let the server's own page say why
          HTMLFormElement.prototype.submit.call(form);
          return;
        }
      }
    } catch (e) {
      window.alert(T.logout_offline);
      return;
    }
    await wipe();
    window.location.assign(CONFIG.after_logout || "/");
  }

  const warning = document.querySelector("[data-logout-warning]");
  let logoutForm = null;

  async function onLogout(event, form) {
    event.preventDefault();
    logoutForm = form;
    let count = 0;
    // Unreadable outbox: assume something waits, never wipe what could not be counted.
    try { count = (await all()).length; } catch (e) { count = 1; }
    if (!count) {
      logout(form);
      return;
    }
    if (!warning || typeof warning.showModal !== "function") {
      // No dialog on this browser: the field page shows what waits and how to send or export it.
      window.location.assign(CONFIG.home);
      return;
    }
    warning.querySelector("[data-logout-warning-count]").textContent = text("count", { count });
    warning.querySelector("[data-logout-warning-status]").textContent = "";
    warning.showModal();
  }

  if (warning) {
    const status = warning.querySelector("[data-logout-warning-status]");
    const recount = async () => {
      const count = (await all()).length;
      warning.querySelector("[data-logout-warning-count]").textContent = text("count", { count });
      return count;
    };
    warning.querySelector("[data-outbox-send]").addEventListener("click", async () => {
      status.textContent = T.sending;
      await sendAll();
      const left = await recount();
      status.textContent = left ? (state.paused === "login" ? T.login : T.offline) : T.all_sent;
    });
    warning.querySelector("[data-outbox-export]").addEventListener("click", async () => {
      await exportFile();
      status.textContent = T.exported;
    });
    warning.querySelector("[data-logout-anyway]").addEventListener("click", () => {
      warning.close();
      if (logoutForm) { logout(logoutForm); }
    });
    warning.querySelector("[data-logout-cancel]").addEventListener("click", () => warning.close());
  }

  // --- start ----------------------------------------------------------------------------
  window.fieldOutbox = {
    all, changed, sendAll, exportFile, takeOffline, state,
    offlineUrls: async () => (await getMeta("offline_urls")) || [],
    sentLog: async () => (await getMeta("sent")) || { count: 0, last: [] },
    retry: async (id) => {
      const item = await get(id);
      if (item && mine(item)) { item.status = "waiting"; item.message = null; await put(item); }
      await changed(true);
      return sendAll();
    },
    remove: async (id) => { await remove(id); await changed(true); },
    refreshOffline: () => askWorker({ type: "refresh" }),
    isMine: mine,
  };

  if (channel) {
    channel.onmessage = (event) => {
      if (event.data === "wiped") { wiped = true; dbPromise = null; return; }
      changed(false);
    };
  }

  if (navigator.serviceWorker && window.isSecureContext) {
    navigator.serviceWorker.register(CONFIG.sw, { scope: "/" }).catch(() => { /* field mode without offline pages */ });
  }

  openDb().then(async () => {
    // Another account logs in on this tablet: the pages kept for the previous one are dropped
    // (its entries stay, shown as waiting for their owner). Pages kept offline carry the account
    // and the time they were made, so only a newer page than the last one seen may decide.
    const seen = await getMeta("user");
    if (!seen || Date.parse(CONFIG.rendered_at) > Date.parse(seen.at)) {
      if (seen && seen.id !== CONFIG.user_id) {
        await setMeta("offline_urls", []);
        await setMeta("sent", null);
        askWorker({ type: "forget" });
      }
      await setMeta("user", { id: CONFIG.user_id, at: CONFIG.rendered_at });
    }
    // A page kept offline carries the shift end of the login that kept it: it may only move the
    // stored end forward (a newer login ends later); /field/api/config gives the real one.
    const stored = await getMeta("shift_ends_at");
    if (CONFIG.shift_ends_at && (!stored || Date.parse(CONFIG.shift_ends_at) > Date.parse(stored))) {
      await setMeta("shift_ends_at", CONFIG.shift_ends_at);
    }
    document.querySelectorAll("form[data-outbox]").forEach((form) => {
      // A page kept offline comes back with the id it was rendered with: each fill needs its own.
      freshId(form);
      const status = form.querySelector("[data-outbox-status]");
      if (status) { status.hidden = false; }
    });
    await changed(false);
    sendAll();
  }).catch(() => {
    // No IndexedDB here (a private window): the forms post as usual.
    document.querySelectorAll("form[data-outbox]").forEach((form) => { form.removeAttribute("data-outbox"); });
  });

  window.addEventListener("online", () => { failures = 0; sendAll(); });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && state.paused !== "login") { sendAll(); }
  });
})();
