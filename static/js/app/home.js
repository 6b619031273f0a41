// The field app's start page: the to-do (returned surveys first, then what needs a decision, then
// drafts, then the households not surveyed this year), the outbox (count, last sync, sync now,
// why an item failed, when the next try is), new surveys from the cached village list (warned at
// once about a household surveyed already), the surveys kept on this phone, refused photos,
// backup, logout. Nothing of a user is shown before the phone knows who uses it, nor after a logout.
import {
  confirmAfterReturn,
  counts,
  discardChange,
  openForEditing,
  syncOutbox,
  toFix,
  withdrawAndResend,
} from "./outbox.js";
import { blobToDataUrl, dataUrlToBlob } from "./photos.js";
import {
  askPersistence,
  finishPendingLogout,
  loadSession,
  lockForLogout,
  loginUrl,
  maySurvey,
  onReachability,
  registerWorker,
  serverReachable,
  setReachable,
  setRequestTimeout,
  timedFetch,
} from "./session.js";
import { del, get, getAll, openUserDb, photosOf, put } from "./store.js";
import { formatTime, t } from "./i18n.js";

const $ = (selector, root = document) => root.querySelector(selector);
const SYNC_EVERY_MS = 30000;
const FEW_SURVEYS = 3; // more waiting on a phone whose storage may be cleared: remind to export
const SAME_ORIGIN = { credentials: "same-origin", cache: "no-store" };
const fieldLabels = JSON.parse(document.getElementById("field-labels")?.textContent || "{}");
let session = null;
let db = null;
let villages = [];
let todo = null;
let locked = false;
let persistent = true;

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

// The outbox's line under "Sync now": what the latest or current run does or did.
function showProgress(text, about = "") {
  const progress = $("[data-sync-progress]");
  if (!progress) return;
  progress.textContent = text;
  progress.dataset.about = about;
}

// The header says whether the server answers, not only whether the phone has a network.
function showNetwork() {
  const net = $("[data-net]");
  const reachable = navigator.onLine && serverReachable() !== false;
  net.textContent = !navigator.onLine ? t("offline") : reachable ? t("online") : t("server_down");
  net.dataset.reachable = String(reachable);
}

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "dataset") Object.assign(node.dataset, value);
    else if (key === "onclick") node.addEventListener("click", value);
    else node[key] = value;
  }
  node.append(...children.filter((child) => child !== null && child !== undefined));
  return node;
}

function button(text, onclick, data = {}, className = "secondary") {
  return el("button", { type: "button", className, textContent: text, dataset: data, onclick });
}

async function refreshCounts() {
  if (!db) return 0;
  const c = await counts(db);
  $("[data-outbox-count]").textContent = String(c.surveys);
  $("[data-photo-count]").textContent = c.photos ? t("photos_waiting", { n: c.photos }) : "";
  $("[data-last-sync]").textContent = formatTime(await get(db, "kv", "last_sync"));
  // The browser may clear this phone's storage: say so at the top, and ask for a backup once
  // more than a few surveys are only here.
  const hint = $("[data-persist-hint]");
  hint.hidden = persistent;
  if (!persistent) {
    hint.textContent = c.unsent > FEW_SURVEYS ? `${t("persist_denied")} ${t("export_reminder", { n: c.unsent })}`
      : t("persist_denied");
  }
  return c.surveys;
}

function villageName(id) {
  return villages.find((v) => v.id === id)?.name || todo?.villages?.find((v) => v.id === id)?.name || "";
}

// The labels of the phone's states and of the server's statuses, written out (not built as
// `state_${state}`) so that the server finds every key a page needs (offline/assets.py).
const serverStatusLabel = (status) => ({
  draft: t("server_draft"), submitted: t("server_submitted"), approved: t("server_approved"),
  returned: t("server_returned"),
})[status] ?? status;
const phoneStateLabel = (state) => ({
  draft: t("state_draft"), queued: t("state_queued"), sent: t("state_sent"), failed: t("state_failed"),
  held: t("state_held"), conflict: t("state_conflict"),
})[state] ?? state;

