// IndexedDB storage of the field app: one database per user, so a shared phone never shows
// one surveyor's work to another; and a small "meta" database naming the current user.
// Works in pages and in the service worker (no DOM here).

const USER_DB_VERSION = 1;

function promised(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function open(name, version, upgrade) {
  const request = indexedDB.open(name, version);
  request.onupgradeneeded = () => upgrade(request.result, request.transaction);
  return promised(request);
}

export function openMeta() {
  return open("vs-meta", 1, (db) => db.createObjectStore("kv"));
}

export function openUserDb(userId) {
  return open(`vs-user-${userId}`, USER_DB_VERSION, (db) => {
    // surveys: {uuid, state: draft|queued|sent|failed, status, form_version, year, village_id,
    //           household_id, answers, updated_at, queued_at, attempts, next_attempt_at, last_error, server}
    if (!db.objectStoreNames.contains("surveys")) db.createObjectStore("surveys", { keyPath: "uuid" });
    // photos: {photo_uuid, survey_uuid, kind, blob, state: queued|sent|failed, last_error}
    if (!db.objectStoreNames.contains("photos")) {
      db.createObjectStore("photos", { keyPath: "photo_uuid" }).createIndex("survey", "survey_uuid");
    }
    if (!db.objectStoreNames.contains("kv")) db.createObjectStore("kv");
  });
}

function store(db, name, mode = "readonly") {
  return db.transaction(name, mode).objectStore(name);
}

export const get = (db, name, key) => promised(store(db, name).get(key));
export const getAll = (db, name) => promised(store(db, name).getAll());
export const del = (db, name, key) => promised(store(db, name, "readwrite").delete(key));
export function put(db, name, value, key) {
  const s = store(db, name, "readwrite");
  return promised(key === undefined ? s.put(value) : s.put(value, key));
}
export const photosOf = (db, surveyUuid) =>
  promised(store(db, "photos").index("survey").getAll(surveyUuid));

// The user whose work this phone shows (set on every online visit, kept when offline), and the
// flag of a logout made without signal that the server has not heard of yet.
export async function getMeta(key) {
  const meta = await openMeta();
  try {
    return (await get(meta, "kv", key)) ?? null;
  } finally {
    meta.close();
  }
}

export async function setMeta(key, value) {
  const meta = await openMeta();
  try {
    await put(meta, "kv", value, key);
  } finally {
    meta.close();
  }
}

export const currentSession = () => getMeta("session");
export const rememberSession = (session) => setMeta("session", session);
export const logoutPending = async () => Boolean(await getMeta("logout_pending"));

// Whose work a user database holds: its name says it (`vs-user-<id>`).
export function ownerOf(db) {
  return Number(db.name.slice("vs-user-".length));
}

// The service worker's copy of a user's village list (the names of every household head in
// the user's area): one cache per user, deleted at logout.
export const DATA_CACHE_PREFIX = "vs-data-";
export const dataCacheName = (userId) => `${DATA_CACHE_PREFIX}${userId}`;
