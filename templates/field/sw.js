// Field mode's service worker (rendered by participation/field/pages.py, served at /sw.js).
// It keeps two caches, both named after a hash of what the shell holds, so that a deploy makes
// new ones and the old ones are deleted when this worker takes over:
//   shell: the static files every page needs and the offline page, fetched at install;
//   forms: the pages a mediator took offline (from /field/), refreshed whenever they are
//          opened with a connection, so that they carry fresh lists and tokens.
// Pages are asked from the network first (online, everything is as usual); only when the
// network fails does a page come from the forms cache, else the offline page. Sending is not
// done here: static/js/outbox.js sends from the page, and nothing under /field/api/ and no POST
// is ever cached or answered by this worker.
"use strict";

var VERSION = {{ version|tojson }};
var PREFIX = "participation-";
var SHELL = PREFIX + "shell-" + VERSION;
var FORMS = PREFIX + "forms-" + VERSION;
var SHELL_URLS = {{ shell|tojson }};
var HOME_URL = {{ home_url|tojson }};
var OFFLINE_URL = {{ offline_url|tojson }};
var SHIFT_OVER_URL = {{ shift_over_url|tojson }};
var API_PREFIX = {{ api_prefix|tojson }};
var STATIC_PREFIX = {{ static_prefix|tojson }};
// Cached pages vary on the language cookie and htmx headers; offline, any copy is better than none.
var LOOSE = { ignoreVary: true };

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(SHELL).then(function (cache) {
    return cache.addAll(SHELL_URLS);
  }).then(function () {
    // Take over at once: a mediator about to leave must not have to close every tab first.
    return self.skipWaiting();
  }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(carryForms().then(function () {
    return caches.keys();
  }).then(function (names) {
    return Promise.all(names.filter(function (name) {
      return name.indexOf(PREFIX) === 0 && name !== SHELL && name !== FORMS;
    }).map(function (name) { return caches.delete(name); }));
  }).then(function () {
    return self.clients.claim();
  }).then(function () {
    // Best effort: online, the forms kept from the old version are fetched again for this one.
    refreshForms();
  }));
});

// Forms taken offline under an older version move into this version's cache (a deploy while the
// tablet is in the field must not take its forms away).
function carryForms() {
  return caches.keys().then(function (names) {
    var old = names.filter(function (n) { return n.indexOf(PREFIX + "forms-") === 0 && n !== FORMS; });
    if (!old.length) { return null; }
    return caches.open(FORMS).then(function (forms) {
      return Promise.all(old.map(function (name) {
        return caches.open(name).then(function (cache) {
          return cache.keys().then(function (requests) {
            return Promise.all(requests.map(function (request) {
              return forms.match(request, LOOSE).then(function (have) {
                return have ? null : cache.match(request, LOOSE).then(function (r) { return r && forms.put(request, r); });
              });
            }));
          });
        });
      }));
    });
  });
}

// Fetch a page and keep it in the forms cache; false when it is not the page itself (a login
// page after a redirect, an error, no connection).
function keep(url) {
  return fetch(url, { credentials: "same-origin", cache: "no-store", redirect: "follow" }).then(function (response) {
    if (!response.ok || response.redirected) { return false; }
    return caches.open(FORMS).then(function (cache) {
      return cache.put(url, response).then(function () { return true; });
    });
  }).catch(function () { return false; });
}

function refreshForms() {
  return caches.has(FORMS).then(function (has) {
    if (!has) { return []; }
    return caches.open(FORMS).then(function (cache) { return cache.keys(); }).then(function (requests) {
      return Promise.all(requests.map(function (request) { return keep(request.url); }));
    });
  }).catch(function () { return []; });
}

self.addEventListener("message", function (event) {
  var data = event.data || {};
  var port = event.ports && event.ports[0];
  var job;
  if (data.type === "take-offline" && typeof data.url === "string") {
    job = keep(new URL(data.url, self.location.origin).href);
  } else if (data.type === "drop-offline" && typeof data.url === "string") {
    job = caches.open(FORMS).then(function (cache) { return cache.delete(data.url, { ignoreSearch: true }); });
  } else if (data.type === "forget") {
    // Another account logs in on this tablet: the pages kept for the previous one go, and the
    // offline pages are fetched again under the new login.
    job = caches.delete(FORMS).then(function () { return caches.open(SHELL); }).then(function (cache) {
      return cache.addAll([OFFLINE_URL, SHIFT_OVER_URL]).then(function () { return true; });
    });
  } else if (data.type === "refresh") {
    job = refreshForms().then(function () { return true; });
  } else {
    return;
  }
  event.waitUntil(job.then(function (ok) {
    if (port) { port.postMessage({ ok: !!ok }); }
  }, function () {
    if (port) { port.postMessage({ ok: false }); }
  }));
});

