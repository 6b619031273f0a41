// Who is using the phone: asked from the server when online, remembered for offline use.
import { currentSession, openMeta, put, rememberSession } from "./store.js";

export async function loadSession() {
  try {
    const response = await fetch("/api/v1/session", { credentials: "same-origin", cache: "no-store" });
    if (response.status === 401 || response.redirected) {
      return { session: await currentSession(), needLogin: true };
    }
    if (response.ok) {
      const data = await response.json();
      const session = { user: data.user, scope: data.scope, form_version: data.form_version };
      await rememberSession(session);
      return { session, online: true, csrfToken: data.csrf_token };
    }
  } catch (error) {
    // offline: fall through to the remembered session
  }
  return { session: await currentSession(), offline: true };
}

export async function forgetSession() {
  const meta = await openMeta();
  try {
    await put(meta, "kv", null, "session");
  } finally {
    meta.close();
  }
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
