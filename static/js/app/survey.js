// The survey form on the phone: one step at a time, every change saved to IndexedDB at once,
// each answer checked as the server checks it (checks.js), a summary by step that lists what is
// still missing or wrong, and submission into the outbox once nothing is.
import { createChecker, pyStrip } from "./checks.js";
import { resizePhoto } from "./photos.js";
import { loadSession, maySurvey, registerWorker } from "./session.js";
import { get, openUserDb, photosOf, put } from "./store.js";
import { t } from "./i18n.js";

const $ = (selector, root = document) => root.querySelector(selector);
const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];
const form = $("[data-survey-form]");
const messages = JSON.parse($("#check-messages").textContent);
const checker = createChecker(JSON.parse($("#field-spec").textContent), messages, document.documentElement.lang);
const spec = checker.fields; // by answer key; Object.keys(spec) is in the form's order
const STEPS = $$("section[data-step]", form).map((s) => s.dataset.step);
let session = null;
let db = null;
let item = null;
let step = STEPS[0];
let saveTimer = null;

const wrapper = (key) => $(`[data-key="${key}"]`, form);

const inputOf = (key) => $(`select[name="${key}"], textarea[name="${key}"], input[name="${key}"]:not([type=radio])`, form);

// The text typed or chosen for an answer.
function typedText(key) {
  const checked = $(`[name="${key}"]:checked`, form);
  if (checked) return checked.value;
  return inputOf(key)?.value ?? "";
}

// The unit an amount is typed in, where the form offers another than its answer's (LPG in bottles).
const unitOf = (key) => $(`select[data-unit-of="${key}"]`, form)?.value;

// An amount typed in another unit, in its answer's unit (2 bottles: 30 kg), from the size the
// data dictionary gives that unit (alt_units); null when typed in the answer's own unit or when
// the text is no number (the checks then say why, as for an amount typed in kg).
function inAnswerUnit(key, text) {
  const size = spec[key]?.alt_units?.[unitOf(key)];
  if (!size) return null;
  const amount = checker.check({ [key]: text }).data[key];
  return typeof amount === "number" ? Number((amount * size).toPrecision(15)) : null;
}

// The answer as the form's text, as the server's form would receive it (checks.js trims it as
// the server does); an amount typed in another unit is converted to the answer's unit first.
function rawValue(key) {
  const text = typedText(key);
  const amount = inAnswerUnit(key, text);
  return amount === null ? text : String(amount);
}

const amounts = new Intl.NumberFormat(document.documentElement.lang || undefined, { maximumFractionDigits: 3 });

// Beside an amount typed in another unit, what it is in the answer's unit ("即 30 千克。").
function showUnitNotes() {
  for (const select of $$("select[data-unit-of]", form)) {
    const key = select.dataset.unitOf;
    const note = $(`[data-unit-note="${key}"]`, form);
    const amount = inAnswerUnit(key, typedText(key));
    note.hidden = amount === null;
    note.textContent = amount === null ? "" : note.dataset.note.replace("{amount}", amounts.format(amount));
  }
}