function stateLabel(item) {
  if (item.state === "conflict") return t("state_conflict");
  if (item.state === "held") return t("state_held");
  if (toFix(item)) return t("to_fix");
  if (item.state === "draft" && item.server?.status === "returned") return `${t("to_fix")} · ${t("state_draft")}`;
  const server = item.state === "sent" && item.server?.status ? ` · ${serverStatusLabel(item.server.status)}` : "";
  return `${phoneStateLabel(item.state)}${server}`;
}

function shown(value) {
  if (value === true) return t("yes");
  if (value === false) return t("no");
  return value === undefined || value === null || value === "" ? "—" : String(value);
}

// The surveyor's change that the server did not take, to read: each answer that differs.
function changeList(item) {
  const theirs = item.server?.answers || {};
  const mine = item.answers || {};
  const keys = [...new Set([...Object.keys(mine), ...Object.keys(theirs)])]
    .filter((key) => JSON.stringify(mine[key]) !== JSON.stringify(theirs[key]));
  const dl = el("dl", { className: "changes" });
  for (const key of keys) {
    dl.append(el("dt", { textContent: fieldLabels[key] || key }),
              el("dd", { textContent: `${shown(mine[key])} (${t("server_has", { value: shown(theirs[key]) })})` }));
  }
  if (!keys.length) dl.append(el("dd", { textContent: t("no_difference") }));
  return el("details", { dataset: { myChange: "" } }, el("summary", { textContent: t("show_my_change") }), dl);
}

async function openAndGo(uuid) {
  await openForEditing(db, uuid);
  location.href = `/app/survey#${uuid}`;
}

async function decided(message = "", kind = "info") {
  if (message) showStatus(message, kind);
  await render();
  sync(true);
}

// What the surveyor may do about a survey that needs them, below its line.
function actions(item) {
  const box = el("div", { className: "actions" });
  if (toFix(item) || item.state === "held") {
    box.append(button(t("fix_it"), () => openAndGo(item.uuid), { fix: "" }, "primary"));
  }
  if (item.state === "held") {
    box.append(button(t("send_as_is"), async () => {
      await confirmAfterReturn(db, item.uuid);
      decided();
    }, { sendAsIs: "" }));
  }
  const submittedMeanwhile = item.state === "failed" && item.server?.status === "submitted";
  if (submittedMeanwhile) {
    box.append(button(t("withdraw_and_send"), async () => {
      showProgress(t("syncing"), "syncing");
      const done = await withdrawAndResend(db, item.uuid);
      if (done.ok) return decided();
      if (done.needLogin) return showStatus(t("login_needed"), "warning", { href: loginUrl(), text: t("log_in") }, "login_needed");
      showProgress("");
      showStatus(done.offline ? t("retry_later") : t("withdraw_failed", { reason: done.message }), "error");
      render();
    }, { withdraw: "" }));
  }
  if (item.state === "conflict" || submittedMeanwhile || item.state === "held") {
    box.append(button(t("discard_change"), async () => {
      if (!confirm(t("confirm_discard"))) return;
      await discardChange(db, item.uuid);
      decided(t("discarded"), "success");
    }, { discard: "" }));
  }
  const existing = item.state === "failed" ? item.last_error?.existing : null;
  if (existing?.editable) {
    box.append(button(t("duplicate_open"), () => openServerSurvey(existing.uuid), { openExisting: "" }));
  }
  if (item.state === "draft" && !item.server) {
    box.append(button(t("delete"), async () => {
      if (!confirm(t("confirm_delete"))) return;
      for (const photo of await photosOf(db, item.uuid)) await del(db, "photos", photo.photo_uuid);
      await del(db, "surveys", item.uuid);
      render();
    }));
  }
  return box.childElementCount ? box : null;
}

