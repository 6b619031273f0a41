// The service worker of village_survey (version {{ version }}): it keeps the field app and the
// survey form on the phone in a versioned cache, and sends the outbox by Background Sync.
// Drafts and the queue live in IndexedDB, not in this cache, so an update never loses them.
// A shared phone: the village list is kept per user and answered only to that user, and a
// logout made without signal reaches the server before any page is loaded again.
import { syncOutbox } from "/static/js/app/outbox.js";
import { finishPendingLogout, lockForLogout, setRequestTimeout } from "/static/js/app/session.js";
import { DATA_CACHE_PREFIX, currentSession, dataCacheName, logoutPending, openUserDb } from "/static/js/app/store.js";

const VERSION = "{{ version }}";
const CACHE = `vs-shell-${VERSION}`;
const PRECACHE = {{ precache | tojson }};
const PRECACHED = new Set(PRECACHE);
setRequestTimeout({{ config.get("FIELD_APP_REQUEST_TIMEOUT_MS", 30000) | int }});

async function precache() {
  const cache = await caches.open(CACHE);
  // All at once: on a slow network one round trip instead of one per file.
  const responses = await Promise.all(PRECACHE.map(async (path) => {
    const response = await fetch(path, { credentials: "same-origin", cache: "no-cache" });
    // A login page in place of the app (an expired session) must not be cached as the app.
    if (!response.ok || response.redirected) throw new Error(`cannot cache ${path}: ${response.status}`);
    return [path, response];
  }));
  await Promise.all(responses.map(([path, response]) => cache.put(path, response)));
}

self.addEventListener("install", (event) => {
  event.waitUntil(precache().then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) {
      // Older shells, and the village list that all users shared before it was one per user.
      if (key.startsWith("vs-") && key !== CACHE && !key.startsWith(DATA_CACHE_PREFIX)) await caches.delete(key);
    }
    await self.clients.claim();
  })());
});

async function fromCacheFirst(request, path) {
  const cached = await caches.match(path, { cacheName: CACHE });
  return cached || fetch(request);
}

// The village list from the network, else from the current user's own copy; with nobody
// logged in on the phone, from no copy at all.
async function villagesFromNetworkFirst(request) {
  const session = await currentSession();
  const cache = session && await caches.open(dataCacheName(session.user.id));
  try {
    const response = await fetch(request);
    // Kept only if the list is the phone's user's (the server's session may be another's) and the
    // phone's user is still the same once the answer is there (a logout meanwhile).
    if (cache && response.ok) {
      const owner = await response.clone().json().then((data) => data.user_id, () => null);
      if (owner === session.user.id && (await currentSession())?.user.id === session.user.id) {
        await cache.put(request, response.clone());
      }
    }
    return response;
  } catch (error) {
    const cached = cache && await cache.match(request);
    if (cached) return cached;
    throw error;
  }
}

// A page of the site completes a pending logout first: whoever opens it after the logout never
// lands in the account of the person who logged out. The field app's pages come from the cache
// at once (they show the login prompt while a logout waits, and complete it themselves).
async function navigate(request) {
  if (await logoutPending()) await finishPendingLogout();
  return fetch(request);
}

// The site's own logout button (a form) without signal: the phone is locked at once, and the
// field app (cached) shows the login prompt until the server hears of it.
async function logoutForm(request) {
  try {
    return await fetch(request);
  } catch (error) {
    await lockForLogout();
    return Response.redirect("/app/", 303);
  }
}

self.addEventListener("fetch", (event) => {
  const { request } = event;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method === "POST" && request.mode === "navigate" && url.pathname === "/logout") {
    event.respondWith(logoutForm(request));
  } else if (request.method !== "GET") {
    return;
  } else if (PRECACHED.has(url.pathname)) {
    event.respondWith(fromCacheFirst(request, url.pathname));
  } else if (request.mode === "navigate") {
    event.respondWith(navigate(request));
  } else if (url.pathname === "/api/v1/villages") {
    event.respondWith(villagesFromNetworkFirst(request));
  }
});

async function tellPages(message) {
  for (const client of await self.clients.matchAll()) client.postMessage(message);
}

// A send in the background shows on the open pages as it goes: each batch, each photo, the end.
async function syncFromWorker() {
  const session = await currentSession();
  if (!session) return;
  const db = await openUserDb(session.user.id);
  let result = null;
  try {
    result = await syncOutbox(db, { onProgress: (progress) => tellPages({ type: "progress", ...progress }) });
  } finally {
    db.close();
    await tellPages({ type: "done", result });
    await tellPages("outbox-changed");
  }
}

self.addEventListener("sync", (event) => {
  if (event.tag === "outbox") event.waitUntil(syncFromWorker());
});

self.addEventListener("message", (event) => {
  if (event.data === "sync") event.waitUntil(syncFromWorker());
});
