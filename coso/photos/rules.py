"""What an uploaded photo must be: checked by decoding it, never by its name or header."""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass
from typing import Any

MAX_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 40_000_000  # a 1600 px phone photo has 2 M; a camera's original up to ~25 M
THUMB_EDGE = 320
FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
SHA256 = re.compile(r"^[0-9a-f]{64}$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
ITEM = re.compile(r"^[A-Za-z0-9_.-]{1,20}$")


class Refused(ValueError):
    """The upload is not a photo coso keeps; ``code`` names why, for the JSON answer."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Checked:
    content_type: str
    width: int
    height: int
    thumbnail: bytes


def check(body: bytes) -> Checked:
    """Decode ``body`` whole; refuse what is empty, too large, not JPEG/PNG/WebP, or a bomb."""
    from PIL import Image, UnidentifiedImageError  # loads only when a photo arrives

    if not body:
        raise Refused("empty")
    if len(body) > MAX_BYTES:
        raise Refused("too_large")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(body)) as probe:
                kind = probe.format
                width, height = probe.size
                if kind not in FORMATS:
                    raise Refused("not_image")
                if width * height > MAX_PIXELS:
                    raise Refused("too_many_pixels")
                probe.verify()  # the whole file, before any pixel is decoded
            with Image.open(io.BytesIO(body)) as image:
                image.load()  # a truncated file fails here
                thumbnail = _thumbnail(image)
    except Refused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise Refused("too_many_pixels") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise Refused("not_image") from None
    return Checked(FORMATS[kind], width, height, thumbnail)


def _thumbnail(image: Any) -> bytes:
    copy = image.convert("RGB")
    copy.thumbnail((THUMB_EDGE, THUMB_EDGE))
    out = io.BytesIO()
    copy.save(out, "JPEG", quality=80)
    return out.getvalue()
