"""Uploaded import files kept on the server between the dry run and the confirmation: under a
random token in the instance folder (not in the session cookie, which is small and readable by
the browser), for one user, for a limited time."""

from __future__ import annotations

import json
import os
import re
import secrets
import time
from dataclasses import dataclass

from flask import current_app

TOKEN = re.compile(r"^[A-Za-z0-9_-]{32}$")


@dataclass(frozen=True)
class Upload:
    token: str
    user_id: int
    kind: str
    filename: str
    saved_at: float
    data: bytes


def folder():
    path = current_app.config.get("IMPORT_FOLDER") or os.path.join(current_app.instance_path, "imports")
    os.makedirs(path, exist_ok=True)
    return path


def _paths(token):
    base = os.path.join(folder(), token)
    return base + ".data", base + ".json"


def _lifetime():
    return current_app.config["IMPORT_UPLOAD_MINUTES"] * 60


def save(user_id, kind, filename, data, now=None) -> str:
    """Keep the upload; its token. Expired uploads are removed on the way."""
    now = now or time.time()
    purge(now)
    token = secrets.token_urlsafe(24)
    data_path, meta_path = _paths(token)
    with open(data_path, "wb") as out:
        out.write(data)
    with open(meta_path, "w", encoding="utf-8") as out:
        json.dump({"user_id": user_id, "kind": kind, "filename": filename, "saved_at": now}, out)
    return token


def load(token, user_id, now=None) -> Upload | None:
    """The upload of this token if it is this user's and has not expired; None otherwise."""
    if not isinstance(token, str) or not TOKEN.match(token):
        return None
    data_path, meta_path = _paths(token)
    try:
        with open(meta_path, encoding="utf-8") as source:
            meta = json.load(source)
        with open(data_path, "rb") as source:
            data = source.read()
    except (OSError, ValueError):
        return None
    if meta.get("user_id") != user_id:
        return None
    if (now or time.time()) - meta.get("saved_at", 0) > _lifetime():
        discard(token)
        return None
    return Upload(token, user_id, meta["kind"], meta.get("filename") or "", meta["saved_at"], data)


def discard(token):
    if not TOKEN.match(token or ""):
        return
    for path in _paths(token):
        try:
            os.remove(path)
        except OSError:
            pass


def purge(now=None):
    """Remove the uploads older than their lifetime."""
    now = now or time.time()
    base = folder()
    for name in os.listdir(base):
        path = os.path.join(base, name)
        try:
            if now - os.path.getmtime(path) > _lifetime():
                os.remove(path)
        except OSError:
            pass
