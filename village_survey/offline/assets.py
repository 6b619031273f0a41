"""The offline field app's files, all derived from its modules, and the app's version.

One source: the modules in static/js/app/. Scanning them gives their imports (`import … from
"./x.js"`, `export … from "./x.js"`, `import "./x.js"`) and the translation keys they use
(`t("key")`). From that graph come
- each page's modulepreload list: every module its entry module needs, directly or not;
- the service worker's precache list: the pages, SHELL_FILES, the pages' entry modules and
  every module they or the worker need (a module reached online is there offline too);
- each page's translation keys: those of its entry module and of every module it needs
  (`page_messages` translates them through offline/messages.py).
The files do not change while the app runs: the derivation is made once per process and folder.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Mapping

from village_survey import survey_fields as sf

APP_MODULES = "js/app"
# The field app's pages and the module each one loads.
PAGES: Mapping[str, str] = {"/app/": "home.js", "/app/survey": "survey.js"}
# What the pages need besides the modules (static files).
SHELL_FILES = ("css/app.css", "img/icon.svg", "img/icon-192.png", "img/icon-512.png", "manifest.webmanifest")
# The service worker: a template, so that it carries the version and the precache list.
WORKER_TEMPLATE = "offline/sw.js"

# A static import or re-export of a sibling module, at the start of a line (so not in a comment).
_IMPORT = re.compile(r"""^[ \t]*(?:import|export)\b(?:[^;"'`]*?\bfrom)?\s*(["'])\./([\w.-]+\.js)\1""", re.M)
# The worker imports the modules by their URL.
_WORKER_IMPORT = re.compile(r"""^[ \t]*import\b[^;"'`]*?\bfrom\s*(["'])/static/js/app/([\w.-]+\.js)\1""", re.M)
_DYNAMIC_IMPORT = re.compile(r"(?<![\w$.])import\s*\(")
# t("key"), t('key'), t(`key`); any other call of t (a key built at run time) cannot be scanned.
_KEY = re.compile(r"""(?<![\w$.])t\(\s*(["'`])([\w.-]+)\1""")
_CALL = re.compile(r"""(?<![\w$.])(?<!function )t\(""")


@dataclass(frozen=True)
class Module:
    """One module of the field app as scanned: the sibling modules it imports, the translation
    keys it uses, and what the scan could not follow (dynamic imports, keys built at run time)."""

    name: str
    imports: tuple[str, ...]
    keys: tuple[str, ...]
    unscannable: tuple[str, ...]


def scan_module(name: str, text: str) -> Module:
    imports = tuple(dict.fromkeys(m.group(2) for m in _IMPORT.finditer(text)))
    keys = tuple(dict.fromkeys(m.group(2) for m in _KEY.finditer(text)))
    literal = {m.start() for m in _KEY.finditer(text)}
    unscannable = [_line(text, m.start()) for m in _CALL.finditer(text) if m.start() not in literal]
    unscannable += [_line(text, m.start()) for m in _DYNAMIC_IMPORT.finditer(text)]
    return Module(name, imports, keys, tuple(unscannable))


def _line(text: str, at: int) -> str:
    start = text.rfind("\n", 0, at) + 1
    end = text.find("\n", at)
    return text[start:end if end >= 0 else len(text)].strip()


def scan(folder) -> dict[str, Module]:
    """Every module (*.js) in `folder`, by file name."""
    return {path.name: scan_module(path.name, path.read_text(encoding="utf-8"))
            for path in sorted(Path(folder).glob("*.js"))}


def needed(modules: Mapping[str, Module], entry: str) -> tuple[str, ...]:
    """The modules that `entry` needs, directly or not, in the order first met (the entry itself
    not included). An import of a module that is not in the folder raises LookupError."""
    found: list[str] = []

    def visit(name: str, by: str | None) -> None:
        if name not in modules:
            raise LookupError(f"{by or 'the app'} imports {name}, which is not in {APP_MODULES}/")
        for imported in modules[name].imports:
            if imported != entry and imported not in found:
                found.append(imported)
                visit(imported, name)

    visit(entry, None)
    return tuple(found)


@dataclass(frozen=True)
class FieldApp:
    modules: Mapping[str, Module]
    preloads: Mapping[str, tuple[str, ...]]  # entry module -> what its page announces
    keys: Mapping[str, tuple[str, ...]]  # entry module -> the translation keys its page needs
    worker_imports: tuple[str, ...]
    precache_modules: tuple[str, ...]

    @property
    def precache_static(self) -> tuple[str, ...]:
        """The static files the service worker precaches, relative to the static folder."""
        return SHELL_FILES + tuple(f"{APP_MODULES}/{name}" for name in self.precache_modules)


def derive(static_folder, worker_text: str = "", pages: Mapping[str, str] = PAGES) -> FieldApp:
    modules = scan(Path(static_folder) / APP_MODULES)
    preloads = {entry: needed(modules, entry) for entry in pages.values()}
    keys = {entry: tuple(sorted({key for name in (entry, *preloads[entry]) for key in modules[name].keys}))
            for entry in pages.values()}
    worker_imports = tuple(dict.fromkeys(m.group(2) for m in _WORKER_IMPORT.finditer(worker_text)))
    precache: list[str] = []
    for entry in (*pages.values(), *worker_imports):
        for name in (entry, *needed(modules, entry)):
            if name not in precache:
                precache.append(name)
    return FieldApp(modules, preloads, keys, worker_imports, tuple(precache))


@lru_cache(maxsize=None)
def field_app(static_folder: str, template_folder: str) -> FieldApp:
    """The derivation for an app's folders, once per process (the files do not change at run time)."""
    worker = Path(template_folder) / WORKER_TEMPLATE
    return derive(static_folder, worker.read_text(encoding="utf-8") if worker.is_file() else "")


def for_app(app) -> FieldApp:
    return field_app(str(app.static_folder), str(Path(app.root_path) / app.template_folder))


def asset_version(app):
    """Changes whenever a precached file, a template of the shell (or a macro it imports), the
    scripts' msgids, the data dictionary the phone checks answers with, or the form version changes."""
    override = app.config.get("ASSET_VERSION")
    if override:
        return override
    digest = hashlib.sha256(f"form-{sf.FORM_VERSION}".encode())
    digest.update(json.dumps(sf.as_data(), sort_keys=True, default=str).encode())
    root = Path(app.root_path).parent
    files = [Path(app.static_folder) / name for name in for_app(app).precache_static]
    files += sorted((root / "templates" / "offline").glob("*"))
    files.append(root / "templates" / "surveys" / "macros.html")  # the phone's form fields
    files.append(Path(__file__).with_name("messages.py"))  # the scripts' msgids
    files += sorted((root / "translations").glob("*/LC_MESSAGES/messages.po"))
    for path in files:
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]
