// The field app's start page: the outbox (count, last sync, sync now, why an item failed),
// new surveys from the cached village list, the surveys kept on this phone, backup, logout.
// Nothing of a user is shown before the phone knows who uses it, nor after a logout.
import { counts, syncOutbox } from "./outbox.js";
import {
  askPersistence,
  finishPendingLogout,
  loadSession,
  lockForLogout,
  loginUrl,
  maySurvey,
  registerWorker,
} from "./session.js";
import { del, get, getAll, openUserDb, photosOf, put } from "./store.js";
import { formatTime, t } from "./i18n.js";

const $ = (selector) => document.querySelector(selector);
const SYNC_EVERY_MS = 30000;
let session = null;
let db = null;
let villages = [];
let locked = false;

// `about` names the message (data-about), so that a later sync can take back its own.
function showStatus(text, kind = "info", link = null, about = "") {
  const box = $("[data-status]");
  box.hidden = !text;
  box.className = `flash flash-${kind}`;
  box.textContent = text || "";
  box.dataset.about = about;
  if (link) {
    const a = document.createElement("a");
    a.href = link.href;
    a.textContent = ` ${link.text}`;
    box.append(a);
  }
}

function showNetwork() {
  $("[data-net]").textContent = navigator.onLine ? t("online") : t("offline");
}

async function refreshCounts() {
  if (!db) return 0;
  const { surveys, photos } = await counts(db);
  $("[data-outbox-count]").textContent = String(surveys);
  $("[data-photo-count]").textContent = photos ? t("photos_waiting", { n: photos }) : "";
  $("[data-last-sync]").textContent = formatTime(await get(db, "kv", "last_sync"));
  return surveys;
}

function villageName(id) {
  return villages.find((v) => v.id === id)?.name || "";
}

function itemLine(item) {
  const li = document.createElement("li");
  li.dataset.uuid = item.uuid;
  li.dataset.state = item.state;
  const link = document.createElement("a");
  link.href = `/app/survey#${item.uuid}`;
  link.textContent = `${item.answers.house_number || "?"} ${item.answers.head_name || ""}`;
  const info = document.createElement("small");
  const server = item.server?.status ? ` · ${t(`server_${item.server.status}`)}` : "";
  info.textContent = `${villageName(item.village_id)} · ${item.year} · ${t(`state_${item.state}`)}${server}`;
  li.append(link, info);
  if (item.state === "failed" || (item.state === "queued" && item.last_error)) {
    const why = document.createElement("small");
    why.className = item.state === "failed" ? "error" : "hint";
    why.dataset.reason = "";
    const retry = item.next_attempt_at ? ` (${t("retry_at", { time: formatTime(item.next_attempt_at) })})` : "";
    why.textContent = item.state === "failed" ? item.last_error.message : t("network_error") + retry;
    li.append(why);
  }
  if (item.server?.reviewer_comment) {
    const comment = document.createElement("small");
    comment.textContent = item.server.reviewer_comment;
    li.append(comment);
  }
  if (item.state === "draft") {
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "secondary";
    remove.textContent = t("delete");
    remove.addEventListener("click", async () => {
      if (!confirm(t("confirm_delete"))) return;
      for (const photo of await photosOf(db, item.uuid)) await del(db, "photos", photo.photo_uuid);
      await del(db, "surveys", item.uuid);
      render();
    });
    li.append(remove);
  }
  return li;
}

async function render() {
  if (!db) return;
  const items = (await getAll(db, "surveys")).sort((a, b) => (b.updated_at || 0) - (a.updated_at || 0));
  const list = $("[data-items]");
  list.replaceChildren(...items.map(itemLine));
  if (!items.length) {
    const empty = document.createElement("li");
    empty.className = "empty";
    empty.textContent = "—";
    list.append(empty);
  }
  await refreshCounts();
}

function fillVillages() {
  const select = $("#new-village");
  const options = villages.map((v) => new Option(`${v.name} (${v.township})`, v.id));
  select.replaceChildren(new Option(t("choose_village"), ""), ...options);
  if (!villages.length) showStatus(t("no_villages"), "warning");
}

