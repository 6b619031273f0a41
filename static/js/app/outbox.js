// The outbox: first learns what the server holds of this user's surveys (the pull: returned,
// approved), then sends queued surveys through the sync API, up to BATCH in one request, then
// their photos. Runs in pages and in the service worker (Background Sync); a lock keeps runs from
// overlapping, and the server is idempotent on the survey and photo UUIDs, so a retry never makes
// a duplicate. A shared phone: a database holds one user's work, and it is sent only while the
// server's session is that user's (the server records who made a survey from its session),
// never while a logout made offline waits to reach the server. Refusals are told apart by their
// `code`.
//
// A survey on the phone is in one of these states:
//   draft     being filled in (or a returned survey opened for a fix); not sent
//   queued    waiting to be sent
//   sent      the server has it; `server` says what became of it (submitted, returned, approved)
//   failed    refused by the server (answers to fix, a household that has a survey already, ...)
//   held      a change made before the reviewer returned the survey: not sent until the surveyor
//             has read the comment and confirmed
//   conflict  a change the server can no longer take (the survey was approved meanwhile): kept
//             on the phone to read or discard, never sent over the approved survey
// `base_revision` is the server revision the phone's answers start from, sent with them: the
// server refuses a change made before a return (409 with its state) even if the pull missed it.

import { del, get, getAll, logoutPending, ownerOf, photosOf, put } from "./store.js";
import { timedFetch, uploadTimeout } from "./session.js";

const BATCH = 10; // surveys per request: one round trip instead of ten on a slow line
const BASE_DELAY = 2000;
const MAX_DELAY = 5 * 60 * 1000;
const SAME_ORIGIN = { credentials: "same-origin", cache: "no-store" };

export function backoff(attempts) {
  return Math.min(MAX_DELAY, BASE_DELAY * 2 ** Math.max(0, attempts - 1));
}

export function isWaiting(item) {
  return item.state === "queued";
}

// A survey the server has and a reviewer returned, with nothing of the surveyor's pending.
export function toFix(item) {
  return item.state === "sent" && item.server?.status === "returned";
}

// Surveys not on the server as the phone has them: what a logout or a cleared browser would put at risk.
export const UNSENT_STATES = ["draft", "queued", "failed", "held", "conflict"];

export async function counts(db) {
  const surveys = await getAll(db, "surveys");
  const photos = await getAll(db, "photos");
  const inState = (state) => surveys.filter((item) => item.state === state).length;
  return {
    surveys: inState("queued"),
    drafts: inState("draft"),
    refused: inState("failed"),
    held: inState("held"),
    conflicts: inState("conflict"),
    toFix: surveys.filter(toFix).length,
    unsent: surveys.filter((item) => UNSENT_STATES.includes(item.state)).length,
    photos: photos.filter((p) => p.state === "queued").length,
    refusedPhotos: photos.filter((p) => p.state === "failed").length,
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
  let data;
  try {
    response = await timedFetch("/api/v1/session", SAME_ORIGIN);
    data = await response.json().catch(() => ({}));
  } catch (error) {
    throw new Unreachable(String(error));
  }
  if (response.status === 401 || response.redirected || data.code === "login_required") throw new NeedLogin();
  if (!response.ok) throw new Unreachable(`session ${response.status}`);
  if (data.user?.id !== owner) throw new OtherUser(data.user?.username);
  return data.csrf_token;
}

function payloadOf(item) {
  const body = { form_version: item.form_version, year: item.year, status: "submitted", answers: item.answers,
                 base_revision: item.base_revision ?? 0 };
  if (item.started_at) body.started_at = new Date(item.started_at).toISOString();
  if (item.household_id) body.household_id = item.household_id;
  else body.village_id = item.village_id;
  return body;
}

function serverState(data) {
  return { status: data.status, revision: data.revision, reviewer_comment: data.reviewer_comment,
           updated_at: data.updated_at, answers: data.answers };
}

function canonical(value) {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.keys(value).sort().map((key) => [key, canonical(value[key])]));
  }
  return value;
}