function explanation(item) {
  if (item.state === "held") return t("held_explained");
  if (item.state === "conflict") return t("conflict_explained");
  if (item.state === "failed" && item.server?.status === "submitted") return t("submitted_explained");
  return null;
}

function itemLine(item) {
  const li = el("li", { dataset: { uuid: item.uuid, state: item.state, serverStatus: item.server?.status || "" } });
  const name = `${item.answers?.house_number || "?"} ${item.answers?.head_name || ""}`;
  // A conflict is read here, not edited: the approved survey stays as it is.
  if (item.state === "conflict") li.append(el("b", { textContent: name }));
  else {
    const link = el("a", { href: `/app/survey#${item.uuid}`, textContent: name });
    if (toFix(item) || item.state === "held") {
      link.addEventListener("click", (event) => { event.preventDefault(); openAndGo(item.uuid); });
    }
    li.append(link);
  }
  li.append(el("small", { textContent: `${villageName(item.village_id)} · ${item.year} · ${stateLabel(item)}`,
                          dataset: { label: "" } }));
  const comment = item.server?.reviewer_comment;
  if (comment && (item.server.status === "returned" || ["held", "draft"].includes(item.state))) {
    li.append(el("small", { className: "error", textContent: `${t("comment_label")} ${comment}`, dataset: { comment: "" } }));
  }
  if (item.state === "failed" || (item.state === "queued" && item.last_error)) {
    const retry = item.next_attempt_at ? ` (${t("retry_at", { time: formatTime(item.next_attempt_at) })})` : "";
    li.append(el("small", { className: item.state === "failed" ? "error" : "hint", dataset: { reason: "" },
                            textContent: item.state === "failed" ? item.last_error?.message || "" : t("network_error") + retry }));
  }
  const why = explanation(item);
  if (why) li.append(el("p", { className: "hint", textContent: why, dataset: { explained: "" } }));
  if (item.state === "conflict" || item.state === "held"
      || (item.state === "failed" && item.server?.status === "submitted")) li.append(changeList(item));
  li.append(actions(item));
  return li;
}

// Returned surveys first, then those that need a decision, then drafts; latest change first.
const toDoRank = (item) => (toFix(item) ? 0 : item.state === "held" ? 1 : item.state === "conflict" ? 2
  : item.state === "failed" ? 3 : item.state === "draft" ? (item.server?.status === "returned" ? 0 : 4) : null);

function emptyLine() {
  return el("li", { className: "empty", textContent: "—" });
}

async function render() {
  if (!db) return;
  const items = (await getAll(db, "surveys")).sort((a, b) => (b.updated_at || 0) - (a.updated_at || 0));
  const todoItems = items.filter((item) => toDoRank(item) !== null)
    .sort((a, b) => toDoRank(a) - toDoRank(b));
  const others = items.filter((item) => toDoRank(item) === null);
  $("[data-todo-items]").replaceChildren(...todoItems.map(itemLine));
  $("[data-todo-items]").hidden = !todoItems.length;
  $("[data-phone-items]").replaceChildren(...(others.length ? others.map(itemLine) : [emptyLine()]));
  renderToSurvey(items);
  $("[data-todo-empty]").hidden = Boolean(todoItems.length || $("[data-to-survey]").childElementCount);
  await renderRefusedPhotos(items);
  await refreshCounts();
}

// --- households still to survey this year (from the server's to-do, kept on the phone) ----------

function startButtons(village, household) {
  const box = el("span", { className: "inline" });
  if (household.previous) {
    box.append(button(t("start_from_previous", { year: household.previous.year }),
                      () => startFromPrevious(village.id, household), { startPrevious: "" }));
  }
  box.append(button(household.previous ? t("start_empty") : t("start"),
                    () => startSurvey(village.id, household, null), { startEmpty: "" }));
  return box;
}

