// The outbox: sends queued surveys through the sync API, up to BATCH in one request, then their photos.
// Runs in pages and in the service worker (Background Sync); a lock keeps runs from overlapping,
// and the server is idempotent on the survey and photo UUIDs, so a retry never makes a duplicate.
// A shared phone: a database holds one user's work, and it is sent only while the server's
// session is that user's (the server records who made a survey from its session), never while
// a logout made offline waits to reach the server. Refusals are told apart by their `code`.

import { get, getAll, logoutPending, ownerOf, put } from "./store.js";

const BATCH = 10; // surveys per request: one round trip instead of ten on a slow line
const BASE_DELAY = 2000;
const MAX_DELAY = 5 * 60 * 1000;

export function backoff(attempts) {
  return Math.min(MAX_DELAY, BASE_DELAY * 2 ** Math.max(0, attempts - 1));
}

export function isWaiting(item) {
  return item.state === "queued";
}

export async function counts(db) {
  const surveys = await getAll(db, "surveys");
  const photos = await getAll(db, "photos");
  return {
    surveys: surveys.filter(isWaiting).length,
    photos: photos.filter((p) => p.state === "queued").length,
  };
}

class NeedLogin extends Error {}
class Unreachable extends Error {}

// The server's session is another user's (someone else logged in on this phone meanwhile).
class OtherUser extends Error {
  constructor(username) {
    super(username);
    this.username = username;
  }
}

// Items made before they recorded their maker were made in their owner's app.
const madeBy = (item, owner) => item.made_by ?? owner;

async function freshToken(owner) {
  // The CSRF token of a page opened long ago (or offline) has expired: always ask first; and
  // the cookies may be someone else's by now.
  let response;
  try {
    response = await fetch("/api/v1/session", { credentials: "same-origin", cache: "no-store" });
  } catch (error) {
    throw new Unreachable(String(error));
  }
  const data = await response.json().catch(() => ({}));
  if (response.status === 401 || response.redirected || data.code === "login_required") throw new NeedLogin();
  if (!response.ok) throw new Unreachable(`session ${response.status}`);
  if (data.user?.id !== owner) throw new OtherUser(data.user?.username);
  return data.csrf_token;
}

function payloadOf(item) {
  const body = { form_version: item.form_version, year: item.year, status: "submitted", answers: item.answers };
  if (item.household_id) body.household_id = item.household_id;
  else body.village_id = item.village_id;
  return body;
}

async function retryLater(db, item, reason) {
  item.attempts = (item.attempts || 0) + 1;
  item.next_attempt_at = Date.now() + backoff(item.attempts);
  item.last_error = { kind: "network", message: reason };
  await put(db, "surveys", item);
}

// What the server answered for one survey (alone or in a batch): the item's new state.
async function applyAnswer(db, item, status, data) {
  if (status === 200 || status === 201) {
    Object.assign(item, { state: "sent", sent_at: Date.now(), last_error: null, attempts: 0,
                          household_id: data.household_id, server: serverState(data) });
    await put(db, "surveys", item);
    return "sent";
  }
  // 409, 422 and other refusals: the survey stays on the phone until the surveyor fixes it.
  Object.assign(item, { state: "failed", last_error: { kind: "refused", status,
                        message: data.error, errors: data.errors || {}, warnings: data.warnings || {} } });
  await put(db, "surveys", item);
  return "refused";
}

// Send a batch of surveys; "token" if the CSRF token must be renewed first, "offline" if the
// network or the server failed (every item is retried later), else the count of each outcome.
async function sendBatch(db, items, token) {
  let response;
  try {
    response = await fetch("/api/v1/surveys/batch", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token },
      body: JSON.stringify({ surveys: items.map((item) => ({ uuid: item.uuid, ...payloadOf(item) })) }),
    });
  } catch (error) {
    for (const item of items) await retryLater(db, item, String(error));
    return "offline";
  }
  const data = await response.json().catch(() => ({}));
  if (response.status === 401 || data.code === "login_required") throw new NeedLogin();
  if (data.code === "csrf_expired") return "token";
  if (response.status !== 200 || !Array.isArray(data.results) || data.results.length !== items.length) {
    for (const item of items) await retryLater(db, item, data.error || `HTTP ${response.status}`);
    return "offline";
  }
  const outcome = { sent: 0, refused: 0 };
  for (const [index, item] of items.entries()) {
    const answer = data.results[index];
    outcome[await applyAnswer(db, item, answer.status, answer.body || {})] += 1;
  }
  return outcome;
}