// The end of the shift, written by outbox.js into IndexedDB. Read only: if the database does not
// exist yet, opening it is aborted so that outbox.js still creates it with its stores.
function shiftEndsAt() {
  return new Promise(function (resolve) {
    var request;
    try { request = indexedDB.open("participation-field"); } catch (e) { resolve(null); return; }
    request.onupgradeneeded = function () { request.transaction.abort(); };
    request.onerror = function () { resolve(null); };
    request.onsuccess = function () {
      var db = request.result;
      try {
        var get = db.transaction("meta").objectStore("meta").get("shift_ends_at");
        get.onsuccess = function () { db.close(); resolve(get.result || null); };
        get.onerror = function () { db.close(); resolve(null); };
      } catch (e) {
        db.close();
        resolve(null);
      }
    };
  });
}

function offlinePage(url) {
  return caches.match(url, LOOSE).then(function (page) { return page || Response.error(); });
}

// A kept page is shown when the network has not answered within this time: on a weak
// connection a mediator must not wait minutes for a form the tablet already holds.
var SLOW_NETWORK_MS = 4000;

function keptPage(request) {
  return caches.open(FORMS).then(function (cache) {
    return cache.match(request, { ignoreSearch: true, ignoreVary: true });
  });
}

function fromCache(request) {
  return keptPage(request).then(function (page) {
    if (!page) { return offlinePage(OFFLINE_URL); }
    if (new URL(request.url).pathname === HOME_URL) { return page; } // the outbox stays reachable
    return shiftEndsAt().then(function (ends) {
      var over = ends && Date.parse(ends) < Date.now();
      return over ? offlinePage(SHIFT_OVER_URL) : page;
    });
  });
}

function navigate(request) {
  var network = fetch(request).then(function (response) {
    if (response.ok && response.type === "basic") {
      // A page taken offline, opened with a connection: keep this fresher copy.
      var copy = response.clone();
      caches.has(FORMS).then(function (has) {
        if (!has) { return null; }
        return caches.open(FORMS).then(function (cache) {
          return cache.keys(request, { ignoreSearch: true, ignoreVary: true }).then(function (keys) {
            return keys.length ? cache.put(keys[0], copy) : null;
          });
        });
      }).catch(function () { return null; });
    }
    return response;
  });
  return keptPage(request).catch(function () { return null; }).then(function (kept) {
    if (!kept) { return network.catch(function () { return fromCache(request); }); }
    return new Promise(function (resolve) {
      var settled = false;
      function settle(value) { if (!settled) { settled = true; clearTimeout(timer); resolve(value); } }
      var timer = setTimeout(function () { settle(fromCache(request)); }, SLOW_NETWORK_MS);
      network.then(settle, function () { settle(fromCache(request)); });
    });
  });
}

// Static files carry a content hash in their URL: the cached copy is the right one. Offline, a
// page kept under an older version may ask for an older hash: the current file is served instead.
function fromShell(request) {
  return caches.match(request, LOOSE).then(function (hit) {
    if (hit) { return hit; }
    return fetch(request).then(function (response) {
      if (response.ok) {
        var copy = response.clone();
        caches.open(SHELL).then(function (cache) { return cache.put(request, copy); });
      }
      return response;
    }, function (error) {
      return caches.match(request, { ignoreSearch: true, ignoreVary: true }).then(function (old) {
        if (old) { return old; }
        throw error;
      });
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") { return; }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin || url.pathname.indexOf(API_PREFIX) === 0) { return; }
  if (request.mode === "navigate") {
    event.respondWith(navigate(request));
  } else if (url.pathname.indexOf(STATIC_PREFIX) === 0) {
    event.respondWith(fromShell(request));
  } else if (SHELL_URLS.indexOf(url.pathname + url.search) !== -1) {
    // The manifest and the offline pages: fresh when possible, kept copy otherwise.
    event.respondWith(fetch(request).catch(function () {
      return caches.match(request, LOOSE).then(function (hit) { return hit || Response.error(); });
    }));
  }
});