// Last year's answers of a village's households, kept on the phone (asked for once a day per
// village while online), so that a survey started without signal can start from them.
const today = () => new Date().toLocaleDateString("sv");

async function fetchPrevious(villageId) {
  try {
    const response = await timedFetch(`/api/v1/todo/previous?village=${villageId}`, SAME_ORIGIN);
    const data = response.ok ? await response.json() : null;
    if (!data || data.user_id !== session?.user.id || !db) return null;
    const kept = (await get(db, "kv", "previous")) || {};
    kept[villageId] = { day: today(), households: data.previous };
    await put(db, "kv", kept, "previous");
    return kept[villageId];
  } catch (error) {
    return null;
  }
}

async function keepPreviousAnswers() {
  const kept = (await get(db, "kv", "previous")) || {};
  for (const village of todo?.villages || []) {
    if (!village.to_survey.some((h) => h.previous) || kept[village.id]?.day === today()) continue;
    if (!(await fetchPrevious(village.id))) return; // no signal: another time
  }
}

async function previousAnswers(villageId, householdId) {
  const kept = ((await get(db, "kv", "previous")) || {})[villageId] || (await fetchPrevious(villageId));
  return kept?.households?.[householdId]?.answers || null;
}

async function startFromPrevious(villageId, household) {
  const answers = await previousAnswers(villageId, household.id);
  if (!answers) {
    showStatus(t("previous_needs_signal"), "warning", null, "previous");
    return;
  }
  await startSurvey(villageId, household, answers);
}

function renderToSurvey(items) {
  const list = $("[data-to-survey]");
  const title = $("[data-to-survey-title]");
  if (!todo || !maySurvey(session)) {
    list.replaceChildren();
    title.hidden = true;
    return;
  }
  // A household this phone has started this year counts as surveyed (the server does not know yet).
  const started = new Set(items.filter((item) => item.year === todo.year && item.household_id)
    .map((item) => item.household_id));
  let left = 0;
  const lines = [];
  for (const village of todo.villages) {
    const households = village.to_survey.filter((h) => !started.has(h.id));
    const surveyed = village.surveyed + (village.to_survey.length - households.length);
    const notSurveyed = village.households - surveyed;
    left += notSurveyed;
    if (!notSurveyed) continue;
    const summary = el("summary", {}, el("b", { textContent: village.name }), " ",
                       el("small", { textContent: t("village_counts", { surveyed, total: village.households, left: notSurveyed }) }));
    const sub = el("ul", { className: "sub" }, ...households.map((h) => el("li", { dataset: { household: h.id } },
      `${h.house_number} ${h.head_name} `, startButtons(village, h))));
    lines.push(el("li", { dataset: { village: village.id } }, el("details", {}, summary, sub)));
  }
  title.hidden = !lines.length;
  title.textContent = t("to_survey_title", { year: todo.year, n: left });
  list.replaceChildren(...lines);
}

async function loadTodo(online) {
  if (online) {
    try {
      const response = await timedFetch("/api/v1/todo", SAME_ORIGIN);
      const data = response.ok ? await response.json() : null;
      if (data && data.user_id === session.user.id) {
        todo = data;
        await put(db, "kv", data, "todo");
        keepPreviousAnswers(); // in the background
        return;
      }
    } catch (error) {
      // keep the copy on the phone
    }
  }
  todo = todo || (await get(db, "kv", "todo"));
}

// --- photos the server refused: kept, with the reason, until the surveyor deletes them ---------