function serverState(data) {
  return { status: data.status, revision: data.revision, reviewer_comment: data.reviewer_comment };
}

async function sendPhoto(db, photo, token) {
  let response;
  try {
    response = await fetch(`/api/v1/surveys/${photo.survey_uuid}/photos/${photo.photo_uuid}?kind=${photo.kind}`, {
      method: "PUT", credentials: "same-origin",
      headers: { "Content-Type": photo.blob.type || "image/jpeg", "X-CSRFToken": token }, body: photo.blob,
    });
  } catch (error) {
    return "offline";
  }
  if (response.ok) {
    Object.assign(photo, { state: "sent", blob: null, last_error: null });
  } else if (response.status >= 500) {
    return "offline";
  } else {
    const data = await response.json().catch(() => ({}));
    if (response.status === 401 || data.code === "login_required") throw new NeedLogin();
    if (data.code === "csrf_expired") return "token";
    Object.assign(photo, { state: "failed", last_error: { status: response.status, message: data.error } });
  }
  await put(db, "photos", photo);
  return "done";
}

async function run(db, { force = false, onProgress = () => {} } = {}) {
  const result = { sent: 0, refused: 0, offline: false, needLogin: false, logoutPending: false, otherUser: null };
  if (await logoutPending()) return { ...result, logoutPending: true };
  const owner = ownerOf(db);
  const now = Date.now();
  const due = (await getAll(db, "surveys"))
    .filter((item) => isWaiting(item) && madeBy(item, owner) === owner)
    .filter((item) => force || !item.next_attempt_at || item.next_attempt_at <= now)
    .sort((a, b) => (a.queued_at || 0) - (b.queued_at || 0));
  let token;
  try {
    token = await freshToken(owner);
    for (let start = 0; start < due.length; start += BATCH) {
      let batch = due.slice(start, start + BATCH);
      onProgress(start + 1, start + batch.length, due.length);
      let outcome = await sendBatch(db, batch, token);
      if (outcome === "token") {
        token = await freshToken(owner);
        batch = await Promise.all(batch.map((item) => get(db, "surveys", item.uuid)));
        outcome = await sendBatch(db, batch, token);
      }
      if (outcome === "offline" || outcome === "token") return { ...result, offline: true };
      result.sent += outcome.sent;
      result.refused += outcome.refused;
    }
    const sentSurveys = new Set((await getAll(db, "surveys"))
      .filter((s) => s.state === "sent" && madeBy(s, owner) === owner).map((s) => s.uuid));
    for (const photo of await getAll(db, "photos")) {
      if (photo.state !== "queued" || !sentSurveys.has(photo.survey_uuid)) continue;
      let outcome = await sendPhoto(db, photo, token);
      if (outcome === "token") {
        token = await freshToken(owner);
        outcome = await sendPhoto(db, photo, token);
      }
      if (outcome === "offline" || outcome === "token") return { ...result, offline: true };
    }
  } catch (error) {
    if (error instanceof NeedLogin) return { ...result, needLogin: true };
    if (error instanceof OtherUser) return { ...result, otherUser: error.username ?? "?" };
    if (error instanceof Unreachable) return { ...result, offline: true };
    throw error;
  }
  await put(db, "kv", Date.now(), "last_sync");
  return result;
}

let running = null;

// One run at a time per phone: the page's timer, the `online` event and Background Sync may
// all fire together.
export function syncOutbox(db, options) {
  if (typeof navigator !== "undefined" && navigator.locks) {
    return navigator.locks.request("vs-outbox", () => run(db, options));
  }
  if (!running) running = run(db, options).finally(() => { running = null; });
  return running;
}