export function sameAnswers(a, b) {
  return JSON.stringify(canonical(a || {})) === JSON.stringify(canonical(b || {}));
}

// The phone's changes (from `base`, what the server had when they were made) applied to what the
// server holds now: a fix of a returned survey starts from the server's answers and keeps the
// surveyor's own changes, a removed answer included.
export function mergeAnswers(base, mine, theirs) {
  if (!theirs) return { ...mine };
  if (!base) return { ...theirs, ...mine };
  const merged = { ...theirs };
  for (const key of new Set([...Object.keys(base), ...Object.keys(mine || {})])) {
    if (JSON.stringify(base[key]) === JSON.stringify(mine?.[key])) continue;
    if (mine && key in mine) merged[key] = mine[key];
    else delete merged[key];
  }
  return merged;
}

// The state of an item that holds a change of the surveyor's, once the server's state is known.
function pendingState(item) {
  const server = item.server;
  if (!server || item.state === "sent") return item.state;
  if (server.status === "approved") return sameAnswers(item.answers, server.answers) ? "sent" : "conflict";
  if (server.status === "returned" && (item.base_revision ?? 0) < server.revision) {
    return item.state === "draft" ? "draft" : "held"; // a draft is held once it is submitted
  }
  if (server.status === "returned" && item.state === "held") return "queued"; // seen meanwhile
  if (server.status === "draft" && item.state === "failed") return "queued"; // withdrawn: the way is free
  if (server.status === "submitted" && item.state === "held") return "queued"; // the server will say
  if (item.state === "conflict") return "queued"; // no longer approved (reopened): the server will say
  return item.state;
}

// What the server says of a survey (pulled, or with a refusal): the phone's copy follows it when
// nothing of the surveyor's is pending, else the pending change is held or marked as a conflict.
// A returned survey the phone does not hold is kept, to be fixed here. True if anything changed.
export async function applyServerState(db, state) {
  const item = await get(db, "surveys", state.uuid);
  if (!item) {
    if (state.status !== "returned") return false;
    await put(db, "surveys", {
      uuid: state.uuid, state: "sent", status: state.status, year: state.year, form_version: state.form_version,
      village_id: state.village_id, household_id: state.household_id, answers: state.answers,
      base_answers: state.answers, base_revision: state.revision, server: serverState(state), pulled: true,
      created_at: Date.now(), updated_at: Date.now(),
    });
    return true;
  }
  const known = item.server;
  if (known && (known.revision > state.revision
                || (known.revision === state.revision && known.status === state.status))) return false;
  item.server = serverState(state);
  item.village_id = item.village_id ?? state.village_id;
  item.household_id = item.household_id ?? state.household_id;
  if (item.state === "sent") {
    Object.assign(item, { status: state.status, answers: state.answers, base_answers: state.answers,
                          base_revision: state.revision });
  } else {
    item.state = pendingState(item);
    if (item.state === "sent") Object.assign(item, { status: state.status, base_revision: state.revision,
                                                     base_answers: state.answers, last_error: null });
  }
  item.updated_at = Date.now();
  await put(db, "surveys", item);
  return true;
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
    Object.assign(item, { state: "sent", status: data.status, sent_at: Date.now(), last_error: null, attempts: 0,
                          household_id: data.household_id, village_id: data.village_id ?? item.village_id,
                          server: serverState(data), base_revision: data.revision, base_answers: data.answers });
    await put(db, "surveys", item);
    return "sent";
  }
  // 409, 422 and other refusals: the survey stays on the phone until the surveyor decides.
  item.last_error = { kind: "refused", status, message: data.error, errors: data.errors || {},
                      warnings: data.warnings || {} };
  item.state = "failed";
  if (status === 409 && data.state) {
    item.server = serverState(data.state);
    item.state = pendingState(item);
    if (item.state === "sent") item.last_error = null;
  } else if (status === 409 && data.existing_survey) {
    // The household has a survey this year already: the surveyor may open that one instead.
    item.last_error.kind = "duplicate";
    item.last_error.existing = data.existing_survey;
  }
  await put(db, "surveys", item);
  return "refused";
}