async function renderRefusedPhotos(items) {
  const refused = (await getAll(db, "photos")).filter((photo) => photo.state === "failed");
  const section = $("[data-refused-photos]");
  section.hidden = !refused.length;
  const byUuid = new Map(items.map((item) => [item.uuid, item]));
  $("[data-refused-photo-list]").replaceChildren(...refused.map((photo) => {
    const survey = byUuid.get(photo.survey_uuid);
    const name = survey ? `${survey.answers?.house_number || "?"} ${survey.answers?.head_name || ""}` : "?";
    const li = el("li", { dataset: { photo: photo.photo_uuid } });
    if (photo.blob) li.append(el("img", { src: URL.createObjectURL(photo.blob), alt: name, width: 80 }));
    li.append(el("b", { textContent: name }),
              el("small", { className: "error", textContent: photo.last_error?.message || "", dataset: { reason: "" } }),
              button(t("delete_photo"), async () => {
                if (!confirm(t("confirm_delete_photo"))) return;
                await del(db, "photos", photo.photo_uuid);
                render();
              }));
    return li;
  }));
}

// --- new surveys --------------------------------------------------------------------------------

function fillVillages() {
  const select = $("#new-village");
  const options = villages.map((v) => new Option(`${v.name} (${v.township})`, v.id));
  select.replaceChildren(new Option(t("choose_village"), ""), ...options);
  if (!villages.length) showStatus(t("no_villages"), "warning");
}

function selectedVillage() {
  return villages.find((v) => String(v.id) === $("#new-village").value);
}

function selectedHousehold() {
  const id = Number($("#new-household").value) || null;
  return selectedVillage()?.households.find((h) => h.id === id) || null;
}

function fillHouseholds() {
  const village = selectedVillage();
  const households = village ? village.households : [];
  $("#new-household").replaceChildren(new Option(t("new_household"), ""),
    ...households.map((h) => new Option(`${h.house_number} ${h.head_name}`, h.id)));
  checkHousehold();
}

function previousOf(householdId) {
  for (const village of todo?.villages || []) {
    const found = village.to_survey.find((h) => h.id === householdId);
    if (found) return found.previous || null;
  }
  return null;
}

// Choosing a household that has a survey this year says so at once (from the village list, or
// this phone's own surveys), and offers to open that survey rather than start a second one.
async function checkHousehold() {
  const box = $("[data-duplicate]");
  const start = $("[data-new-survey] button[type=submit]");
  const household = selectedHousehold();
  const year = new Date().getFullYear();
  box.replaceChildren();
  box.hidden = true;
  start.disabled = false;
  const previous = household ? previousOf(household.id) : null;
  $("[data-previous-choice]").hidden = !previous;
  if (previous) $("[data-previous-label]").textContent = t("start_from_previous", { year: previous.year });
  if (!household || !db) return;
  const local = (await getAll(db, "surveys")).find((item) => item.household_id === household.id && item.year === year);
  const server = household.survey && year === (villages.year ?? year) ? household.survey : null;
  if (!local && !server) return;
  const status = local?.server?.status || server?.status || local?.status;
  box.append(el("p", { textContent: t("duplicate_warning", {
    household: `${household.house_number} ${household.head_name}`, year, status: serverStatusLabel(status) }) }));
  start.disabled = true;
  if (local) {
    box.append(el("a", { className: "button", href: `/app/survey#${local.uuid}`, textContent: t("duplicate_open"),
                         dataset: { openExisting: "" } }));
  } else if (server.editable) {
    box.append(button(t("duplicate_open"), () => openServerSurvey(server.uuid), { openExisting: "" }, "primary"));
  } else {
    box.append(el("p", { className: "hint", textContent: t("duplicate_not_editable") }));
  }
  box.hidden = false;
}

