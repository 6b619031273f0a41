// The survey form on the phone: one step at a time, every change saved to IndexedDB at once,
// a summary that lists what is still missing, and submission into the outbox.
import { resizePhoto } from "./photos.js";
import { loadSession, maySurvey, registerWorker } from "./session.js";
import { get, openUserDb, photosOf, put } from "./store.js";
import { t } from "./i18n.js";

const $ = (selector, root = document) => root.querySelector(selector);
const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];
const form = $("[data-survey-form]");
const spec = JSON.parse($("#field-spec").textContent);
const STEPS = $$("section[data-step]", form).map((s) => s.dataset.step);
let session = null;
let db = null;
let item = null;
let step = STEPS[0];
let saveTimer = null;

const wrapper = (key) => $(`[data-key="${key}"]`, form);

function rawValue(key) {
  const checked = $(`[name="${key}"]:checked`, form);
  if (checked) return checked.value;
  const input = $(`select[name="${key}"], textarea[name="${key}"], input[name="${key}"]:not([type=radio])`, form);
  return input ? input.value.trim() : "";
}

function setValue(key, value) {
  const text = value === true ? "true" : value === false ? "false" : value == null ? "" : String(value);
  const radios = $$(`input[type=radio][name="${key}"]`, form);
  if (radios.length) radios.forEach((r) => { r.checked = r.value === text; });
  else if (form.elements[key]) form.elements[key].value = text;
}

function typed(key, raw) {
  const type = spec[key].type;
  if (type === "bool") return raw === "true";
  if (type === "int" || type === "year") return /^-?\d+$/.test(raw) ? Number(raw) : raw;
  if (type === "decimal") return raw !== "" && Number.isFinite(Number(raw)) ? Number(raw) : raw;
  return raw;
}

function isShown(key) {
  const part = wrapper(key);
  return part && !part.hidden;
}

// Show a part only when it applies; the answers of hidden parts are not kept.
function applyConditions() {
  for (const part of $$("[data-show-when]", form)) {
    const [key, values] = part.dataset.showWhen.split(":");
    part.hidden = !values.split(",").includes(rawValue(key));
  }
}

function collect() {
  const answers = {};
  for (const key of Object.keys(spec)) {
    const raw = rawValue(key);
    if (raw !== "" && isShown(key)) answers[key] = typed(key, raw);
  }
  return answers;
}

function missingKeys(answers) {
  const missing = [];
  for (const [key, field] of Object.entries(spec)) {
    if (!isShown(key) || key in answers) continue;
    if (field.required === "yes" || field.required === "when") missing.push(key);
    if (field.required === "one_of" && !field.group.some((k) => k in answers)) missing.push(key);
  }
  return missing;
}

function labelOf(key) {
  const part = wrapper(key);
  return ($("legend", part) || $("label", part)).textContent.trim();
}

function displayOf(key) {
  const checked = $(`[name="${key}"]:checked`, form);
  if (checked) return checked.parentElement.textContent.trim();
  const select = $(`select[name="${key}"]`, form);
  if (select) return select.selectedOptions[0]?.textContent || "";
  return rawValue(key);
}

function renderSummary() {
  const answers = collect();
  const missing = missingKeys(answers);
  const box = $("[data-missing]");
  box.replaceChildren();
  const title = document.createElement("p");
  title.textContent = missing.length ? t("missing") : t("nothing_missing");
  title.className = missing.length ? "error" : "hint";
  box.append(title);
  if (missing.length) {
    const list = document.createElement("ul");
    for (const key of missing) {
      const li = document.createElement("li");
      const link = document.createElement("a");
      link.href = "#";
      link.textContent = labelOf(key);
      link.addEventListener("click", (e) => { e.preventDefault(); goToField(key); });
      li.append(link);
      list.append(li);
    }
    box.append(list);
  }
  const dl = document.createElement("dl");
  for (const key of Object.keys(answers)) {
    const row = document.createElement("div");
    const dt = document.createElement("dt");
    const dd = document.createElement("dd");
    dt.textContent = labelOf(key);
    dd.textContent = displayOf(key);
    row.append(dt, dd);
    dl.append(row);
  }
  $("[data-summary]").replaceChildren(dl);
  $("[data-submit]").disabled = missing.length > 0 || !editable();
}

function showStep(name) {
  step = name;
  for (const section of $$("section[data-step]", form)) section.hidden = section.dataset.step !== name;
  for (const button of $$("[data-goto]")) {
    button.parentElement.toggleAttribute("aria-current", button.dataset.goto === name);
  }
  const index = STEPS.indexOf(name);
  $("[data-back]").hidden = index === 0;
  $("[data-next]").hidden = name === "summary";
  $("[data-submit]").hidden = name !== "summary";
  if (name === "summary") renderSummary();
  window.scrollTo(0, 0);
}

function goToField(key) {
  showStep(spec[key]?.step || STEPS[0]);
  const part = wrapper(key);
  part?.scrollIntoView({ block: "center" });
  $("input, select, textarea", part)?.focus();
}

function editable() {
  if (item.state !== "sent") return true;
  return item.server?.status === "returned";
}

async function save() {
  if (!editable()) return;
  item.answers = collect();
  item.updated_at = Date.now();
  if (item.state !== "draft") Object.assign(item, { state: "draft", last_error: item.last_error });
  await put(db, "surveys", item);
  $("[data-saved]").textContent = `${t("saved")} ${new Date().toLocaleTimeString()}`;
}