function setValue(key, value) {
  const text = value === true ? "true" : value === false ? "false" : value == null ? "" : String(value);
  const radios = $$(`input[type=radio][name="${key}"]`, form);
  if (radios.length) radios.forEach((r) => { r.checked = r.value === text; });
  else if (form.elements[key]) form.elements[key].value = text;
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

// The text of every answer shown (the answers of hidden parts are not kept).
function formText() {
  const text = {};
  for (const key of Object.keys(spec)) {
    const raw = rawValue(key);
    if (pyStrip(raw) !== "" && isShown(key)) text[key] = raw;
  }
  return text;
}

// The answers as the phone keeps them: typed as the server types them, and what cannot be read
// as typed (it is refused until corrected, but never thrown away).
function collect() {
  const text = formText();
  const { data } = checker.check(text, { year: item?.year ?? null });
  const answers = {};
  for (const [key, raw] of Object.entries(text)) answers[key] = key in data ? data[key] : raw;
  return answers;
}

// A number field whose text the browser cannot read as a number reports an empty value: say so
// instead of dropping what was typed.
function unreadable() {
  const errors = {};
  for (const input of $$('input[type="number"]', form)) {
    if (input.validity.badInput && isShown(input.name)) {
      const type = spec[input.name]?.type;
      errors[input.name] = [type === "decimal" ? messages.not_decimal : messages.not_integer];
    }
  }
  return errors;
}

// The server's checks of the answers as they stand (a draft: no required answers yet), plus the
// keys still to answer before submitting.
function checkNow() {
  const result = checker.check(formText(), { status: "draft", year: item?.year ?? null });
  const errors = { ...result.errors, ...unreadable() };
  const missing = checker.missingRequired(collect());
  return { errors, warnings: result.warnings, missing };
}

// Errors and warnings at each field, at once, as the website's step page shows them.
function showChecks() {
  showUnitNotes();
  const { errors, warnings } = checkNow();
  $$("[data-check]", form).forEach((e) => e.remove());
  for (const key of Object.keys(spec)) {
    const part = wrapper(key);
    if (!part) continue;
    part.classList.toggle("has-error", key in errors);
    part.classList.toggle("has-warning", key in warnings && !(key in errors));
    const input = inputOf(key);
    for (const [kind, list] of [["error", errors[key]], ["warning", warnings[key]]]) {
      for (const message of list || []) {
        const p = document.createElement("p");
        p.className = kind;
        p.dataset.check = kind;
        p.id = `${key}-${kind}`;
        p.textContent = message;
        part.append(p);
      }
    }
    if (input) {
      input.toggleAttribute("aria-invalid", key in errors);
      if (key in errors) input.setAttribute("aria-invalid", "true");
      const described = [errors[key] && `${key}-error`, warnings[key] && `${key}-warning`].filter(Boolean);
      if (described.length) input.setAttribute("aria-describedby", described.join(" "));
      else input.removeAttribute("aria-describedby");
    }
  }
  return { errors, warnings };
}

// The question's words, without its unit (the summary writes the unit after the answer).
function labelOf(key) {
  const part = wrapper(key);
  const label = ($("legend", part) || $("label", part)).cloneNode(true);
  $(".unit", label)?.remove();
  return label.textContent.trim();
}

function displayOf(key) {
  const checked = $(`[name="${key}"]:checked`, form);
  if (checked) return checked.parentElement.textContent.trim();
  const select = $(`select[name="${key}"]`, form);
  if (select) return select.selectedOptions[0]?.textContent || "";
  const unit = $(".unit", wrapper(key))?.textContent.replace(/^\(|\)$/g, "");
  return unit ? `${rawValue(key).trim()} ${unit}` : rawValue(key).trim();
}

function element(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

function editLink(key, text) {
  const link = element("a", { href: `#${key}`, className: "edit", textContent: text });
  link.dataset.edit = key;
  link.addEventListener("click", (e) => { e.preventDefault(); goToField(key); });
  return link;
}

const stepTitle = (name) => $(`section[data-step="${name}"] h1`, form).textContent.trim();

// Keys grouped by the step they belong to, steps and keys in the form's order.
function byStep(keys) {
  const wanted = new Set(keys);
  return STEPS.filter((s) => s !== "summary")
    .map((name) => [name, Object.keys(spec).filter((k) => spec[k].step === name && wanted.has(k))])
    .filter(([, list]) => list.length);
}

// A list of keys by step, each a link to its field (the missing answers, the wrong ones).
function linkedList(keys, describe) {
  return byStep(keys).map(([name, list]) => element("section", { className: "summary-step" },
    element("h2", { textContent: stepTitle(name) }),
    element("ul", {}, ...list.map((key) => {
      const item = element("li", {}, editLink(key, labelOf(key)));
      const text = describe?.(key);
      if (text) item.append(`: ${text}`);
      return item;
    }))));
}

function renderSummary() {
  const answers = collect();
  const { errors, warnings, missing } = checkNow();
  const wrong = Object.keys(errors);
  const box = $("[data-missing]");
  box.replaceChildren();
  if (wrong.length) {
    box.append(element("p", { className: "error", textContent: t("errors") }),
               ...linkedList(wrong, (key) => errors[key].join(" ")));
  }
  box.append(element("p", { className: missing.length ? "error" : "hint",
                            textContent: missing.length ? t("missing") : t("nothing_missing") }),
             ...linkedList(missing));
  $("[data-summary]").replaceChildren(...byStep(Object.keys(answers)).map(([name, list]) =>
    element("section", { className: "summary-step" },
      element("h2", { textContent: stepTitle(name) }),
      element("dl", {}, ...list.map((key) => {
        const row = element("div", {}, element("dt", { textContent: labelOf(key) }));
        row.dataset.answer = key;
        const dd = element("dd", {}, displayOf(key), " ", editLink(key, t("change")));
        dd.lastChild.setAttribute("aria-label", `${t("change")} ${labelOf(key)}`);
        for (const message of errors[key] || []) dd.append(element("p", { className: "error", textContent: message }));
        for (const message of warnings[key] || []) dd.append(element("p", { className: "warning", textContent: message }));
        row.classList.toggle("has-warning", key in warnings);
        row.classList.toggle("has-error", key in errors);
        row.append(dd);
        return row;
      })))));
  // The unusual answers are confirmed before queueing, as on the website's summary.
  const confirm = $("[data-confirm]");
  confirm.hidden = !Object.keys(warnings).length;
  $("[data-confirm-warnings]").checked = false;
  $("[data-confirm-needed]").hidden = true;
  $("[data-submit]").disabled = wrong.length > 0 || missing.length > 0 || !editable();
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
  // A change the server can no longer take (approved meanwhile) is kept to read, not to edit.
  if (item.state === "conflict") return false;
  if (item.state !== "sent") return true;
  return item.server?.status === "returned";
}

// What the reviewer said, at the top, while it matters: a returned survey being fixed, or a
// change held until the surveyor has read the comment.
function showReviewerComment() {
  const comment = item.server?.reviewer_comment;
  if (!comment || !(item.server?.status === "returned" || item.state === "held")) return;
  const box = document.createElement("p");
  box.className = "flash flash-warning";
  box.dataset.reviewerComment = "";
  box.textContent = `${t("reviewer_comment")} ${comment}`;
  form.before(box);
}

// The answers as they stand if they differ from the stored ones, else null: looking at a queued
// survey, or leaving it unchanged, must not turn it back into a draft.
function changedAnswers() {
  if (!item || !db || !editable()) return null;
  const answers = collect();
  const canonical = (a) => JSON.stringify(Object.keys(a || {}).sort().map((k) => [k, a[k]]));
  return canonical(answers) === canonical(item.answers) ? null : answers;
}

function keep(answers) {
  Object.assign(item, { answers, updated_at: Date.now(), state: "draft" });
}

async function save() {
  const answers = changedAnswers();
  if (!answers) return;
  keep(answers);
  await put(db, "surveys", item);
  $("[data-saved]").textContent = `${t("saved")} ${new Date().toLocaleTimeString()}`;
}

// Typing is saved after a short pause; a finished change, a step change or leaving the page
// saves at once, so closing the browser loses nothing.
function scheduleSave() {
  clearTimeout(saveTimer);
  saveTimer = setTimeout(save, 300);
}

// Leaving the page (reload, closing the tab, switching apps): write now, in this event, and
// commit at once; a page being unloaded does not wait for a pending timer or transaction.
function saveBeforeLeaving() {
  clearTimeout(saveTimer);
  const answers = changedAnswers();
  if (!answers) return;
  keep(answers);
  const transaction = db.transaction("surveys", "readwrite");
  transaction.objectStore("surveys").put(item);
  transaction.commit?.();
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
  const { errors, warnings, missing } = checkNow();
  // What the server would refuse is never queued: the summary says what to correct.
  if (Object.keys(errors).length || missing.length) return showStep("summary");
  if (Object.keys(warnings).length && !$("[data-confirm-warnings]").checked) {
    $("[data-confirm-needed]").hidden = false;
    $("[data-confirm-warnings]").focus();
    return;
  }
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
  // The phone keeps amounts in their answer's unit, and shows them so (a browser may have
  // restored another unit's choice).
  $$("select[data-unit-of]", form).forEach((select) => { select.selectedIndex = 0; });
  for (const [key, value] of Object.entries(item.answers || {})) if (spec[key]) setValue(key, value);
  applyConditions();
  showReviewerComment();
  if (!editable()) $$("input, select, textarea", form).forEach((e) => { e.disabled = true; });
  form.addEventListener("change", () => { applyConditions(); showChecks(); saveNow(); });
  form.addEventListener("input", (event) => {
    $$(`[data-server-error="${event.target.name}"]`, form).forEach((e) => e.remove());
    showChecks();
    scheduleSave();
  });
  document.addEventListener("visibilitychange", () => { if (document.hidden) saveBeforeLeaving(); });
  window.addEventListener("pagehide", saveBeforeLeaving);
  $("[data-confirm-warnings]").addEventListener("change", (event) => {
    if (event.target.checked) $("[data-confirm-needed]").hidden = true;
  });
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
  showChecks();
  showServerErrors();
  await renderPhotos();
  document.body.dataset.ready = "true";
}

start();
