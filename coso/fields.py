"""Fields, messages and error shapes every schema shares (forms, spreadsheet rows and the API).

Forms post strings; :func:`form_data` turns empty fields into ``None`` and ticked
boxes into booleans before a schema loads them, so one schema can also validate
rows of an imported spreadsheet. Messages are lazy, so they come out in the
language of the request that shows them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from fractions import Fraction
from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, fields, validate

from coso.dates import MAX_YEAR as MAX_YEAR
from coso.dates import MIN_YEAR as MIN_YEAR
from coso.dates import OutOfRange as OutOfRange
from coso.dates import parse_day as parse_day
from coso.dates import parse_month as parse_month
from coso.dates import parse_stamp as parse_stamp


def msgs(**extra: Any) -> dict[str, Any]:
    """Error messages of a field, in the user's language."""
    messages = {
        "required": _l("This field is required."),
        "null": _l("This field is required."),
        "invalid": _l("This value is not valid."),
        "type": _l("This value is not valid."),
    }
    messages.update(extra)
    return messages


def text(max_length: int, *, required: bool = False) -> fields.String:
    """A text field of at most ``max_length`` characters (empty is ``None`` when optional)."""
    length = validate.Length(
        min=1 if required else 0,
        max=max_length,
        error=_l("Enter at most %(n)s characters.", n=max_length),
    )
    if required:
        return fields.String(required=True, error_messages=msgs(), validate=length)
    return fields.String(load_default=None, allow_none=True, error_messages=msgs(), validate=length)


def matching(pattern: str, message: Any, *, required: bool = True) -> fields.String:
    """A text field that must match ``pattern`` (a code, a user name), saying ``message``."""
    return fields.String(
        required=required,
        error_messages=msgs(),
        validate=validate.Regexp(pattern, error=message),
    )


def form_data(
    form: Mapping[str, Any], names: Iterable[str], checkboxes: Iterable[str] = ()
) -> dict[str, Any]:
    """The named fields of a form, stripped; empty ones become ``None``, boxes become booleans."""
    data: dict[str, Any] = {}
    for name in names:
        value = form.get(name)
        if isinstance(value, str):
            value = value.strip()
        data[name] = value if value not in ("", None) else None
    for name in checkboxes:
        data[name] = form.get(name) not in (None, "", "0", "false")
    return data


class LocalFloat(fields.Float):
    """A number written either way: ``72.5`` or, as Vietnamese writes it, ``72,5``."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, str):
            value = value.strip().replace(",", ".")
        return super()._deserialize(value, attr, data, **kwargs)


class Share(fields.Field):
    """A share from 0 to 1, written as ``2/3``, ``0.5``, ``0,5`` or ``50%``."""

    default_error_messages = {"invalid": _l("Write a fraction (2/3), a decimal (0,5) or a %.")}

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> float:
        if isinstance(value, bool):
            raise self.make_error("invalid")
        if isinstance(value, int | float):
            return float(value)
        text = str(value).strip().replace(" ", "").replace(",", ".")
        try:
            if text.endswith("%"):
                return float(Fraction(text[:-1]) / 100)
            return float(Fraction(text))
        except (ValueError, ZeroDivisionError, OverflowError):
            raise self.make_error("invalid") from None

    def _serialize(self, value: Any, attr: Any, obj: Any, **kwargs: Any) -> Any:
        return value


def share_text(value: float) -> str:
    """A share as a person writes it: ``2/3`` when it is a simple fraction, else a decimal."""
    fraction = Fraction(value).limit_denominator(12)
    if abs(float(fraction) - value) < 1e-9 and fraction.denominator != 1:
        return f"{fraction.numerator}/{fraction.denominator}"
    return f"{value:g}".replace(".", ",")


def squash(text_value: str) -> str:
    """Collapse runs of whitespace (names pasted from documents carry odd spaces)."""
    return re.sub(r"\s+", " ", text_value).strip()


def no_nul(value: str) -> None:
    """Refuse NUL (PostgreSQL cannot store it; nobody types it) and other unstorable text."""
    if isinstance(value, str) and not is_storable(value):
        raise ValidationError([_l("This text contains a character that is not allowed.")])


def is_storable(value: str) -> bool:
    """Whether both databases can store ``value``: no NUL and valid Unicode (UTF-8).

    JSON may carry a lone surrogate (``"\\ud800"``): Python decodes it into a ``str``
    that no UTF-8 codec encodes, so the database driver fails on it — a 500 for the
    whole batch before this check existed (issue 17, item 6).
    """
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def storable(value: str) -> None:
    """A validator: refuse text that cannot be stored (NUL, lone surrogates), as a field error."""
    if isinstance(value, str) and not is_storable(value):
        raise ValidationError([_l("This text contains a character that is not allowed.")])


# ------------------------------------------------------------ dates and times
# The strict parsers live in coso.dates (pure: the dashboard's rules use them too);
# here they are the fields' and the forms' one way to read a date.


def _date_messages() -> dict[str, Any]:
    return msgs(
        range=_l("Enter a date from the year %(a)s to %(b)s.", a=MIN_YEAR, b=MAX_YEAR),
        invalid=_l("Enter a date as dd/mm/yyyy."),
    )


class Day(fields.Date):
    """A date field that takes only ``YYYY-MM-DD`` within ``MIN_YEAR``..``MAX_YEAR``."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["error_messages"] = {**_date_messages(), **kwargs.get("error_messages", {})}
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> date:
        if not isinstance(value, str):
            raise self.make_error("invalid")
        try:
            return parse_day(value)
        except OutOfRange:
            raise self.make_error("range") from None
        except ValueError:
            raise self.make_error("invalid") from None


class Stamp(fields.AwareDateTime):
    """A date-and-time field read by :func:`parse_stamp` (aware; UTC when no offset is given)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["error_messages"] = {
            **_date_messages(),
            "invalid": _l("This value is not valid."),
            **kwargs.get("error_messages", {}),
        }
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> datetime:
        if not isinstance(value, str):
            raise self.make_error("invalid")
        try:
            return parse_stamp(value, self.default_timezone or UTC)
        except OutOfRange:
            raise self.make_error("range") from None
        except ValueError:
            raise self.make_error("invalid") from None


def plain_errors(errors: Any) -> Any:
    """Errors as ``{field: [message, ...]}`` with plain strings (lazy translations resolved).

    marshmallow keeps a lone lazy message unwrapped, so every leaf becomes a list.
    """
    if isinstance(errors, dict):
        return {str(key): plain_errors(value) for key, value in errors.items()}
    if isinstance(errors, list | tuple):
        out: list[Any] = []
        for value in errors:
            out.extend(plain_errors(value) if isinstance(value, list | tuple) else [str(value)])
        return out
    return [str(errors)]