// Typing is saved after a short pause; a finished change, a step change or leaving the page
// saves at once, so closing the browser loses nothing.
function scheduleSave() {
  clearTimeout(saveTimer);
  saveTimer = setTimeout(save, 300);
}

async function saveNow() {
  clearTimeout(saveTimer);
  await save();
}

async function goTo(name) {
  await saveNow();
  showStep(name);
}

function showServerErrors() {
  $$("[data-server-error]", form).forEach((e) => e.remove());
  const errors = item.last_error?.errors || {};
  const keys = Object.keys(errors);
  for (const key of keys) {
    const target = wrapper(key) || $("section[data-step]", form);
    const p = document.createElement("p");
    p.className = "error";
    p.dataset.serverError = key;
    p.textContent = (errors[key] || []).join(" ");
    target.append(p);
  }
  if (item.state === "failed" && item.last_error?.message) {
    const status = $("[data-status]");
    status.hidden = false;
    status.className = "flash flash-error";
    status.textContent = item.last_error.message;
  }
  const first = keys.find((k) => spec[k]);
  if (first) goToField(first);
}

async function submit() {
  await saveNow();
  if (missingKeys(item.answers).length) return showStep("summary");
  Object.assign(item, { state: "queued", status: "submitted", queued_at: Date.now(), attempts: 0,
                        next_attempt_at: null, last_error: null, made_by: item.made_by ?? session.user.id });
  await put(db, "surveys", item);
  try {
    const registration = await navigator.serviceWorker?.ready;
    await registration?.sync?.register("outbox");
  } catch (error) {
    // no Background Sync here: the page's own retries cover it
  }
  // The start page sends the outbox as soon as it opens; sending from here would be cut off
  // by the navigation.
  location.href = "/app/";
}

async function renderPhotos() {
  const box = $("[data-photos]");
  const photos = await photosOf(db, item.uuid);
  box.replaceChildren(...photos.filter((p) => p.blob).map((p) => {
    const img = document.createElement("img");
    img.src = URL.createObjectURL(p.blob);
    img.alt = p.kind;
    img.width = 120;
    return img;
  }));
}

async function addPhoto(input) {
  const file = input.files[0];
  if (!file) return;
  try {
    const { blob } = await resizePhoto(file);
    await put(db, "photos", { photo_uuid: crypto.randomUUID(), survey_uuid: item.uuid, kind: input.dataset.photoKind,
                              blob, state: "queued", created_at: Date.now() });
    $("[data-saved]").textContent = t("photo_added");
  } catch (error) {
    $("[data-saved]").textContent = t("photo_bad");
  }
  input.value = "";
  renderPhotos();
}

function fillPosition() {
  const status = $("[data-gps-status]");
  status.textContent = t("gps_waiting");
  navigator.geolocation.getCurrentPosition((position) => {
    const { latitude, longitude, accuracy } = position.coords;
    setValue("latitude", latitude.toFixed(6));
    setValue("longitude", longitude.toFixed(6));
    setValue("gps_accuracy_m", Math.round(accuracy));
    status.textContent = t("gps_done");
    scheduleSave();
  }, (error) => { status.textContent = error.message; }, { enableHighAccuracy: true, timeout: 20000 });
}

async function start() {
  ({ session } = await loadSession());
  const uuid = location.hash.slice(1);
  if (!session || !uuid) {
    location.href = "/app/"; // it says why (logged out, no login yet)
    return;
  }
  if (!maySurvey(session)) {
    // A viewer's account can read but not survey: no form to fill for nothing.
    const status = $("[data-status]");
    Object.assign(status, { hidden: false, className: "flash flash-info", textContent: t("read_only") });
    status.dataset.about = "read_only";
    form.hidden = true;
    $("[data-step-nav]").hidden = true;
    document.body.dataset.ready = "true";
    return;
  }
  db = await openUserDb(session.user.id);
  registerWorker();
  item = await get(db, "surveys", uuid);
  if (!item) {
    $("[data-where]").textContent = t("not_found");
    form.hidden = true;
    return;
  }
  // A draft from before an app update keeps the form version it was started with.
  item.form_version = item.form_version || Number(form.dataset.formVersion);
  const villages = (await get(db, "kv", "villages")) || [];
  $("[data-where]").textContent = `${villages.find((v) => v.id === item.village_id)?.name || ""} · ${item.year}`;
  for (const [key, value] of Object.entries(item.answers || {})) if (spec[key]) setValue(key, value);
  applyConditions();
  if (!editable()) $$("input, select, textarea", form).forEach((e) => { e.disabled = true; });
  form.addEventListener("change", () => { applyConditions(); saveNow(); });
  form.addEventListener("input", scheduleSave);
  document.addEventListener("visibilitychange", () => { if (document.hidden) saveNow(); });
  $("[data-next]").addEventListener("click", () => goTo(STEPS[STEPS.indexOf(step) + 1]));
  $("[data-back]").addEventListener("click", () => goTo(STEPS[STEPS.indexOf(step) - 1]));
  $("[data-submit]").addEventListener("click", submit);
  $$("[data-goto]").forEach((b) => b.addEventListener("click", () => goTo(b.dataset.goto)));
  $$("[data-photo-kind]").forEach((input) => input.addEventListener("change", () => addPhoto(input)));
  const gps = $("[data-gps]");
  if ("geolocation" in navigator) gps.addEventListener("click", fillPosition);
  else gps.hidden = true;
  form.inert = false;
  showStep(STEPS[0]);
  showServerErrors();
  await renderPhotos();
  document.body.dataset.ready = "true";
}

start();
