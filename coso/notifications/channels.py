"""The channels a notice goes out by, behind one small interface.

A channel says whether it is configured, where a user is reached, and sends one notice or
a day's digest; it raises :class:`DeliveryError` when the try failed and may succeed later
(the worker then retries with backoff). An SMS or Zalo gateway is one more class here
and one more entry in :func:`channels`.
"""

from __future__ import annotations

import email.policy
import smtplib
import ssl
from collections.abc import Sequence
from datetime import date
from email.message import EmailMessage
from email.utils import formataddr
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

from flask import current_app, render_template, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer

from coso.i18n import fmt_date
from coso.models import Notification, User
from coso.notifications import queries, words

UNSUBSCRIBE_SALT = "coso.notifications.unsubscribe"


class DeliveryError(Exception):
    """A try that failed and may succeed later (server down, refused for now)."""


class Channel(Protocol):
    """One way of telling a user. ``preferences``: whether the user's choice per kind
    (immediate, digest, off) applies; the in-app centre always shows everything."""

    name: str
    preferences: bool

    def available(self) -> bool: ...

    def address(self, user: User) -> str | None: ...

    def send(self, notification: Notification, user: User, address: str) -> None: ...

    def send_digest(
        self, user: User, address: str, notifications: Sequence[Notification], day: date
    ) -> None: ...


class InApp:
    """The notification centre: delivering is recording the delivery (the bell counts it)."""

    name = queries.IN_APP
    preferences = False

    def available(self) -> bool:
        return True

    def address(self, user: User) -> str | None:
        return str(user.id)

    def send(self, notification: Notification, user: User, address: str) -> None:
        return None

    def send_digest(
        self, user: User, address: str, notifications: Sequence[Notification], day: date
    ) -> None:
        return None


# ------------------------------------------------------------------ email


def smtp_settings(config: Any) -> dict[str, Any] | None:
    """The SMTP server from ``COSO_SMTP_URL`` (``smtp://user:pass@host:port``, ``smtps://``
    for TLS from the start, ``?starttls=1`` to upgrade) or the usual ``MAIL_SERVER``,
    ``MAIL_PORT``, ``MAIL_USERNAME``, ``MAIL_PASSWORD``, ``MAIL_USE_TLS``, ``MAIL_USE_SSL``;
    None when neither is set (email is then off)."""
    url = (config.get("COSO_SMTP_URL") or "").strip()
    if url:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            return None
        secure = parts.scheme == "smtps"
        return {
            "host": parts.hostname,
            "port": parts.port or (465 if secure else 25),
            "username": unquote(parts.username) if parts.username else None,
            "password": unquote(parts.password) if parts.password else None,
            "ssl": secure,
            "starttls": "starttls=1" in (parts.query or ""),
        }
    host = (config.get("MAIL_SERVER") or "").strip()
    if not host:
        return None
    flag = lambda key: str(config.get(key) or "").lower() in ("1", "true", "yes")  # noqa: E731
    return {
        "host": host,
        "port": int(config.get("MAIL_PORT") or (465 if flag("MAIL_USE_SSL") else 25)),
        "username": config.get("MAIL_USERNAME") or None,
        "password": config.get("MAIL_PASSWORD") or None,
        "ssl": flag("MAIL_USE_SSL"),
        "starttls": flag("MAIL_USE_TLS"),
    }


def unsubscribe_token(user_id: int, kinds: Sequence[str]) -> str:
    """A signed token that turns these kinds off by email for this user, and nothing else."""
    serializer = URLSafeSerializer(current_app.config["SECRET_KEY"], salt=UNSUBSCRIBE_SALT)
    return str(serializer.dumps({"u": user_id, "k": sorted(set(kinds))}))


def read_unsubscribe_token(token: str) -> tuple[int, list[str]] | None:
    """The user and kinds of a token; None when it is not one of ours (or was altered)."""
    serializer = URLSafeSerializer(current_app.config["SECRET_KEY"], salt=UNSUBSCRIBE_SALT)
    try:
        data = serializer.loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    if not isinstance(data, dict):
        return None
    user_id, kinds = data.get("u"), data.get("k")
    if not isinstance(user_id, int) or not isinstance(kinds, list):
        return None
    if not kinds or not all(isinstance(kind, str) for kind in kinds):
        return None
    return user_id, kinds


