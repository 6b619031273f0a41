// Who is using the phone: asked from the server when online, remembered for offline use; and
// how the phone forgets a user at logout, with or without signal. Works in pages and in the
// service worker (no DOM here).
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

export async function loadSession() {
  // Nothing is asked of the server, nor shown, before a logout made offline is completed there.
  if (!(await finishPendingLogout())) return { session: null, locked: true };
  try {
    const response = await fetch("/api/v1/session", SAME_ORIGIN);
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
      let response = await fetch("/api/v1/session", SAME_ORIGIN);
      if (response.ok && !response.redirected) {
        const { csrf_token: token } = await response.json();
        await fetch("/logout", { method: "POST", credentials: "same-origin",
                                 body: new URLSearchParams({ csrf_token: token }) });
        response = await fetch("/api/v1/session", SAME_ORIGIN); // did the server hear it?
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

// Ask the browser not to clear our storage when space runs low (drafts and queue live there).
export async function askPersistence() {
  if (!navigator.storage || !navigator.storage.persist) return true;
  return (await navigator.storage.persisted()) || navigator.storage.persist();
}

export function loginUrl() {
  return `/login?next=${encodeURIComponent(location.pathname + location.search)}`;
}
