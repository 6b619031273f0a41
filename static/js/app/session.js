// Who is using the phone: asked from the server when online, remembered for offline use; and
// how the phone forgets a user at logout, with or without signal. Every request to the server
// goes through `timedFetch`: it gives up after a while (a frozen server must not leave the app
// waiting for minutes) and tells whether the server answered. Works in pages and in the service
// worker (no DOM here).
import {
  DATA_CACHE_PREFIX,
  currentSession,
  dataCacheName,
  del,
  logoutPending,
  openUserDb,
  rememberSession,
  setMeta,
} from "./store.js";

const SAME_ORIGIN = { credentials: "same-origin", cache: "no-store" };

// How long a request may take before the app gives up on it (30 s; tests make it shorter).
let requestTimeout = 30000;
export function setRequestTimeout(ms) {
  if (Number.isFinite(ms) && ms > 0) requestTimeout = ms;
}
// An upload gets more time by its size: a photo at 10 KB/s (a weak 2G line) is not cut off.
export const uploadTimeout = (bytes) => requestTimeout + (bytes || 0) / 10;

// Whether the server answered the latest request: null (not asked yet), true or false; the
// page's header shows it rather than the browser's guess (navigator.onLine is true on a dead line).
let reachable = null;
const reachabilityListeners = new Set();
export const serverReachable = () => reachable;
export function onReachability(listener) {
  reachabilityListeners.add(listener);
}
// Also told by the service worker's messages: it answered the worker, or did not.
export function setReachable(value) {
  if (reachable === value) return;
  reachable = value;
  for (const listener of reachabilityListeners) listener(value);
}

// fetch with a time limit (`timeout`, in ms, for a large upload) that covers the answer's body
// too: a request that hangs is aborted and throws like a lost connection. A gateway error (a proxy
// in front of a dead server) counts as no answer.
export async function timedFetch(url, options = {}, timeout = requestTimeout) {
  const controller = new AbortController();
  setTimeout(() => controller.abort(), timeout);
  try {
    const response = await fetch(url, { ...options, signal: controller.signal });
    setReachable(![502, 503, 504].includes(response.status));
    return response;
  } catch (error) {
    setReachable(false);
    throw error;
  }
}

export async function loadSession() {
  // Nothing is asked of the server, nor shown, before a logout made offline is completed there.
  if (!(await finishPendingLogout())) return { session: null, locked: true };
  try {
    const response = await timedFetch("/api/v1/session", SAME_ORIGIN);
    if (response.status === 401 || response.redirected) {
      return { session: await currentSession(), needLogin: true };
    }
    if (response.ok) {
      const data = await response.json();
      const session = { user: data.user, scope: data.scope, form_version: data.form_version,
                        permissions: data.permissions || null };
      await deleteDataCaches((name) => name !== dataCacheName(session.user.id));
      await rememberSession(session);
      return { session, online: true, csrfToken: data.csrf_token };
    }
  } catch (error) {
    // offline: fall through to the remembered session
  }
  return { session: await currentSession(), offline: true };
}

// Whether the user may start surveys (a viewer may not); a session remembered before the server
// said so keeps the old behaviour, and the server refuses a viewer's survey anyway.
export function maySurvey(session) {
  return session?.permissions?.survey !== false;
}

async function deleteDataCaches(which = () => true) {
  if (typeof caches === "undefined") return;
  for (const name of await caches.keys()) {
    // "vs-data" alone is the cache that all users shared before it was one per user.
    if ((name.startsWith(DATA_CACHE_PREFIX) || name === "vs-data") && which(name)) await caches.delete(name);
  }
}

// The phone forgets who used it: no current user (so the worker answers from no data cache),
// no village list with its household heads. The user's drafts and queue stay in their own
// database, for them only.
export async function forgetUsers() {
  const session = await currentSession();
  await rememberSession(null);
  if (session) {
    const db = await openUserDb(session.user.id);
    try {
      await del(db, "kv", "villages");
    } finally {
      db.close();
    }
  }
  await deleteDataCaches();
}

// A logout, whether or not the server can be reached: the phone is locked at once, and the
// server hears of it first thing at the next connection (finishPendingLogout).
export async function lockForLogout() {
  await setMeta("logout_pending", true);
  await forgetUsers();
}

function oneAtATime(name, task) {
  return typeof navigator !== "undefined" && navigator.locks ? navigator.locks.request(name, task) : task();
}

// Ends on the server the session of a logout made on the phone; true once nobody is logged in
// there (or no logout was waiting), false while there is no connection.
export function finishPendingLogout() {
  return oneAtATime("vs-logout", async () => {
    if (!(await logoutPending())) return true;
    try {
      let response = await timedFetch("/api/v1/session", SAME_ORIGIN);
      if (response.ok && !response.redirected) {
        const { csrf_token: token } = await response.json();
        await timedFetch("/logout", { method: "POST", credentials: "same-origin",
                                      body: new URLSearchParams({ csrf_token: token }) });
        response = await timedFetch("/api/v1/session", SAME_ORIGIN); // did the server hear it?
      }
      if (response.status !== 401 && !response.redirected) return false;
    } catch (error) {
      return false; // still no signal
    }
    await setMeta("logout_pending", false);
    return true;
  });
}

export function registerWorker() {
  if (!("serviceWorker" in navigator)) return Promise.resolve(null);
  return navigator.serviceWorker.register("/sw.js", { scope: "/", type: "module" }).catch(() => null);
}

// Ask the browser not to clear our storage when space runs low (drafts and queue live there);
// false when it refuses (or cannot say: then the data may be cleared all the same).
export async function askPersistence() {
  if (!navigator.storage || !navigator.storage.persist) return false;
  try {
    return (await navigator.storage.persisted()) || (await navigator.storage.persist());
  } catch (error) {
    return false;
  }
}

export function loginUrl() {
  return `/login?next=${encodeURIComponent(location.pathname + location.search)}`;
}