// Send a batch of surveys; "token" if the CSRF token must be renewed first, "offline" if the
// network or the server failed (every item is retried later), else the count of each outcome.
async function sendBatch(db, items, token) {
  let response;
  let data;
  try {
    response = await timedFetch("/api/v1/surveys/batch", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token },
      body: JSON.stringify({ surveys: items.map((item) => ({ uuid: item.uuid, ...payloadOf(item) })) }),
    });
    data = await response.json().catch(() => ({}));
  } catch (error) {
    for (const item of items) await retryLater(db, item, String(error));
    return "offline";
  }
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

async function sendPhoto(db, photo, token) {
  let response;
  let data = {};
  try {
    response = await timedFetch(`/api/v1/surveys/${photo.survey_uuid}/photos/${photo.photo_uuid}?kind=${photo.kind}`, {
      method: "PUT", credentials: "same-origin",
      headers: { "Content-Type": photo.blob.type || "image/jpeg", "X-CSRFToken": token }, body: photo.blob,
    }, uploadTimeout(photo.blob.size));
    if (!response.ok) data = await response.json().catch(() => ({}));
  } catch (error) {
    return "offline";
  }
  if (response.ok) {
    Object.assign(photo, { state: "sent", blob: null, last_error: null });
  } else if (response.status >= 500) {
    return "offline";
  } else {
    if (response.status === 401 || data.code === "login_required") throw new NeedLogin();
    if (data.code === "csrf_expired") return "token";
    // Refused (the survey was approved, not an image, too large): the photo stays on the phone,
    // listed with the reason, until the surveyor deletes it.
    Object.assign(photo, { state: "failed", last_error: { status: response.status, code: data.code,
                                                          message: data.error || `HTTP ${response.status}` } });
  }
  await put(db, "photos", photo);
  return "done";
}

// Learn what became of this user's surveys since the last pull, page by page.
async function pull(db) {
  let since = await get(db, "kv", "pulled_since");
  let cursor = null;
  let serverTime = null;
  let changed = 0;
  do {
    const params = new URLSearchParams();
    if (since) params.set("updated_since", since);
    if (cursor) params.set("cursor", cursor);
    let response;
    let data;
    try {
      response = await timedFetch(`/api/v1/surveys?${params}`, SAME_ORIGIN);
      data = await response.json().catch(() => null);
    } catch (error) {
      throw new Unreachable(String(error));
    }
    if (response.status === 401 || data?.code === "login_required") throw new NeedLogin();
    if (response.status === 400 && since) {
      since = null; // a time the server does not take (an old app's): ask for everything once
      cursor = null;
      continue;
    }
    if (!response.ok || !data || !Array.isArray(data.surveys)) throw new Unreachable(`pull ${response.status}`);
    for (const state of data.surveys) if (await applyServerState(db, state)) changed += 1;
    cursor = data.next_cursor;
    serverTime = data.server_time;
  } while (cursor);
  await put(db, "kv", serverTime, "pulled_since");
  return changed;
}

// A returned survey of a colleague, kept here to be fixed, leaves the pull once its maker submits
// it again: ask the server about each such survey the phone still shows as returned.
async function recheckPulled(db) {
  for (const item of await getAll(db, "surveys")) {
    if (!item.pulled || !toFix(item)) continue;
    let response;
    let data;
    try {
      response = await timedFetch(`/api/v1/surveys/${item.uuid}`, SAME_ORIGIN);
      data = await response.json().catch(() => null);
    } catch (error) {
      throw new Unreachable(String(error));
    }
    if (response.status === 404) {
      for (const photo of await photosOf(db, item.uuid)) await del(db, "photos", photo.photo_uuid);
      await del(db, "surveys", item.uuid);
    } else if (response.ok && data) {
      await applyServerState(db, data);
    }
  }
}

