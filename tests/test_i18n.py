"""coso.i18n's fast paths give exactly what Flask-Babel gives, in both languages."""

from __future__ import annotations

import re
from pathlib import Path

import flask_babel
import pytest
from babel.messages.pofile import read_po
from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st

from coso import i18n

CATALOGUE = Path(i18n.__file__).parent / "translations" / "vi" / "LC_MESSAGES" / "messages.po"
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _messages() -> list[str]:
    with CATALOGUE.open("rb") as handle:
        catalogue = read_po(handle)
    return [message.id for message in catalogue if message.id and isinstance(message.id, str)]


@pytest.mark.parametrize("language", ["vi", "en"])
def test_gettext_is_flask_babels(app: Flask, language: str) -> None:
    messages = _messages()
    assert len(messages) > 500
    with app.test_request_context("/"), flask_babel.force_locale(language):
        for message in messages:
            variables = {name: "X" for name in _PLACEHOLDER.findall(message)}
            assert i18n.gettext(message, **variables) == flask_babel.gettext(message, **variables)
        # The real thing, not an echo: Vietnamese is translated.
        if language == "vi":
            assert i18n.gettext("Low score") != "Low score"


def test_gettext_follows_a_locale_change_within_the_request(app: Flask) -> None:
    with app.test_request_context("/"):
        with flask_babel.force_locale("en"):
            assert i18n.gettext("Low score") == "Low score"
        with flask_babel.force_locale("vi"):
            assert i18n.gettext("Low score") == flask_babel.gettext("Low score") != "Low score"


def test_gettext_outside_a_request_is_untranslated() -> None:
    assert i18n.gettext("Low score") == "Low score"
    assert i18n.gettext("%(n)s overdue", n=3) == "3 overdue"


@settings(max_examples=300, deadline=None)
@given(
    value=st.one_of(
        st.integers(min_value=-(10**9), max_value=10**9),
        st.floats(min_value=-1e7, max_value=1e7, allow_nan=False),
        st.decimals(min_value=-1000, max_value=1000, places=3).map(float),
    ),
    digits=st.integers(min_value=0, max_value=2),
    language=st.sampled_from(["vi", "en"]),
)
def test_fmt_number_is_babels(value: float, digits: int, language: str) -> None:
    from coso import create_app

    # Built once: setdefault's argument would build a whole app for every example (32 s).
    app = _APP.get("app") or _APP.setdefault("app", create_app({"TESTING": True}))
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    with app.test_request_context("/"), flask_babel.force_locale(language):
        assert i18n.fmt_number(value, digits) == flask_babel.format_decimal(value, pattern)


_APP: dict[str, Flask] = {}


def test_no_message_is_translated_twice() -> None:
    """Entries appended by separate changes can repeat a msgid; the catalogue then keeps one of
    the two words silently (it happened: "Answer" had two)."""
    import collections
    import re
    from pathlib import Path

    po = Path(__file__).resolve().parent.parent / "coso/translations/vi/LC_MESSAGES/messages.po"
    seen: collections.Counter[tuple[str | None, str]] = collections.Counter()
    for entry in re.split(r"\n\s*\n", po.read_text(encoding="utf-8")):
        found = re.search(r'^msgid ((?:".*"\n?)+)', entry, re.M)
        if found is None:
            continue
        context = re.search(r'^msgctxt "(.*)"', entry, re.M)
        msgid = "".join(re.findall(r'"(.*)"', found.group(1)))
        if msgid:
            seen[(context.group(1) if context else None, msgid)] += 1
    assert [key for key, count in seen.items() if count > 1] == []
