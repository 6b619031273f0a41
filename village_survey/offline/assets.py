"""The version of the offline app: a fingerprint of every file the service worker precaches."""

import hashlib
import json
import re
from pathlib import Path

from village_survey import survey_fields as sf

# Pages and files a phone needs to survey with no signal, after one online visit.
SHELL_PAGES = ("/app/", "/app/survey")
SHELL_STATIC = (
    "css/app.css",
    "js/app/store.js",
    "js/app/outbox.js",
    "js/app/session.js",
    "js/app/photos.js",
    "js/app/home.js",
    "js/app/survey.js",
    "js/app/checks.js",
    "js/app/i18n.js",
    "img/icon.svg",
    "img/icon-192.png",
    "img/icon-512.png",
    "manifest.webmanifest",
)


def asset_version(app):
    """Changes whenever a precached file, a template of the shell (or a macro it imports), the
    data dictionary the phone checks answers with, or the form version changes."""
    override = app.config.get("ASSET_VERSION")
    if override:
        return override
    digest = hashlib.sha256(f"form-{sf.FORM_VERSION}".encode())
    digest.update(json.dumps(sf.as_data(), sort_keys=True, default=str).encode())
    root = Path(app.root_path).parent
    files = [Path(app.static_folder) / name for name in SHELL_STATIC]
    files += sorted((root / "templates" / "offline").glob("*"))
    files.append(root / "templates" / "surveys" / "macros.html")  # the phone's form fields
    files += sorted((root / "translations").glob("*/LC_MESSAGES/messages.po"))
    for path in files:
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


APP_MODULES = "js/app"
_IMPORT = re.compile(r'^import\s[^;]*?\sfrom\s+"\./([\w-]+\.js)"', re.MULTILINE)


def imported_modules(static_folder, entry):
    """The app modules that the module `entry` needs, directly or not, in the order first met:
    the page announces them (modulepreload) so that a slow network fetches them together."""
    found = []

    def visit(name):
        text = (Path(static_folder) / APP_MODULES / name).read_text(encoding="utf-8")
        for needed in _IMPORT.findall(text):
            if needed not in found and needed != entry:
                found.append(needed)
                visit(needed)

    visit(entry)
    return found