// A survey the server holds (this year's of a household, say) opened on this phone to edit.
async function openServerSurvey(uuid) {
  const held = await get(db, "surveys", uuid);
  if (held) {
    if (held.state === "sent") await openAndGo(uuid);
    else location.href = `/app/survey#${uuid}`;
    return;
  }
  let state = null;
  try {
    const response = await timedFetch(`/api/v1/surveys/${uuid}`, SAME_ORIGIN);
    state = response.ok ? await response.json() : null;
  } catch (error) {
    state = null;
  }
  if (!state) {
    showStatus(t("duplicate_needs_signal"), "warning");
    return;
  }
  await put(db, "surveys", {
    uuid, state: "sent", status: state.status, year: state.year, form_version: state.form_version,
    village_id: state.village_id, household_id: state.household_id, answers: state.answers,
    base_answers: state.answers, base_revision: state.revision, pulled: true, created_at: Date.now(),
    updated_at: Date.now(), server: { status: state.status, revision: state.revision,
                                      reviewer_comment: state.reviewer_comment, answers: state.answers },
  });
  await openAndGo(uuid);
}

async function loadVillages(online) {
  if (online) {
    try {
      const response = await timedFetch("/api/v1/villages", { credentials: "same-origin" });
      if (response.ok) {
        const data = await response.json();
        villages = data.villages;
        villages.year = data.year;
        await put(db, "kv", villages, "villages");
        await put(db, "kv", data.year, "villages_year");
      }
    } catch (error) {
      // keep the copy on the phone
    }
  }
  if (!villages.length) {
    villages = (await get(db, "kv", "villages")) || [];
    villages.year = await get(db, "kv", "villages_year");
  }
  fillVillages();
}

// A new survey on the phone, of a known household or a new one, from last year's answers if asked.
async function startSurvey(villageId, household, previousAnswers) {
  if (!maySurvey(session) || !villageId) return;
  const today = new Date();
  const answers = previousAnswers ? { ...previousAnswers } : {};
  delete answers.survey_date;
  if (household) Object.assign(answers, { house_number: household.house_number, head_name: household.head_name });
  // Today on the phone's calendar (toISOString alone would give the UTC date: yesterday before 8 am in China).
  answers.survey_date = new Date(today.getTime() - today.getTimezoneOffset() * 60000).toISOString().slice(0, 10);
  const item = {
    uuid: crypto.randomUUID(), state: "draft", status: "draft", year: today.getFullYear(), made_by: session.user.id,
    form_version: Number(document.body.dataset.formVersion || 0) || null,
    village_id: villageId, household_id: household?.id ?? null, created_at: Date.now(), updated_at: Date.now(),
    started_at: Date.now(), answers,
  };
  await put(db, "surveys", item);
  location.href = `/app/survey#${item.uuid}`;
}

async function newSurvey(event) {
  event.preventDefault();
  const village = selectedVillage();
  if (!village || $("[data-new-survey] button[type=submit]").disabled) return;
  const household = selectedHousehold();
  if (household && previousOf(household.id) && $("[data-from-previous]").checked) {
    await startFromPrevious(village.id, household);
  } else {
    await startSurvey(village.id, household, null);
  }
}

// The phone after a logout: the login prompt and nothing else, until someone logs in; a logout
// made offline is completed on the server by the next sync or connection.
function lockPage() {
  locked = true;
  db = null;
  session = null;
  villages = [];
  todo = null;
  $("[data-app]").hidden = true;
  $("[data-user]").textContent = "";
  $("[data-todo-items]").replaceChildren();
  $("[data-phone-items]").replaceChildren();
  $("[data-to-survey]").replaceChildren();
  $("[data-refused-photo-list]").replaceChildren();
  $("#new-village").replaceChildren();
  $("#new-household").replaceChildren();
  showStatus(t("logged_out"), "warning", { href: "/login", text: t("log_in") }, "logged_out");
}

// --- sync: on load, every 30 s, at once when asked; after a failure, again after a delay shown
// as a countdown ------------------------------------------------------------------------------------

let running = null;
let runAgain = false;
let rechecked = false; // the colleagues' returned surveys kept here, asked about once per visit
let failures = 0;
let nextTimer = null;
let countdownTimer = null;
let retryAt = 0;

function retryDelay(failed) {
  return Math.min(120000, 5000 * 2 ** Math.min(Math.max(failed - 1, 0), 5)); // 5 s, 10 s … 2 min
}

