"""The reasons an upload is refused, in words (Vietnamese first)."""

from __future__ import annotations

from flask_babel import gettext as _


def refusal(code: str) -> str:
    messages = {
        "empty": _("The photo is empty."),
        "too_large": _("The photo is larger than 5 MB."),
        "too_many_pixels": _("The photo has too many pixels."),
        "not_image": _("This file is not a JPEG, PNG or WebP photo."),
        "hash_mismatch": _("The photo's SHA-256 does not match its content."),
        "bad_address": _("The evaluation, item or hash in the address is not valid."),
        "forbidden": _("Your role may not send photos."),
    }
    return messages.get(code, code)
