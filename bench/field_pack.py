"""6. Field pack size: what ``GET /api/v1/field-pack`` weighs for the demo province's users.

The pack goes to a phone on a weak link before the cadre leaves (design.md, "The
offline path"; issue 18, item 4 adds the brief of each branch). Measured in process
on a fresh SQLite database holding the default demo province (``seed-demo``, 200
branches): the JSON body as sent, and gzipped (level 6, what a reverse proxy sends),
for the demo cadre (a commune's branches) and the demo province user (every branch).
Bytes do not depend on load, so each figure is one run.
"""

from __future__ import annotations

import gzip
import tempfile
from pathlib import Path
from typing import Any

from bench.common import DEMO_PASSWORD, Figure, Report, section

#: The cadre's whole pack in about ten seconds on a 32 kbit/s link (a weak 2G signal).
TARGET_CADRE_GZIP_KB = 40.0
USERS = ("cadre", "province")


def measure(tmp: Path) -> dict[str, tuple[int, int]]:
    """Raw and gzipped bytes of each demo user's field pack."""
    from coso import create_app
    from coso.demo import seed
    from coso.extensions import db

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'pack.sqlite'}",
            "SECRET_KEY": "bench-secret-not-for-production",
            "RATELIMIT_STORAGE_URI": "memory://",
            "WTF_CSRF_ENABLED": False,
        }
    )
    with app.app_context():
        db.create_all()
        seed()
        db.session.commit()
    sizes: dict[str, tuple[int, int]] = {}
    for username in USERS:
        client: Any = app.test_client()
        login = client.post("/login", data={"username": username, "password": DEMO_PASSWORD})
        if login.status_code not in (302, 303):
            raise RuntimeError(f"could not sign in as {username}: {login.status_code}")
        response = client.get("/api/v1/field-pack")
        if response.status_code != 200:
            raise RuntimeError(f"field pack for {username}: {response.status_code}")
        body = response.get_data()
        sizes[username] = (len(body), len(gzip.compress(body, compresslevel=6)))
    with app.app_context():
        db.engine.dispose()
    return sizes


def run(report: Report) -> None:
    section("6. field pack size (demo province, 200 branches)")
    with tempfile.TemporaryDirectory(prefix="coso-bench-pack-") as name:
        sizes = measure(Path(name))
    for username, (raw, packed) in sizes.items():
        print(f"  {username}: {raw:,} bytes as JSON, {packed:,} bytes gzipped", flush=True)
        report.add(
            Figure(
                bench="field_pack",
                name=f"{username}'s field pack, gzip",
                runs=[packed / 1024],
                unit="KB",
                target=TARGET_CADRE_GZIP_KB if username == "cadre" else None,
                baseline=raw / 1024,
                baseline_name="as JSON",
                note=f"{raw:,} bytes as JSON, {packed:,} gzipped",
            )
        )


if __name__ == "__main__":
    run(Report())