async function run(db, { force = false, recheck = false, onProgress = () => {} } = {}) {
  const result = { sent: 0, refused: 0, pulled: 0, photos: 0, offline: false, needLogin: false,
                   logoutPending: false, otherUser: null };
  if (await logoutPending()) return { ...result, logoutPending: true };
  const owner = ownerOf(db);
  let token;
  try {
    token = await freshToken(owner);
    onProgress({ kind: "pull" });
    result.pulled = await pull(db);
    if (recheck) await recheckPulled(db);
    const now = Date.now();
    const due = [];
    for (const item of await getAll(db, "surveys")) {
      if (!isWaiting(item) || madeBy(item, owner) !== owner) continue;
      // A change made before a return waits until the surveyor has read the comment.
      const state = pendingState(item);
      if (state !== "queued") {
        await put(db, "surveys", { ...item, state });
        continue;
      }
      if (force || !item.next_attempt_at || item.next_attempt_at <= now) due.push(item);
    }
    due.sort((a, b) => (a.queued_at || 0) - (b.queued_at || 0));
    for (let start = 0; start < due.length; start += BATCH) {
      let batch = due.slice(start, start + BATCH);
      onProgress({ kind: "surveys", first: start + 1, last: start + batch.length, total: due.length });
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
    const photos = (await getAll(db, "photos"))
      .filter((photo) => photo.state === "queued" && photo.blob && sentSurveys.has(photo.survey_uuid));
    for (const [index, photo] of photos.entries()) {
      onProgress({ kind: "photos", first: index + 1, last: index + 1, total: photos.length });
      let outcome = await sendPhoto(db, photo, token);
      if (outcome === "token") {
        token = await freshToken(owner);
        outcome = await sendPhoto(db, photo, token);
      }
      if (outcome === "offline" || outcome === "token") return { ...result, offline: true };
      result.photos += 1;
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

// --- what the surveyor decides about a survey the server would not take as it is ---------------

async function update(db, uuid, change) {
  const item = await get(db, "surveys", uuid);
  if (!item) return null;
  Object.assign(item, change(item), { updated_at: Date.now() });
  await put(db, "surveys", item);
  return item;
}

const freshQueue = { state: "queued", attempts: 0, next_attempt_at: null, last_error: null };

// A returned survey (or a held change) opened to fix it: the phone's changes on the server's
// answers, as a draft based on the return (the surveyor sees the comment on the way).
export function openForEditing(db, uuid) {
  return update(db, uuid, (item) => ({
    state: "draft", status: "draft", last_error: null,
    answers: mergeAnswers(item.base_answers, item.answers, item.server?.answers),
    base_revision: item.server?.revision ?? item.base_revision, base_answers: item.server?.answers ?? item.base_answers,
  }));
}

// A held change sent as it is, now that the surveyor has read the reviewer's comment.
export function confirmAfterReturn(db, uuid) {
  return update(db, uuid, (item) => ({
    ...freshQueue, queued_at: Date.now(),
    answers: mergeAnswers(item.base_answers, item.answers, item.server?.answers),
    base_revision: item.server?.revision ?? item.base_revision, base_answers: item.server?.answers ?? item.base_answers,
  }));
}

// Drop the phone's change: the phone shows what the server holds again.
export function discardChange(db, uuid) {
  return update(db, uuid, (item) => (item.server ? {
    state: "sent", status: item.server.status, answers: item.server.answers, base_answers: item.server.answers,
    base_revision: item.server.revision, last_error: null,
  } : { state: "draft", last_error: null }));
}

// Take back one's own submission that no reviewer has decided on (the server makes it a draft
// again), then queue the phone's newer change. {ok, message}.
export async function withdrawAndResend(db, uuid) {
  const owner = ownerOf(db);
  try {
    const token = await freshToken(owner);
    const response = await timedFetch(`/api/v1/surveys/${uuid}/withdraw`, {
      method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": token },
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      if (data.status === 409) await pull(db).catch(() => 0); // decided meanwhile: show that instead
      return { ok: false, message: data.error || `HTTP ${response.status}` };
    }
    await update(db, uuid, () => ({ ...freshQueue, queued_at: Date.now(), server: serverState(data),
                                    base_revision: data.revision }));
    return { ok: true };
  } catch (error) {
    if (error instanceof NeedLogin) return { ok: false, needLogin: true };
    return { ok: false, offline: error instanceof Unreachable || error.name === "AbortError" || error instanceof TypeError };
  }
}
