"""Where photo bytes live: one small interface, a local directory by default.

``COSO_MEDIA_DIR`` (shareable between hosts) or ``<instance>/media``. Files are named by
their content hash, so two hosts writing the same photo write the same bytes.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Protocol

from flask import current_app


class Storage(Protocol):
    def put(self, key: str, data: bytes) -> None: ...
    def get(self, key: str) -> bytes | None: ...
    def delete(self, key: str) -> None: ...


class LocalStorage:
    """Files under ``root``; a write goes to a temporary file renamed into place."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / "photos" / key[:2] / key

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        if path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".up-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            return None

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


def media_root() -> Path:
    configured = current_app.config.get("MEDIA_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "media"


def storage() -> Storage:
    return LocalStorage(media_root())


def original_key(sha256: str) -> str:
    return sha256


def thumbnail_key(sha256: str) -> str:
    return f"{sha256}.thumb.jpg"