function fillHouseholds() {
  const village = villages.find((v) => String(v.id) === $("#new-village").value);
  const households = village ? village.households : [];
  $("#new-household").replaceChildren(new Option(t("new_household"), ""),
    ...households.map((h) => new Option(`${h.house_number} ${h.head_name}`, h.id)));
}

async function loadVillages(online) {
  if (online) {
    try {
      const response = await fetch("/api/v1/villages", { credentials: "same-origin" });
      if (response.ok) {
        villages = (await response.json()).villages;
        await put(db, "kv", villages, "villages");
      }
    } catch (error) {
      // keep the copy on the phone
    }
  }
  if (!villages.length) villages = (await get(db, "kv", "villages")) || [];
  fillVillages();
}

async function newSurvey(event) {
  event.preventDefault();
  if (!maySurvey(session)) return;
  const villageId = Number($("#new-village").value);
  if (!villageId) return;
  const village = villages.find((v) => v.id === villageId);
  const householdId = Number($("#new-household").value) || null;
  const household = village.households.find((h) => h.id === householdId);
  const today = new Date();
  const item = {
    uuid: crypto.randomUUID(), state: "draft", status: "draft", year: today.getFullYear(), made_by: session.user.id,
    form_version: Number(document.body.dataset.formVersion || 0) || null,
    village_id: villageId, household_id: householdId, created_at: Date.now(), updated_at: Date.now(),
    answers: household ? { house_number: household.house_number, head_name: household.head_name } : {},
  };
  item.answers.survey_date = today.toISOString().slice(0, 10);
  await put(db, "surveys", item);
  location.href = `/app/survey#${item.uuid}`;
}

// The phone after a logout: the login prompt and nothing else, until someone logs in; a logout
// made offline is completed on the server by the next sync or connection.
function lockPage() {
  locked = true;
  db = null;
  session = null;
  villages = [];
  $("[data-app]").hidden = true;
  $("[data-user]").textContent = "";
  $("[data-items]").replaceChildren();
  $("#new-village").replaceChildren();
  $("#new-household").replaceChildren();
  showStatus(t("logged_out"), "warning", { href: "/login", text: t("log_in") }, "logged_out");
}

async function sync(force = false) {
  if (locked) {
    if (await finishPendingLogout()) location.href = "/login";
    return;
  }
  if (!db || !maySurvey(session) || (!navigator.onLine && !force)) return;
  const progress = $("[data-sync-progress]");
  const result = await syncOutbox(db, {
    force,
    onProgress: (first, last, total) => {
      refreshCounts(); // what the batches before this one have sent
      progress.textContent = first === last ? t("sending", { n: first, total })
        : t("sending_batch", { first, last, total });
    },
  });
  progress.textContent = "";
  if (result.logoutPending) {
    lockPage(); // logged out in another tab
    return;
  }
  if (result.needLogin) {
    showStatus(t("login_needed"), "warning", { href: loginUrl(), text: t("log_in") }, "login_needed");
  } else if (result.otherUser) {
    // The server would record these surveys as the other user's: they wait for their maker.
    showStatus(t("other_user", { server: result.otherUser, owner: session.user.username }), "warning", null, "other_user");
  } else if (!result.offline) {
    if (["login_needed", "other_user"].includes($("[data-status]").dataset.about)) showStatus("");
    // Said after every run, including one with nothing left to send: a refused survey waits for
    // the surveyor, so "everything is sent" would not be true.
    const waiting = await refreshCounts();
    const failed = (await getAll(db, "surveys")).filter((item) => item.state === "failed").length;
    if (failed > 0) progress.textContent = t("needs_attention", { n: failed });
    else if (waiting === 0) progress.textContent = t("sent_all");
  }
  await render();
}

function blobToDataUrl(blob) {
  return new Promise((resolve) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.readAsDataURL(blob);
  });
}