class Email:
    """Mail over SMTP, in the recipient's language, with a one-click unsubscribe."""

    name = "email"
    preferences = True

    def __init__(self, settings: dict[str, Any] | None) -> None:
        self.settings = settings

    def available(self) -> bool:
        return self.settings is not None

    def address(self, user: User) -> str | None:
        return queries.email_of(user.id)

    def send(self, notification: Notification, user: User, address: str) -> None:
        with force_locale(user.locale or "vi"):
            text = words.message(notification)
            message = self._message(
                user,
                address,
                subject=f"coso: {words.kind_label(notification.kind)}",
                body=render_template(
                    "notifications/mail.txt",
                    user=user,
                    items=[(notification, text, words.link(notification, external=True))],
                    unsubscribe=self._unsubscribe_links(user, [notification.kind]),
                    digest=None,
                ),
                kinds=[notification.kind],
                message_id=f"notification-{notification.id}",
            )
        self._deliver(message)

    def send_digest(
        self, user: User, address: str, notifications: Sequence[Notification], day: date
    ) -> None:
        kinds = sorted({n.kind for n in notifications})
        with force_locale(user.locale or "vi"):
            items = [(n, words.message(n), words.link(n, external=True)) for n in notifications]
            message = self._message(
                user,
                address,
                subject=_("coso: your digest of %(day)s", day=fmt_date(day)),
                body=render_template(
                    "notifications/mail.txt",
                    user=user,
                    items=items,
                    unsubscribe=self._unsubscribe_links(user, kinds),
                    digest=day,
                ),
                kinds=kinds,
                message_id=f"digest-{user.id}-{day.isoformat()}",
            )
        self._deliver(message)

    def _unsubscribe_links(self, user: User, kinds: Sequence[str]) -> list[tuple[str, str]]:
        return [
            (
                words.kind_label(kind),
                url_for(
                    "notifications.unsubscribe",
                    token=unsubscribe_token(user.id, [kind]),
                    _external=True,
                ),
            )
            for kind in kinds
        ]

    def _message(
        self,
        user: User,
        address: str,
        *,
        subject: str,
        body: str,
        kinds: Sequence[str],
        message_id: str,
    ) -> EmailMessage:
        config = current_app.config
        sender = config.get("COSO_MAIL_FROM") or config.get("MAIL_DEFAULT_SENDER") or ""
        host = urlsplit(url_for("home.index", _external=True)).hostname or "coso.local"
        # Long headers stay whole: a folded List-Unsubscribe URL becomes an encoded word that
        # mail readers do not follow.
        message = EmailMessage(policy=email.policy.SMTP.clone(max_line_length=998))
        message["Subject"] = subject
        message["From"] = sender or formataddr(("coso", f"noreply@{host}"))
        message["To"] = formataddr((user.display_name, address))
        # The same notice keeps the same id on a retry: a mail reader shows a repeat once.
        message["Message-ID"] = f"<coso.{message_id}@{host}>"
        one_click = url_for(
            "notifications.unsubscribe", token=unsubscribe_token(user.id, kinds), _external=True
        )
        message["List-Unsubscribe"] = f"<{one_click}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(body)
        return message

    def _deliver(self, message: EmailMessage) -> None:
        settings = self.settings
        assert settings is not None
        timeout = float(current_app.config.get("COSO_SMTP_TIMEOUT", 20))
        try:
            if settings["ssl"]:
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    settings["host"],
                    settings["port"],
                    timeout=timeout,
                    context=ssl.create_default_context(),
                )
            else:
                smtp = smtplib.SMTP(settings["host"], settings["port"], timeout=timeout)
            with smtp:
                if settings["starttls"]:
                    smtp.starttls(context=ssl.create_default_context())
                if settings["username"]:
                    smtp.login(settings["username"], settings["password"] or "")
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(f"{type(exc).__name__}: {exc}"[:480]) from exc


def channels() -> list[Channel]:
    """Every channel, the in-app one first (it never fails, so a notice shows at once)."""
    return [InApp(), Email(smtp_settings(current_app.config))]


def email_enabled() -> bool:
    return smtp_settings(current_app.config) is not None
