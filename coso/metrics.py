"""``/metrics`` in Prometheus's text format, for an operator's scraper only.

What is counted: requests and their latency per endpoint, sync items by result (created,
duplicate, conflict, rejected), the database pool's connections (open, in use), the login
throttle's events (a wrong password counted, a sign-in refused with 429), and the notification
queue (pending and dead notices, the oldest pending one's age), read from the database at
scrape time.

Who may read it: addresses in ``COSO_METRICS_ALLOW`` (addresses or networks, comma-separated;
the address is the one ``COSO_TRUSTED_PROXIES`` makes believable, as for the login throttle),
or anyone sending ``Authorization: Bearer <COSO_METRICS_TOKEN>``. Anyone else gets 404 (a
wrong token 403). Under gunicorn each worker writes its figures into
``PROMETHEUS_MULTIPROC_DIR`` (gunicorn.conf.py sets it up) and a scrape reads them all.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import time
from collections.abc import Iterable, Iterator
from datetime import UTC
from typing import Any

from flask import Blueprint, Flask, Response, abort, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import event, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import Pool

from coso import clock
from coso.extensions import db
from coso.models import Notification
from coso.notifications import rules

log = logging.getLogger(__name__)

if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # a directory not made yet must not stop a start
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

REQUESTS = Counter(
    "coso_http_requests_total",
    "HTTP requests answered, by endpoint, method and status.",
    ["endpoint", "method", "status"],
)
LATENCY = Histogram(
    "coso_http_request_duration_seconds",
    "Time to answer a request, by endpoint and method.",
    ["endpoint", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
SYNC_ITEMS = Counter(
    "coso_sync_items_total",
    "Evaluations received by POST /api/v1/sync, by result.",
    ["result"],
)
LOGIN_THROTTLE = Counter(
    "coso_login_throttle_events_total",
    "Login throttle events: a wrong password counted (failed), a sign-in refused (throttled).",
    ["event"],
)
DB_OPEN = Gauge(
    "coso_db_connections_open",
    "Database connections the pools hold open.",
    multiprocess_mode="livesum",
)
DB_IN_USE = Gauge(
    "coso_db_connections_in_use",
    "Database connections checked out of the pools (serving a request).",
    multiprocess_mode="livesum",
)

_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
SYNC_RESULTS = ("created", "duplicate", "conflict", "rejected")

bp = Blueprint("metrics", __name__)


def count_sync(statuses: Iterable[str]) -> None:
    """Count a sync batch's answers (called by coso.sync.views)."""
    for status in statuses:
        SYNC_ITEMS.labels(result=status if status in SYNC_RESULTS else "other").inc()


def start_timer() -> None:
    g.metrics_started = time.perf_counter()


def observe(response: Response) -> Response:
    """Count the request and its latency; the login throttle's events."""
    started = g.get("metrics_started")
    endpoint = request.endpoint or "none"  # an unmatched URL is not a label of its own
    method = request.method if request.method in _METHODS else "other"
    REQUESTS.labels(endpoint=endpoint, method=method, status=str(response.status_code)).inc()
    if started is not None:
        LATENCY.labels(endpoint=endpoint, method=method).observe(time.perf_counter() - started)
    if endpoint == "auth.login" and method == "POST":
        if g.get("login_failed"):
            LOGIN_THROTTLE.labels(event="failed").inc()
        if response.status_code == 429:
            LOGIN_THROTTLE.labels(event="throttled").inc()
    return response


# ------------------------------------------------------------------ the pool


def _opened(*_: Any) -> None:
    DB_OPEN.inc()


def _closed(*_: Any) -> None:
    DB_OPEN.dec()


def _checked_out(*_: Any) -> None:
    DB_IN_USE.inc()


def _checked_in(*_: Any) -> None:
    DB_IN_USE.dec()


def watch_pools() -> None:
    """Follow every pool's connections (idempotent)."""
    for name, listener in (
        ("connect", _opened),
        ("close", _closed),
        ("close_detached", _closed),
        ("checkout", _checked_out),
        ("checkin", _checked_in),
    ):
        if not event.contains(Pool, name, listener):
            event.listen(Pool, name, listener)


# ------------------------------------------------------------------ the notification queue


class NotificationQueue(Collector):
    """The outbox as the database has it at scrape time (the same for every worker, so read
    once per scrape, not summed): notices pending (some channel has not delivered yet) and
    dead (given up), and the age of the oldest pending one. Two small queries on
    ``ix_notification_due`` (state first); nothing when the database does not answer."""

    def collect(self) -> Iterator[Metric]:
        try:
            counts: dict[str, int] = {
                state: count
                for state, count in db.session.execute(
                    select(Notification.state, func.count())
                    .where(Notification.state.in_((rules.PENDING, rules.DEAD)))
                    .group_by(Notification.state)
                )
            }
            oldest = db.session.scalar(
                select(func.min(Notification.created_at)).where(Notification.state == rules.PENDING)
            )
        except SQLAlchemyError:
            log.warning("metrics: the notification queue could not be read", exc_info=True)
            db.session.rollback()
            return
        depth = GaugeMetricFamily(
            "coso_notification_queue_depth",
            "Notices not yet delivered on every channel (pending), and given up (dead).",
            labels=["state"],
        )
        for state in (rules.PENDING, rules.DEAD):
            depth.add_metric([state], counts.get(state, 0))
        yield depth
        age = 0.0
        if oldest is not None:
            if oldest.tzinfo is None:  # SQLite hands back naive UTC
                oldest = oldest.replace(tzinfo=UTC)
            # The clock the outbox is written with (the pinned day outside production).
            now = clock.now()
            age = max(0.0, (now - oldest).total_seconds())
        yield GaugeMetricFamily(
            "coso_notification_queue_age_seconds",
            "Seconds since the oldest pending notice was created (0 when none is pending).",
            value=age,
        )


class _Global(Collector):
    """This process's own figures (outside gunicorn's multiprocess mode)."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


# ------------------------------------------------------------------ access


def parse_networks(value: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """``COSO_METRICS_ALLOW``: addresses or networks, comma-separated; a bad one stops start-up."""
    networks = []
    for part in (p.strip() for p in value.split(",")):
        if part:
            try:
                networks.append(ipaddress.ip_network(part, strict=False))
            except ValueError as exc:
                raise RuntimeError(f"COSO_METRICS_ALLOW: {part!r} is not an address") from exc
    return networks


def _address_allowed() -> bool:
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    networks = current_app.extensions["coso_metrics_allow"]
    return any(address in network for network in networks)


def check_access() -> None:
    """A right token, or an allowed address; else 403 (wrong token) or 404."""
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        token = current_app.config.get("METRICS_TOKEN") or ""
        given = header[7:].strip()
        if token and hmac.compare_digest(given.encode(), token.encode()):
            return
        abort(403)
    if not _address_allowed():
        abort(404)


@bp.get("/metrics")
def scrape() -> Response:
    """Every worker's figures (multiprocess mode) or this process's, and the queue's."""
    check_access()
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry.register(_Global())
    registry.register(NotificationQueue())
    response = Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
    response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    app.extensions["coso_metrics_allow"] = parse_networks(app.config.get("METRICS_ALLOW", ""))
    watch_pools()
    app.before_request(start_timer)
    app.after_request(observe)
    app.register_blueprint(bp)
