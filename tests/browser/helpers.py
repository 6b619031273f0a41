"""Helpers for driving the app and the offline field app in Chromium."""

import io
import time

from PIL import Image

from tests.factories import PASSWORD
from village_survey import survey_fields as sf
from village_survey.surveys.forms import answers_to_formdata


def login(page, base, username="surveyor-a"):
    page.goto(f"{base}/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/")


def wait_until(page, expression, timeout=15.0):
    """Poll a JavaScript expression (page.wait_for_function would need 'unsafe-eval' in our CSP)."""
    deadline = time.monotonic() + timeout
    while True:
        value = page.evaluate(expression)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout}s: {expression}")
        time.sleep(0.1)


def wait_for_count(page, expected, timeout=20.0):
    """Wait until the outbox shows `expected` unsent surveys (on a page that has loaded them)."""
    wait_until(page, "document.body.dataset.ready === 'true' && "
                     f"document.querySelector('[data-outbox-count]').textContent === '{expected}'", timeout)


def open_app(page, base):
    """Open the field app and wait until its service worker controls the page."""
    page.goto(f"{base}/app/")
    page.wait_for_selector("body[data-ready]")
    wait_until(page, "navigator.serviceWorker.controller !== null")
    # The village list is on the phone once the page has shown it.
    wait_until(page, "document.querySelectorAll('#new-village option').length > 1")


def outbox_count(page):
    return int(page.locator("[data-outbox-count]").inner_text())


def start_survey(page, village_name, household=None):
    page.locator("#new-village").select_option(label=page.locator("#new-village option", has_text=village_name)
                                               .first.inner_text())
    if household:
        page.locator("#new-household").select_option(label=household)
    page.get_by_role("button", name="开始").click()
    page.wait_for_url("**/app/survey#*")
    page.wait_for_selector("body[data-ready]")


def fill_step(page, step, formdata):
    """Answer the visible questions of one step, as a person would (radios, selects, typing)."""
    for key in sf.keys_in_step(step):
        if key not in formdata or page.locator(f'[data-key="{key}"]').is_hidden():
            continue
        value = formdata[key]
        radio = page.locator(f'input[type=radio][name="{key}"][value="{value}"]')
        if radio.count():
            radio.check()
        elif page.locator(f'select[name="{key}"]').count():
            page.locator(f'select[name="{key}"]').select_option(value)
        else:
            page.locator(f'[name="{key}"]').fill(value)


def fill_survey(page, answers, submit=True):
    formdata = answers_to_formdata(answers)
    for step in sf.STEPS:
        fill_step(page, step, formdata)
        page.locator("[data-next]").click()
        # The next step shows once this one is saved on the phone.
        following = sf.STEPS[sf.STEPS.index(step) + 1] if step != sf.STEPS[-1] else "summary"
        page.wait_for_selector(f'section[data-step="{following}"]:not([hidden])')
    if submit:
        missing = page.locator("[data-missing]").inner_text().replace("\n", " ")
        assert page.locator("[data-submit]").is_enabled(), f"cannot submit: {missing}"
        page.locator("[data-submit]").click()
        page.wait_for_url("**/app/")
        page.wait_for_selector("body[data-ready]")


def jpeg_file(path, size=(3000, 2000)):
    image = Image.new("RGB", size, (120, 160, 90))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    path.write_bytes(buffer.getvalue())
    return path


def go_offline(context):
    """Cut the network for the pages and the service worker alike (set_offline alone may miss the worker)."""
    context.set_offline(True)
    context.route("**/*", lambda route: route.abort("internetdisconnected"))


def go_online(context):
    context.unroute("**/*")
    context.set_offline(False)


# Every response kept in the Cache Storage, JSON bodies parsed and written out again (jsonify
# escapes non-ASCII, so a name would not be found in the raw text).
CACHED_BODIES = """async () => {
  const found = [];
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    for (const request of await cache.keys()) {
      const text = await (await cache.match(request)).text();
      let body = text;
      try { body = JSON.stringify(JSON.parse(text)); } catch (error) { /* not JSON */ }
      found.push(`${name} ${request.url} ${body}`);
    }
  }
  return found;
}"""


def cached_bodies(page):
    return page.evaluate(CACHED_BODIES)


def remembered_session(page):
    """The field app's record of who uses the phone (IndexedDB vs-meta), and the pending-logout flag."""
    return page.evaluate("""() => new Promise((resolve, reject) => {
      const request = indexedDB.open("vs-meta", 1);
      request.onupgradeneeded = () => request.result.createObjectStore("kv");
      request.onerror = () => reject(request.error);
      request.onsuccess = () => {
        const meta = request.result;
        const kv = meta.transaction("kv").objectStore("kv");
        const session = kv.get("session"), pending = kv.get("logout_pending");
        kv.transaction.oncomplete = () => {
          meta.close();
          resolve({ session: session.result ?? null, logout_pending: Boolean(pending.result) });
        };
      };
    })""")


def message(page, key, **params):
    """A message of the field app as the page shows it, in the page's language: the translated
    text (from the page's i18n block) with its {placeholders} filled in."""
    text = page.evaluate("key => JSON.parse(document.getElementById('i18n').textContent)[key]", key)
    assert text, f"no message {key} on the page"
    for name, value in params.items():
        text = text.replace("{" + name + "}", str(value))
    return text


def accept_dialogs(page, seen=None):
    """Accept every confirm() of the page, keeping their texts in `seen` if given."""
    def accept(dialog):
        if seen is not None:
            seen.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)


def server_state_of(uuid):
    """The survey as the server holds it now (fresh from the database)."""
    from sqlalchemy import select

    from village_survey.extensions import db
    from village_survey.surveys.models import Survey

    db.session.expire_all()
    return db.session.scalars(select(Survey).where(Survey.uuid == uuid)).first()


def stored_survey(page, survey_uuid=None):
    """A survey as the phone's IndexedDB holds it (the open survey's when no UUID is given)."""
    return page.evaluate("""async (uuid) => {
      const read = (name, store, key) => new Promise((resolve, reject) => {
        const r = indexedDB.open(name);
        r.onerror = () => reject(r.error);
        r.onsuccess = () => {
          const g = r.result.transaction(store).objectStore(store).get(key);
          g.onsuccess = () => { r.result.close(); resolve(g.result); };
        };
      });
      const session = await read("vs-meta", "kv", "session");
      return read(`vs-user-${session.user.id}`, "surveys", uuid || location.hash.slice(1));
    }""", survey_uuid)


def dated_answers(number, name, year, **more):
    """Complete answers of a household surveyed on 2 January of `year`."""
    from tests.factories import complete_answers

    return complete_answers(house_number=number, head_name=name, survey_date=f"{year}-01-02", **more)