async function exportQueue() {
  const surveys = await getAll(db, "surveys");
  const photos = [];
  for (const photo of await getAll(db, "photos")) {
    photos.push({ ...photo, blob: photo.blob ? await blobToDataUrl(photo.blob) : null });
  }
  const data = { format: "village-survey-outbox", version: 1, exported_at: new Date().toISOString(), surveys, photos };
  const url = URL.createObjectURL(new Blob([JSON.stringify(data)], { type: "application/json" }));
  const a = document.createElement("a");
  a.href = url;
  a.download = `village-survey-${new Date().toISOString().slice(0, 16).replace(/[:T]/g, "-")}.json`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

async function importQueue(file) {
  let data;
  try {
    data = JSON.parse(await file.text());
  } catch (error) {
    data = null;
  }
  if (!data || data.format !== "village-survey-outbox" || !Array.isArray(data.surveys)) {
    showStatus(t("import_bad"), "error");
    return;
  }
  let imported = 0;
  const others = new Set();
  for (const survey of data.surveys) {
    // Another user's surveys are theirs to send: sent from here they would be recorded as this user's.
    if ((survey.made_by ?? session.user.id) !== session.user.id) {
      others.add(survey.uuid);
      continue;
    }
    const existing = await get(db, "surveys", survey.uuid);
    // Keep the newer copy; the server's UUID rules make a double send harmless anyway.
    if (!existing || (survey.updated_at || 0) > (existing.updated_at || 0)) {
      await put(db, "surveys", survey);
      imported += 1;
    }
  }
  for (const photo of data.photos || []) {
    if (others.has(photo.survey_uuid) || (await get(db, "photos", photo.photo_uuid))) continue;
    const blob = photo.blob ? await (await fetch(photo.blob)).blob() : null;
    await put(db, "photos", { ...photo, blob });
  }
  if (others.size) showStatus(`${t("imported", { n: imported })} ${t("import_others", { n: others.size })}`, "warning");
  else showStatus(t("imported", { n: imported }), "success");
  await render();
  sync();
}

async function logout() {
  const waiting = await refreshCounts();
  if (waiting && !confirm(t("logout_unsent", { n: waiting }))) return;
  // The phone forgets this user at once, signal or not; the server hears of it now or at the
  // next connection, before anything else is sent.
  await lockForLogout();
  lockPage();
  if (await finishPendingLogout()) location.href = "/login";
}

async function start() {
  showNetwork();
  // A new page or a new connection tries everything at once; the timer respects the backoff.
  window.addEventListener("online", () => { showNetwork(); sync(true); });
  window.addEventListener("offline", showNetwork);
  const loaded = await loadSession();
  if (loaded.locked) {
    lockPage();
    setInterval(() => sync(), SYNC_EVERY_MS);
    return;
  }
  session = loaded.session;
  if (!session) {
    showStatus(t("no_session"), "warning", { href: loginUrl(), text: t("log_in") });
    return;
  }
  if (loaded.needLogin) showStatus(t("login_needed"), "warning", { href: loginUrl(), text: t("log_in") }, "login_needed");
  document.body.dataset.formVersion = session.form_version;
  $("[data-user]").textContent = session.user.username;
  $("[data-app]").hidden = false;
  db = await openUserDb(session.user.id);
  registerWorker();
  if (!(await askPersistence())) {
    const hint = $("[data-persist-hint]");
    hint.textContent = t("persist_denied");
    hint.hidden = false;
  }
  if (maySurvey(session)) {
    await loadVillages(loaded.online);
  } else {
    // A viewer reads on the full site; the phone gets no village list and no start form.
    showStatus(t("read_only"), "info", null, "read_only");
    for (const part of document.querySelectorAll("[data-for-surveyors]")) part.hidden = true;
  }
  $("#new-village").addEventListener("change", fillHouseholds);
  fillHouseholds();
  $("[data-new-survey]").addEventListener("submit", newSurvey);
  $("[data-sync-now]").addEventListener("click", () => sync(true));
  $("[data-export]").addEventListener("click", exportQueue);
  $("[data-import]").addEventListener("change", (e) => e.target.files[0] && importQueue(e.target.files[0]));
  $("[data-logout]").addEventListener("click", logout);
  navigator.serviceWorker?.addEventListener("message", (event) => {
    if (event.data === "outbox-changed") render();
  });
  await render();
  document.body.dataset.ready = "true";
  if (loaded.online) sync(true);
  setInterval(() => sync(), SYNC_EVERY_MS);
}

start();
