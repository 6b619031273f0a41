// The service worker of village_survey (version {{ version }}): it keeps the field app and the
// survey form on the phone in a versioned cache, and sends the outbox by Background Sync.
// Drafts and the queue live in IndexedDB, not in this cache, so an update never loses them.
import { syncOutbox } from "/static/js/app/outbox.js";
import { currentSession, openUserDb } from "/static/js/app/store.js";

const VERSION = "{{ version }}";
const CACHE = `vs-shell-${VERSION}`;
const PRECACHE = {{ precache | tojson }};
const PRECACHED = new Set(PRECACHE);

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
      if (key.startsWith("vs-") && key !== CACHE && key !== "vs-data") await caches.delete(key);
    }
    await self.clients.claim();
  })());
});

async function fromCacheFirst(request, path) {
  const cached = await caches.match(path, { cacheName: CACHE });
  return cached || fetch(request);
}

async function fromNetworkFirst(request) {
  const cache = await caches.open("vs-data");
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put(request, response.clone());
    return response;
  } catch (error) {
    const cached = await cache.match(request);
    if (cached) return cached;
    throw error;
  }
}

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname === "/api/v1/villages") {
    event.respondWith(fromNetworkFirst(event.request));
  } else if (PRECACHED.has(url.pathname)) {
    event.respondWith(fromCacheFirst(event.request, url.pathname));
  }
});

async function syncFromWorker() {
  const session = await currentSession();
  if (!session) return;
  const db = await openUserDb(session.user.id);
  try {
    await syncOutbox(db);
  } finally {
    db.close();
  }
  for (const client of await self.clients.matchAll()) client.postMessage("outbox-changed");
}

self.addEventListener("sync", (event) => {
  if (event.tag === "outbox") event.waitUntil(syncFromWorker());
});

self.addEventListener("message", (event) => {
  if (event.data === "sync") event.waitUntil(syncFromWorker());
});
