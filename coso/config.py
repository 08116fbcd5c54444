"""Configuration: plain data read from the environment, nothing else."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

ENVIRONMENTS = ("development", "production", "testing")


def _instance_secret(instance_path: Path) -> str:
    """Return a secret key kept in ``instance/secret_key``, generating it once.

    Only for local use: production must set ``SECRET_KEY`` so that every
    process behind the load balancer signs sessions with the same key.
    """
    path = instance_path / "secret_key"
    if not path.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _positive_int(text: str) -> int | None:
    """An optional whole number of days from the environment; anything else stops the start."""
    text = text.strip()
    if not text:
        return None
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"COSO_PHOTO_KEEP_DAYS must be a whole number of days, not {text!r}")
    return int(text)


def _database_url(instance_path: Path) -> str:
    """``DATABASE_URL`` with the psycopg 3 driver, or a SQLite file in instance/."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        return f"sqlite:///{instance_path / 'coso.sqlite'}"
    # Hosting platforms hand out postgres:// URLs; SQLAlchemy wants the driver named.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def from_environment(instance_path: Path) -> dict[str, Any]:
    """Build the config mapping from the process environment."""
    env = os.environ.get("COSO_ENV", "development").strip() or "development"
    if env not in ENVIRONMENTS:
        raise RuntimeError(f"COSO_ENV must be one of {', '.join(ENVIRONMENTS)}, not {env!r}")
    secret = os.environ.get("SECRET_KEY", "").strip()
    if not secret:
        if env == "production":
            raise RuntimeError("SECRET_KEY must be set when COSO_ENV=production")
        secret = _instance_secret(instance_path)
    secure_cookies = os.environ.get(
        "COSO_SECURE_COOKIES", "1" if env == "production" else "0"
    ).lower() in ("1", "true", "yes")
    redis_url = os.environ.get("REDIS_URL", "").strip()
    pinned_today = os.environ.get("COSO_TODAY", "").strip() if env != "production" else ""
    database_url = _database_url(instance_path)
    idle_days = int(os.environ.get("COSO_SESSION_IDLE_DAYS", "60") or 60)
    return {
        "COSO_TODAY": pinned_today or None,
        "COSO_ENV": env,
        "SECRET_KEY": secret,
        "SQLALCHEMY_DATABASE_URI": database_url,
        # A server's connections can drop between requests; a SQLite file's cannot.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": not database_url.startswith("sqlite")},
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": secure_cookies,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": secure_cookies,
        "PERMANENT_SESSION_LIFETIME": 60 * 60 * 24 * 14,
        # Sync bodies hold at most 100 evaluations of a few KB each.
        "MAX_CONTENT_LENGTH": int(os.environ.get("COSO_MAX_CONTENT_LENGTH", 2 * 1024 * 1024)),
        "WTF_CSRF_TIME_LIMIT": None,  # a checklist can stay open through a long meeting
        "WTF_CSRF_SSL_STRICT": secure_cookies,
        "BABEL_DEFAULT_LOCALE": "vi",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Ho_Chi_Minh",
        "LANGUAGES": ("vi", "en"),
        "REDIS_URL": redis_url,
        # Files the app keeps beside the database (backed up with it); None: none kept.
        "MEDIA_DIR": os.environ.get("COSO_MEDIA_DIR", "").strip() or None,
        # Photos' originals older than this many days are removed by `flask photos purge`
        # (their thumbnails stay); None: kept for ever.
        "PHOTO_KEEP_DAYS": _positive_int(os.environ.get("COSO_PHOTO_KEEP_DAYS", "")),
        # /metrics: addresses or networks allowed (comma-separated; none by default), and a
        # bearer token that opens it from anywhere (coso/metrics.py).
        "METRICS_ALLOW": os.environ.get("COSO_METRICS_ALLOW", "").strip(),
        "METRICS_TOKEN": os.environ.get("COSO_METRICS_TOKEN", "").strip(),
        # Logs: one JSON object per line in production, readable lines elsewhere.
        "LOG_FORMAT": os.environ.get(
            "COSO_LOG_FORMAT", "json" if env == "production" else "text"
        ).strip(),
        "LOG_LEVEL": os.environ.get("COSO_LOG_LEVEL", "INFO").strip().upper() or "INFO",
        # How many proxies in front set X-Forwarded-For/-Proto (0: believe none of them).
        "TRUSTED_PROXIES": int(os.environ.get("COSO_TRUSTED_PROXIES", "0") or 0),
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        "RATELIMIT_HEADERS_ENABLED": True,
        "LOGIN_FAIL_LIMITS": os.environ.get(
            "COSO_LOGIN_FAIL_LIMITS", "5 per 5 minutes;20 per hour"
        ),
        # A hundred phones reconnecting after a training day each send a few batches.
        "SYNC_LIMIT": os.environ.get("COSO_SYNC_LIMIT", "120 per minute"),
        # Another system reading /api/v1 with a personal access token (or a session).
        "READ_API_LIMIT": os.environ.get("COSO_READ_API_LIMIT", "600 per minute"),
        "LOGIN_FAIL_LIMITS_PER_ADDRESS": os.environ.get(
            "COSO_LOGIN_FAIL_LIMITS_PER_ADDRESS", "30 per 5 minutes"
        ),
        # Wrong guesses at one account from all addresses together; the owner's known
        # devices are not held by it (coso/auth.py).
        "LOGIN_FAIL_LIMITS_PER_ACCOUNT": os.environ.get(
            "COSO_LOGIN_FAIL_LIMITS_PER_ACCOUNT", "50 per hour;200 per day"
        ),
        # A sign-in unused this long ends; the remember-me cookie lasts as long.
        "LOGIN_SESSION_IDLE_DAYS": idle_days,
        "REMEMBER_COOKIE_DURATION": timedelta(days=idle_days),
        # How often a sign-in's "last used" is written (a write per request would cost a lock).
        "LOGIN_SESSION_TOUCH_SECONDS": int(os.environ.get("COSO_SESSION_TOUCH_SECONDS", "300")),
        # Brotli first (Chromium asks for it over HTTPS), at quality 5 rather than 4: a
        # province's field pack (2.7 MB of JSON) is 184 KB instead of 216 KB (gzip: 232 KB,
        # zstd at its level 3: 238 KB) for 4 ms more; a page of HTML costs no more.
        "COMPRESS_ALGORITHM": ["br", "zstd", "gzip", "deflate"],
        "COMPRESS_BR_LEVEL": 5,
        "COMPRESS_MIMETYPES": [
            "text/html",
            "text/css",
            "text/javascript",
            "application/javascript",
            "application/json",
            "application/manifest+json",
            "image/svg+xml",
        ],
    }