function schedule(ms, force = false) {
  clearTimeout(nextTimer);
  nextTimer = setTimeout(() => sync(force), ms);
}

function stopCountdown() {
  clearInterval(countdownTimer);
  countdownTimer = null;
  retryAt = 0;
}

function showCountdown() {
  const seconds = Math.max(0, Math.ceil((retryAt - Date.now()) / 1000));
  showProgress(t("retry_in", { n: seconds }), "unreachable");
  $("[data-sync-progress]").dataset.retryIn = String(seconds);
}

function progressText(progress) {
  if (progress.kind === "pull") return t("checking");
  if (progress.kind === "photos") return t("sending_photo", { n: progress.first, total: progress.total });
  return progress.first === progress.last ? t("sending", { n: progress.first, total: progress.total })
    : t("sending_batch", { first: progress.first, last: progress.last, total: progress.total });
}

function onProgress(progress) {
  refreshCounts(); // what the batches before this one have sent
  showProgress(progressText(progress), "sending");
}

// What a finished run says, whoever ran it (this page, another tab or the service worker).
async function finished(result) {
  if (!result || !db) return;
  if (result.logoutPending) {
    lockPage(); // logged out in another tab
    return;
  }
  if (result.offline) {
    failures += 1;
    retryAt = Date.now() + retryDelay(failures);
    showCountdown();
    clearInterval(countdownTimer);
    countdownTimer = setInterval(showCountdown, 1000);
    schedule(retryAt - Date.now(), true);
    await render();
    return;
  }
  failures = 0;
  stopCountdown();
  schedule(SYNC_EVERY_MS);
  if (result.needLogin) {
    showProgress("");
    showStatus(t("login_needed"), "warning", { href: loginUrl(), text: t("log_in") }, "login_needed");
  } else if (result.otherUser) {
    showProgress("");
    // The server would record these surveys as the other user's: they wait for their maker.
    showStatus(t("other_user", { server: result.otherUser, owner: session.user.username }), "warning", null, "other_user");
  } else {
    if (["login_needed", "other_user"].includes($("[data-status]").dataset.about)) showStatus("");
    // Said after every run, including one with nothing left to send: a survey or photo waiting
    // for the surveyor means that "everything is sent" would not be true.
    const c = await counts(db);
    const attention = c.refused + c.held + c.conflicts;
    const parts = [];
    if (attention) parts.push(t("needs_attention", { n: attention }));
    if (c.refusedPhotos) parts.push(t("photos_refused", { n: c.refusedPhotos }));
    if (!parts.length && c.surveys === 0 && c.photos === 0) parts.push(t("sent_all"));
    if (!parts.length) parts.push(t("checked_at", { time: formatTime(Date.now()) }));
    showProgress(parts.join(" "), attention || c.refusedPhotos ? "attention" : "done");
    if (result.sent || result.pulled) await loadTodo(true);
  }
  await render();
}

async function sync(force = false) {
  if (locked) {
    if (await finishPendingLogout()) location.href = "/login";
    return;
  }
  if (!db || !maySurvey(session)) return;
  if (running) {
    // Asked while a run is under way (which may have started before the line came back): say
    // so, and run once more right after it.
    if (force) {
      showProgress(t("syncing"), "syncing");
      runAgain = true;
    }
    return;
  }
  if (!navigator.onLine && !force) {
    schedule(SYNC_EVERY_MS);
    return;
  }
  clearTimeout(nextTimer);
  stopCountdown();
  showProgress(t("syncing"), "syncing");
  running = syncOutbox(db, { force, onProgress, recheck: !rechecked });
  try {
    const result = await running;
    rechecked = rechecked || !(result.offline || result.needLogin || result.otherUser);
    await finished(result);
  } finally {
    running = null;
    showNetwork();
  }
  if (runAgain) {
    runAgain = false;
    await sync(true);
  }
}

// --- backup -------------------------------------------------------------------------------------

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
  showStatus(t("exported", { n: surveys.length, photos: photos.filter((p) => p.blob).length }), "success", null, "exported");
}

async function importQueue(file) {
  let data;
  try {
    data = JSON.parse(await file.text());
  } catch (error) {
    data = null;
  }
  if (!data || data.format !== "village-survey-outbox" || !Array.isArray(data.surveys)) {
    showStatus(t("import_bad"), "error", null, "import");
    return;
  }
  let imported = 0;
  let importedPhotos = 0;
  let badPhotos = 0;
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
  for (const photo of Array.isArray(data.photos) ? data.photos : []) {
    if (others.has(photo.survey_uuid) || (await get(db, "photos", photo.photo_uuid))) continue;
    let blob = null;
    try {
      blob = photo.blob ? dataUrlToBlob(photo.blob) : null;
    } catch (error) {
      badPhotos += 1;
      continue;
    }
    await put(db, "photos", { ...photo, blob });
    if (blob) importedPhotos += 1;
  }
  const message = [t("imported_with_photos", { n: imported, photos: importedPhotos })];
  if (others.size) message.push(t("import_others", { n: others.size }));
  if (badPhotos) message.push(t("import_bad_photos", { n: badPhotos }));
  showStatus(message.join(" "), others.size || badPhotos ? "warning" : "success", null, "import");
  await render();
  sync(true);
}

async function logout() {
  const c = await counts(db);
  // Drafts, refused and held surveys are as much at risk as those waiting to be sent.
  if (c.unsent || c.photos || c.refusedPhotos) {
    const breakdown = t("logout_breakdown", { queued: c.surveys, drafts: c.drafts,
                                              refused: c.refused + c.held + c.conflicts,
                                              photos: c.photos + c.refusedPhotos });
    if (!confirm(`${t("logout_unsent", { n: c.unsent })}\n${breakdown}`)) return;
  }
  // The phone forgets this user at once, signal or not; the server hears of it now or at the
  // next connection, before anything else is sent.
  await lockForLogout();
  lockPage();
  if (await finishPendingLogout()) location.href = "/login";
}

// Messages of the service worker: its progress while it sends in the background, and its end.
function fromWorker(event) {
  if (locked || !db) return;
  const message = event.data;
  if (message?.type === "progress") setReachable(true);
  if (message?.type === "done" && message.result) setReachable(!message.result.offline);
  if (message === "outbox-changed") render();
  else if (message?.type === "progress" && !running) onProgress(message);
  else if (message?.type === "done" && !running && message.result) finished(message.result);
}

async function start() {
  setRequestTimeout(Number(document.body.dataset.requestTimeout));
  onReachability(showNetwork);
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
  persistent = await askPersistence();
  if (maySurvey(session)) {
    await Promise.all([loadVillages(loaded.online), loadTodo(loaded.online)]);
  } else {
    // A viewer reads on the full site; the phone gets no village list and no start form.
    showStatus(t("read_only"), "info", null, "read_only");
    for (const part of document.querySelectorAll("[data-for-surveyors]")) part.hidden = true;
  }
  $("#new-village").addEventListener("change", fillHouseholds);
  $("#new-household").addEventListener("change", checkHousehold);
  fillHouseholds();
  $("[data-new-survey]").addEventListener("submit", newSurvey);
  $("[data-sync-now]").addEventListener("click", () => sync(true));
  $("[data-export]").addEventListener("click", exportQueue);
  $("[data-import]").addEventListener("change", (e) => e.target.files[0] && importQueue(e.target.files[0]));
  $("[data-logout]").addEventListener("click", logout);
  navigator.serviceWorker?.addEventListener("message", fromWorker);
  await render();
  document.body.dataset.ready = "true";
  if (loaded.online) sync(true);
  else schedule(SYNC_EVERY_MS);
}

start();
