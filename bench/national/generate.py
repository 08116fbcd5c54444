"""The national database, generated once and kept: ``coso_bench_national`` (and its ×4 copy).

What it holds (sizes from the environment, defaults the issue's):

- the tree: a central unit (kind ``central``) at the root, ``BENCH_NATIONAL_PROVINCES`` (34)
  provinces under it, communes of about 75 branches, ``BENCH_NATIONAL_BRANCHES`` (250,000)
  branches in all. The first province has exactly 3,000 branches (the field pack's "whole
  province"); the others share the rest unevenly (≈ 7,350 each at the default sizes).
  ``unit.search`` is keyed by the app's own ``unit_search_key`` (a raw write must set it).
- users (one password hash, ``coso-demo``): ``central`` at the central unit; per province a
  province user (``province`` at the measured one) and its cadres (one per 250 branches,
  who make the evaluations); a secretary per commune (``commune`` at the measured commune)
  and per branch (``secretary`` at the measured branch); ``cadre`` (a cadre at the measured
  commune) and ``cadre-province`` (a cadre at the 3,000-branch province).
- per province a published checklist (the default 21 items) and a guidance with three
  topics for each of the last 14 months.
- ``BENCH_NATIONAL_EVALUATIONS`` (3,000,000) evaluations over the last 12 months, about one
  a month per branch (3 % of the branches never evaluated, 6 % not since more than 90 days:
  overdue). Each evaluation takes one of 240 answer *profiles* drawn by its branch's
  quality (weaker communes fail more, a weak branch keeps failing: repeat offenders); each
  profile was scored once by the app's own ``score_evaluation``, so score, compliance,
  seriousness, reasons and the 21 stored answers agree as the sync API would store them.
- for each evaluation its answers (21 rows), its visit day, its feedback (most acknowledged
  by the branch's secretary, some replied), a corrective action for half the non-compliant
  ones; and each branch's ``branch_status`` computed from its evaluations with the window
  query of ``coso.judging.queries.current_runs`` (``flags.compute_state`` in SQL).

Units, users and evaluations go in with ``COPY`` (rows made in Python); what follows from
them (answers, visits, feedback, actions, flags) with ``INSERT … SELECT`` on the server.
The bulk tables' secondary indexes and foreign keys are dropped for the load and rebuilt
after it (the definitions are read back from the migrated schema), then ``ANALYZE``.

Cached: the table ``bench_national_marker`` holds the generator's version, the sizes, the
schema's migration head and what the measurement needs (ids, the day it was generated
as of). A run regenerates only when the marker is missing or differs;
``BENCH_NATIONAL_FORCE=1`` forces it. The ×4 database is ``CREATE DATABASE … TEMPLATE`` of
the ×1 one with three more copies of every evaluation (and its feedback), each shifted a
year further back; answers, visits and actions are not copied (no measured page reads a
period older than a year; see ``bench/README.md``).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
import uuid as uuidlib
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from random import Random
from typing import Any

import psycopg

from bench.common import PG_BASE, ROOT, SECRET
from coso.models.tally_triggers import rebuild_statements
from coso.models.visit_days import rebuild_visit_statements

GENERATOR_VERSION = "1"
DB_NAME = "coso_bench_national"
X4_NAME = "coso_bench_national_x4"
SMALL_PROVINCE = 3000  # branches of the first province: the field pack's "whole province"
BRANCHES_PER_COMMUNE = 75
TOPICS = 3
GUIDANCE_MONTHS = 14
WINDOW_DAYS = 365
PROFILES = 240
PASSWORD = "coso-demo"
#: Tables written in bulk: their secondary indexes and foreign keys wait for the load's end.
BULK_TABLES = (
    "unit",
    "user",
    "evaluation",
    "evaluation_answer",
    "feedback",
    "visit",
    "corrective_action",
    "branch_status",
)

PROVINCE_NAMES = (
    "Hà Nội", "Huế", "Lai Châu", "Điện Biên", "Sơn La", "Lạng Sơn", "Quảng Ninh", "Thanh Hóa",
    "Nghệ An", "Hà Tĩnh", "Cao Bằng", "Tuyên Quang", "Lào Cai", "Thái Nguyên", "Phú Thọ",
    "Bắc Ninh", "Hưng Yên", "Hải Phòng", "Ninh Bình", "Quảng Trị", "Đà Nẵng", "Quảng Ngãi",
    "Gia Lai", "Khánh Hòa", "Lâm Đồng", "Đắk Lắk", "Hồ Chí Minh", "Đồng Nai", "Tây Ninh",
    "Cần Thơ", "Vĩnh Long", "Đồng Tháp", "Cà Mau", "An Giang",
)  # fmt: skip
PLACE_WORDS = (
    "An", "Bình", "Cát", "Đông", "Hòa", "Hưng", "Lạc", "Long", "Minh", "Nam", "Phú", "Phước",
    "Quang", "Sơn", "Tân", "Thạnh", "Thuận", "Tiến", "Trung", "Vĩnh", "Xuân", "Yên", "Hải",
    "Bắc", "Thượng", "Hạ", "Lộc", "Mỹ", "Nghĩa", "Thái",
)  # fmt: skip
FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi")
MIDDLE = ("Văn", "Thị", "Hữu", "Minh", "Thanh", "Ngọc", "Đức", "Thu", "Quốc", "Kim")
GIVEN = ("An", "Bình", "Chi", "Dũng", "Giang", "Hà", "Hải", "Hoa", "Hùng", "Lan", "Linh", "Long")
BRANCH_KINDS = ("Chi đoàn thôn", "Chi đoàn tổ dân phố", "Chi đoàn khu phố", "Chi đoàn ấp")
NOTES = (
    "Sinh hoạt đúng giờ, đoàn viên tham gia ý kiến sôi nổi.",
    "Cần chuẩn bị nội dung kỹ hơn trước buổi sinh hoạt.",
    "Biên bản ghi chưa đầy đủ ý kiến của đoàn viên.",
    "Chưa triển khai đủ các chủ đề hướng dẫn của tháng.",
)


@dataclass(frozen=True)
class Sizes:
    provinces: int
    branches: int
    evaluations: int

    @classmethod
    def from_env(cls) -> Sizes:
        return cls(
            provinces=int(os.environ.get("BENCH_NATIONAL_PROVINCES", "34")),
            branches=int(os.environ.get("BENCH_NATIONAL_BRANCHES", "250000")),
            evaluations=int(os.environ.get("BENCH_NATIONAL_EVALUATIONS", "3000000")),
        )


def url_of(name: str) -> str:
    """The libpq URL of database ``name`` on the benchmarks' server."""
    base = PG_BASE.replace("postgresql+psycopg://", "postgresql://")
    return base.rsplit("/", 1)[0] + "/" + name


def sqlalchemy_url(name: str) -> str:
    return url_of(name).replace("postgresql://", "postgresql+psycopg://", 1)


def migration_head() -> str:
    from alembic.script import ScriptDirectory

    return ",".join(sorted(ScriptDirectory(str(ROOT / "migrations")).get_heads()))


def _exists(name: str) -> bool:
    with psycopg.connect(url_of("postgres"), autocommit=True) as conn:
        row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    return row is not None


def read_marker(name: str) -> dict[str, Any] | None:
    """The marker row of a generated database, or None when missing or unreadable."""
    if not _exists(name):
        return None
    try:
        with psycopg.connect(url_of(name)) as conn:
            row = conn.execute("SELECT info FROM bench_national_marker").fetchone()
    except psycopg.Error:
        return None
    return row[0] if row else None


def cache_key(sizes: Sizes, copies: int) -> dict[str, Any]:
    return {"version": GENERATOR_VERSION, "sizes": asdict(sizes), "copies": copies}


def upgrade_if_behind(name: str, marker: dict[str, Any]) -> dict[str, Any]:
    """A cached database migrated to the code's head (a new index or column), then analysed.

    Regenerating 60 million rows for a migration would be a waste: ``flask db upgrade``
    applies it to the cached rows, as it would to a real database.
    """
    head = migration_head()
    if marker.get("head") == head:
        return marker
    start = time.perf_counter()
    _migrate(name)
    with psycopg.connect(url_of(name)) as conn:
        _analyze(conn)
        marker = {**marker, "head": head}
        _write_marker(conn, marker)
    log(f"{name}: migrated to {head} ({time.perf_counter() - start:.0f} s)")
    return marker


def _same(marker: dict[str, Any] | None, key: dict[str, Any]) -> bool:
    return marker is not None and all(marker.get(k) == v for k, v in key.items())


def _recreate(name: str, template: str | None = None) -> None:
    assert name.startswith("coso_bench_national"), name
    with psycopg.connect(url_of("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if template:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        else:
            conn.execute(f'CREATE DATABASE "{name}"')


def log(message: str) -> None:
    print(f"  [{datetime.now():%H:%M:%S}] {message}", flush=True)


# ---------------------------------------------------------------- the tree


@dataclass
class Tree:
    """Ids of what the generator made, by role in the measurement."""

    central: int
    provinces: list[tuple[int, str, int]]  # (id, code, branches)
    communes: list[tuple[int, int, str]]  # (id, province id, code)
    branches: list[tuple[int, int, int, str]]  # (id, commune id, province id, code)
    typical: int  # the measured province
    small: int  # the 3,000-branch province
    commune: int  # the measured commune (first of the typical province)
    branch: int  # the measured branch (first of that commune)


def province_sizes(sizes: Sizes, rng: Random) -> list[int]:
    """Branches per province: the first exactly 3,000 (when that leaves room), others uneven."""
    p, b = sizes.provinces, sizes.branches
    if p == 1:
        return [b]
    first = SMALL_PROVINCE if b - SMALL_PROVINCE >= (p - 1) * 100 else b // p
    rest = b - first
    weights = [rng.uniform(0.7, 1.3) for _ in range(p - 1)]
    out = [int(rest * w / sum(weights)) for w in weights]
    out[-1] += rest - sum(out)
    return [first, *out]


def commune_sizes(n: int, rng: Random) -> list[int]:
    count = max(1, round(n / BRANCHES_PER_COMMUNE))
    weights = [rng.uniform(0.6, 1.4) for _ in range(count)]
    out = [max(1, int(n * w / sum(weights))) for w in weights]
    out[0] += n - sum(out)
    return out


def person(rng: Random) -> str:
    return f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"


def write_tree(conn: psycopg.Connection, sizes: Sizes, rng: Random, now: datetime) -> Tree:
    from coso.units.rules import unit_search_key

    per_province = province_sizes(sizes, rng)
    cols = (
        "id, code, name, kind, parent_id, path, depth, active, secretary_name, "
        "secretary_since, secretary_party_member, member_count, created_at, search"
    )
    next_id = 1
    central = next_id
    provinces: list[tuple[int, str, int]] = []
    communes: list[tuple[int, int, str]] = []
    branches: list[tuple[int, int, int, str]] = []
    with conn.cursor().copy(f"COPY unit ({cols}) FROM STDIN") as copy:

        def unit(
            uid: int, code: str, name: str, kind: str, parent: int | None, path: str, depth: int
        ) -> None:
            branch = kind == "branch"
            copy.write_row(
                (
                    uid,
                    code,
                    name,
                    kind,
                    parent,
                    path,
                    depth,
                    True,
                    person(rng) if branch else None,
                    date(2020 + rng.randrange(6), 1 + rng.randrange(12), 1) if branch else None,
                    rng.random() < 0.3 if branch else None,
                    rng.randint(12, 45) if branch else None,
                    now,
                    unit_search_key(name, code),
                )
            )

        unit(central, "TW", "Trung ương Đoàn", "central", None, f"/{central}/", 0)
        next_id += 1
        province_ids = list(range(next_id, next_id + sizes.provinces))
        next_id += sizes.provinces
        for pi, (pid, n) in enumerate(zip(province_ids, per_province, strict=True)):
            code = f"T{pi + 1:02d}"
            name = PROVINCE_NAMES[pi % len(PROVINCE_NAMES)] + (
                f" {pi // len(PROVINCE_NAMES) + 1}" if pi >= len(PROVINCE_NAMES) else ""
            )
            unit(pid, code, f"Tỉnh đoàn {name}", "province", central, f"/{central}/{pid}/", 1)
            provinces.append((pid, code, n))
        for pid, pcode, n in provinces:
            for ci, csize in enumerate(commune_sizes(n, rng)):
                cid = next_id
                next_id += 1
                ccode = f"{pcode}-X{ci + 1:03d}"
                cname = f"Đoàn xã {rng.choice(PLACE_WORDS)} {rng.choice(PLACE_WORDS)} {ci + 1}"
                unit(cid, ccode, cname, "commune", pid, f"/{central}/{pid}/{cid}/", 2)
                communes.append((cid, pid, ccode))
                for bi in range(csize):
                    bid = next_id
                    next_id += 1
                    bcode = f"{ccode}-C{bi + 1:03d}"
                    bname = f"{rng.choice(BRANCH_KINDS)} {rng.choice(PLACE_WORDS)} {bi + 1}"
                    unit(bid, bcode, bname, "branch", cid, f"/{central}/{pid}/{cid}/{bid}/", 3)
                    branches.append((bid, cid, pid, bcode))
    others = provinces[1:] or provinces
    mean = sum(n for *_, n in others) / len(others)
    typical = min(others, key=lambda p: abs(p[2] - mean))[0]
    commune = next(c for c, p, _ in communes if p == typical)
    branch = next(b for b, c, *_ in branches if c == commune)
    return Tree(central, provinces, communes, branches, typical, provinces[0][0], commune, branch)


def write_users(
    conn: psycopg.Connection, tree: Tree, rng: Random, now: datetime
) -> tuple[dict[int, list[int]], int]:
    """Every user; returns each province's cadres (who evaluate) and the next free id."""
    from werkzeug.security import generate_password_hash

    from coso.users.rules import user_search_key

    digest = generate_password_hash(PASSWORD)
    cadres: dict[int, list[int]] = {}
    next_id = 1
    cols = "id, username, password_hash, display_name, roles, unit_id, active, created_at, search"
    with conn.cursor().copy(f'COPY "user" ({cols}) FROM STDIN') as copy:

        def user(username: str, roles: str, unit_id: int) -> int:
            nonlocal next_id
            uid = next_id
            next_id += 1
            name = person(rng)
            copy.write_row(
                (
                    uid,
                    username,
                    digest,
                    name,
                    roles,
                    unit_id,
                    True,
                    now,
                    user_search_key(username, name),
                )
            )
            return uid

        user("central", "central", tree.central)
        for pid, pcode, n in tree.provinces:
            name = "province" if pid == tree.typical else f"{pcode.lower()}-province"
            user(name, "province", pid)
            cadres[pid] = [
                user(f"{pcode.lower()}-cadre-{k + 1:02d}", "cadre", pid)
                for k in range(max(3, n // 250))
            ]
        user("cadre", "cadre", tree.commune)
        user("cadre-province", "cadre", tree.small)
        for cid, _pid, ccode in tree.communes:
            user("commune" if cid == tree.commune else f"{ccode.lower()}-bt", "secretary", cid)
        for bid, _cid, _pid, bcode in tree.branches:
            user("secretary" if bid == tree.branch else bcode.lower(), "secretary", bid)
    return cadres, next_id


def write_checklists_and_guidance(
    conn: psycopg.Connection, tree: Tree, as_of: date, now: datetime
) -> tuple[dict[int, int], dict[tuple[int, str], int]]:
    """A published default checklist and 14 months of guidance per province."""
    from coso.checklists.rules import DEFAULT_ITEMS

    template_of: dict[int, int] = {}
    guidance_of: dict[tuple[int, str], int] = {}
    periods = []
    year, month = as_of.year, as_of.month
    for _ in range(GUIDANCE_MONTHS):
        periods.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    with conn.cursor() as cur:
        item_id = topic_id = 1
        for n, (pid, _code, _b) in enumerate(tree.provinces, start=1):
            cur.execute(
                "INSERT INTO checklist_template (id, unit_id, name, version, status, created_at, "
                "published_at) VALUES (%s, %s, %s, 1, 'published', %s, %s)",
                (n, pid, "Phiếu đánh giá sinh hoạt chi đoàn", now, now),
            )
            template_of[pid] = n
            rows = []
            for position, item in enumerate(DEFAULT_ITEMS, start=1):
                rows.append(
                    (
                        item_id,
                        n,
                        position,
                        item["code"],
                        item["section"],
                        item["text_vi"],
                        item["text_en"],
                        item["weight"],
                        item["critical"],
                        item["kind"],
                    )
                )
                item_id += 1
            cur.executemany(
                "INSERT INTO checklist_item (id, template_id, position, code, section, text_vi, "
                "text_en, weight, critical, kind) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                rows,
            )
        gid = 1
        guidance_rows, topic_rows = [], []
        for pid, _code, _b in tree.provinces:
            for period in periods:
                guidance_rows.append(
                    (gid, pid, period, f"Hướng dẫn sinh hoạt chi đoàn tháng {period}", now)
                )
                for t in range(1, TOPICS + 1):
                    topic_rows.append((topic_id, gid, t, f"T{t}", f"Chủ đề {t} tháng {period}"))
                    topic_id += 1
                guidance_of[(pid, period)] = gid
                gid += 1
        cur.executemany(
            "INSERT INTO guidance (id, unit_id, period, title, created_at) "
            "VALUES (%s, %s, %s, %s, %s)",
            guidance_rows,
        )
        cur.executemany(
            "INSERT INTO guidance_topic (id, guidance_id, position, code, title) "
            "VALUES (%s, %s, %s, %s, %s)",
            topic_rows,
        )
    return template_of, guidance_of


# ------------------------------------------------------------ evaluations


@dataclass(frozen=True)
class Profile:
    """One way a meeting can go, scored once by the app's own rules."""

    number: int
    members_total: int
    members_present: int
    covered: int
    answers: dict[str, str]  # the stored (effective) value of every item
    columns: tuple[Any, ...]  # score, procedure, content, compliant, serious, attendance,
    #                            coverage, reasons (JSON text)
    first_fail: str | None


def make_profiles(rng: Random) -> list[Profile]:
    """``PROFILES`` answer profiles from good to bad, ordered by score (best first)."""
    from coso.checklists.rules import DEFAULT_ITEMS
    from coso.judging import scoring

    specs = [
        scoring.ItemSpec(i["code"], i["section"], i["weight"], i["critical"], i["kind"])
        for i in DEFAULT_ITEMS
    ]
    drafts = []
    for n in range(PROFILES):
        quality = 1 - n / PROFILES  # 1: everything met … 0: little met
        answers = {}
        for item in DEFAULT_ITEMS:
            if item["kind"] != "choice":
                continue
            r = rng.random()
            miss = (1 - quality) * (0.55 if item["critical"] else 0.8)
            if r < miss * 0.6:
                answers[item["code"]] = scoring.FAIL
            elif r < miss:
                answers[item["code"]] = scoring.PARTIAL
            elif r > 0.985:
                answers[item["code"]] = scoring.NA
            else:
                answers[item["code"]] = scoring.PASS
        total = rng.randint(12, 45)
        present = max(1, round(total * rng.uniform(0.45 + 0.5 * quality, 0.7 + 0.3 * quality)))
        present = min(present, total)
        covered = min(TOPICS, max(0, round(TOPICS * rng.uniform(quality - 0.2, quality + 0.6))))
        outcome = scoring.score_evaluation(
            specs,
            answers,
            members_total=total,
            members_present=present,
            topics_total=TOPICS,
            topics_covered=covered,
        )
        cols = outcome.columns()
        drafts.append(
            (
                cols["score"] if cols["score"] is not None else -1,
                total,
                present,
                covered,
                dict(outcome.effective),
                (
                    cols["score"],
                    cols["procedure_score"],
                    cols["content_score"],
                    cols["compliant"],
                    cols["serious"],
                    cols["attendance"],
                    cols["topic_coverage"],
                    json.dumps(cols["reasons"], ensure_ascii=False),
                ),
                next(
                    (
                        code
                        for code, value in outcome.effective.items()
                        if value in (scoring.FAIL, scoring.PARTIAL)
                    ),
                    None,
                ),
            )
        )
    drafts.sort(key=lambda d: -d[0])
    return [Profile(n, *d[1:]) for n, d in enumerate(drafts)]


def write_profiles(conn: psycopg.Connection, profiles: Sequence[Profile]) -> None:
    conn.execute(
        "CREATE TABLE bench_profile (profile int PRIMARY KEY, first_fail varchar(10));"
        "CREATE TABLE bench_profile_answer (profile int, item_code varchar(10), "
        "value varchar(8), note varchar(1000));"
        "CREATE UNLOGGED TABLE bench_eval_profile (evaluation_id int, profile int)"
    )
    with conn.cursor().copy("COPY bench_profile FROM STDIN") as copy:
        for p in profiles:
            copy.write_row((p.number, p.first_fail))
    with conn.cursor().copy("COPY bench_profile_answer FROM STDIN") as copy:
        for p in profiles:
            for code, value in p.answers.items():
                note = None
                if value == "fail":
                    note = f"Mục {code} chưa đạt, cần khắc phục ở buổi sau."
                copy.write_row((p.number, code, value, note))


def _branch_quality(rng: Random, weak_commune: bool) -> float:
    """Where a branch's profiles centre, 0 (best) … 1 (worst)."""
    base = rng.betavariate(1.3, 6.5)
    if weak_commune:
        base = min(1.0, base + rng.uniform(0.05, 0.3))
    return base


def write_evaluations(
    conn: psycopg.Connection,
    side: psycopg.Connection,
    tree: Tree,
    sizes: Sizes,
    profiles: Sequence[Profile],
    cadres: dict[int, list[int]],
    template_of: dict[int, int],
    guidance_of: dict[tuple[int, str], int],
    as_of: date,
    rng: Random,
) -> int:
    """COPY every evaluation (and, on ``side``, its profile); returns how many."""
    active = []
    plan: dict[int, str] = {}
    weak = {cid for cid, *_ in tree.communes if rng.random() < 0.15}
    for bid, cid, pid, _code in tree.branches:
        r = rng.random()
        plan[bid] = "never" if r < 0.03 else "overdue" if r < 0.09 else "active"
        if plan[bid] != "never":
            active.append((bid, cid, pid))
    per, extra = divmod(sizes.evaluations, max(1, len(active)))
    cols = (
        "id, uuid, content_hash, branch_id, cadre_id, template_id, guidance_id, meeting_date, "
        "meeting_type, mode, members_total, members_present, topics_covered, notes, "
        "good_practice, recommend_practice, device_id, started_at, submitted_at, received_at, "
        "score, procedure_score, content_score, compliant, serious, attendance, "
        "topic_coverage, reasons"
    )
    covered_json = [json.dumps([f"T{t}" for t in range(1, c + 1)]) for c in range(TOPICS + 1)]
    eid = 0
    started = time.perf_counter()
    last = len(profiles) - 1
    with (
        conn.cursor().copy(f"COPY evaluation ({cols}) FROM STDIN") as copy,
        side.cursor().copy("COPY bench_eval_profile FROM STDIN") as profile_copy,
    ):
        for n, (bid, cid, pid) in enumerate(active):
            count = per + (1 if n < extra else 0)
            if count == 0:
                continue
            quality = _branch_quality(rng, cid in weak)
            team = cadres[pid]
            cadre = team[cid % len(team)]
            end = as_of - timedelta(days=1 + rng.randrange(20))
            if plan[bid] == "overdue":
                end = as_of - timedelta(days=95 + rng.randrange(150))
            spacing = WINDOW_DAYS / count
            for k in range(count):
                eid += 1
                day = end - timedelta(days=int((count - 1 - k) * spacing) + rng.randrange(3))
                centre = quality * last
                index = int(min(last, max(0, rng.gauss(centre, 0.12 * last + 6))))
                p = profiles[index]
                meeting_at = datetime(day.year, day.month, day.day, 12, tzinfo=UTC) + timedelta(
                    minutes=rng.randrange(360)
                )
                received = meeting_at + timedelta(hours=2 + rng.randrange(60))
                received = min(received, datetime(as_of.year, as_of.month, as_of.day, tzinfo=UTC))
                period = f"{day.year:04d}-{day.month:02d}"
                practice = rng.random() < 0.04
                copy.write_row(
                    (
                        eid,
                        str(uuidlib.UUID(int=rng.getrandbits(128), version=4)),
                        f"{rng.getrandbits(256):064x}",
                        bid,
                        cadre,
                        template_of[pid],
                        guidance_of.get((pid, period)),
                        day,
                        "regular" if rng.random() < 0.85 else "theme",
                        "in_person" if rng.random() < 0.93 else "online",
                        p.members_total,
                        p.members_present,
                        covered_json[p.covered],
                        NOTES[eid % len(NOTES)] if rng.random() < 0.2 else None,
                        "Tổ chức sinh hoạt gắn với lao động tình nguyện." if practice else None,
                        practice and rng.random() < 0.5,
                        f"phone-{cadre}",
                        meeting_at.replace(tzinfo=None),
                        (meeting_at + timedelta(minutes=90)).replace(tzinfo=None),
                        received.replace(tzinfo=None),
                        *p.columns,
                    )
                )
                profile_copy.write_row((eid, p.number))
            if n and n % 50000 == 0:
                log(f"{eid:,} evaluations ({time.perf_counter() - started:.0f} s)")
    return eid


# ------------------------------------------------------------ set-based rows


def _derived_rows(conn: psycopg.Connection, as_of: date) -> None:
    """Answers, visit days, feedback, corrective actions and branch states, on the server."""
    steps = {
        "answers": """
            INSERT INTO evaluation_answer (evaluation_id, item_code, value, note)
            SELECT m.evaluation_id, a.item_code, a.value, a.note
            FROM bench_eval_profile m JOIN bench_profile_answer a ON a.profile = m.profile
        """,
        "visit days": """
            INSERT INTO visit (user_id, unit_id, form, start_date, end_date, days,
                               evaluation_id, created_at)
            SELECT cadre_id, branch_id, 'meeting', meeting_date, meeting_date, 1, id, received_at
            FROM evaluation
        """,
        # Most evaluations acknowledged by the branch's secretary within three days (fewer of
        # the last week's), a reply to a third of the non-compliant ones.
        "feedback": """
            INSERT INTO feedback (evaluation_id, user_id, acknowledged_at, reply, replied_at,
                                  reply_read_at)
            SELECT e.id, s.id,
                   e.received_at + make_interval(hours => 2 + ((e.id::bigint * 7919) %% 70)::int),
                   CASE WHEN NOT e.compliant AND e.id %% 3 = 0
                        THEN 'Chi đoàn đã họp rút kinh nghiệm và sẽ khắc phục.' END,
                   CASE WHEN NOT e.compliant AND e.id %% 3 = 0
                        THEN e.received_at
                             + make_interval(hours => 3 + ((e.id::bigint * 7919) %% 70)::int)
                   END,
                   CASE WHEN NOT e.compliant AND e.id %% 6 = 0
                        THEN e.received_at
                             + make_interval(hours => 30 + ((e.id::bigint * 7919) %% 70)::int)
                   END
            FROM evaluation e
            JOIN "user" s ON s.unit_id = e.branch_id AND s.roles = 'secretary'
            WHERE (e.id::bigint * 2654435761) %% 100
                  < CASE WHEN e.received_at < %(week_ago)s THEN 93 ELSE 45 END
        """,
        "corrective actions": """
            INSERT INTO corrective_action (branch_id, evaluation_id, item_code, description,
                                           owner, due_date, status, created_by_id, created_at,
                                           closed_at)
            SELECT e.branch_id, e.id, p.first_fail,
                   'Khắc phục mục ' || p.first_fail || ' trước buổi sinh hoạt sau.',
                   'Bí thư chi đoàn', e.meeting_date + 30,
                   CASE WHEN e.meeting_date < %(as_of)s - 45 AND e.id %% 10 < 8 THEN 'done'
                        ELSE 'open' END,
                   e.cadre_id, e.received_at,
                   CASE WHEN e.meeting_date < %(as_of)s - 45 AND e.id %% 10 < 8
                        THEN e.received_at + interval '20 days' END
            FROM evaluation e
            JOIN bench_eval_profile m ON m.evaluation_id = e.id
            JOIN bench_profile p ON p.profile = m.profile
            WHERE NOT e.compliant AND p.first_fail IS NOT NULL AND e.id %% 2 = 0
        """,
        # coso.judging.queries.current_runs over every branch: the latest evaluation and the
        # run that agrees with it (flags.run_state decides the state and streak).
        "branch states": """
            WITH numbered AS (
                SELECT branch_id, id, meeting_date, compliant, serious, score, reasons,
                       row_number() OVER w AS rn, first_value(compliant) OVER w AS latest_ok
                FROM evaluation
                WINDOW w AS (PARTITION BY branch_id
                             ORDER BY meeting_date DESC, submitted_at DESC, uuid DESC)
            ), ranked AS (
                SELECT *, sum(CASE WHEN compliant <> latest_ok THEN 1 ELSE 0 END)
                          OVER (PARTITION BY branch_id ORDER BY rn
                                ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS broken
                FROM numbered
            ), runs AS (
                SELECT branch_id, count(*) FILTER (WHERE broken = 0) AS length,
                       min(meeting_date) FILTER (WHERE broken = 0) AS since
                FROM ranked GROUP BY branch_id
            )
            INSERT INTO branch_status (branch_id, state, since, evaluation_id, last_meeting_date,
                                       streak, serious, score, reasons, updated_at)
            SELECT r.branch_id,
                   CASE WHEN l.compliant THEN 'ok' WHEN r.length >= 2 THEN 'repeat'
                        ELSE 'flagged' END,
                   r.since, l.id, l.meeting_date,
                   CASE WHEN l.compliant THEN 0 ELSE r.length END,
                   l.serious, l.score, l.reasons, %(now)s
            FROM runs r JOIN ranked l ON l.branch_id = r.branch_id AND l.rn = 1
        """,
    }
    now = datetime.now(UTC).replace(tzinfo=None)
    week_ago = datetime(as_of.year, as_of.month, as_of.day) - timedelta(days=7)
    params = {"as_of": as_of, "week_ago": week_ago, "now": now}
    for name, sql in steps.items():
        start = time.perf_counter()
        with conn.cursor() as cur:
            cur.execute(sql, params)
            rows = cur.rowcount
        conn.commit()
        log(f"{name}: {rows:,} rows ({time.perf_counter() - start:.0f} s)")


# ------------------------------------------------------ indexes and constraints


def _deferred_ddl(conn: psycopg.Connection, tables: Sequence[str]) -> list[str]:
    """Drop the tables' secondary indexes, unique and foreign keys; return what rebuilds them."""
    rebuild: list[str] = []
    drops: list[str] = []
    for table in tables:
        for name, definition in conn.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype IN ('u', 'f') ORDER BY contype DESC",
            (f'"{table}"',),
        ):
            drops.append(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
            rebuild.append(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
        for name, definition in conn.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = %s "
            "AND i.schemaname = 'public' AND i.indexname NOT IN "
            "(SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)",
            (table, f'"{table}"'),
        ):
            drops.append(f'DROP INDEX "{name}"')
            rebuild.insert(0, definition)  # indexes before the foreign keys that use them
    for statement in drops:
        conn.execute(statement)  # type: ignore[arg-type]
    conn.commit()
    return rebuild


def _rebuild(conn: psycopg.Connection, statements: Sequence[str]) -> None:
    conn.execute("SET maintenance_work_mem = '512MB'")
    for statement in statements:
        start = time.perf_counter()
        conn.execute(statement)  # type: ignore[arg-type]
        conn.commit()
        took = time.perf_counter() - start
        if took > 5:
            log(f"{statement[:90]}… ({took:.0f} s)")


def _reset_sequences(conn: psycopg.Connection) -> None:
    for table, column in conn.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = 'public' AND column_default LIKE 'nextval%%'"
    ).fetchall():
        conn.execute(
            f"SELECT setval(pg_get_serial_sequence('\"{table}\"', '{column}'), "
            f'coalesce((SELECT max("{column}") FROM "{table}"), 0) + 1, false)'
        )
    conn.commit()


def _analyze(conn: psycopg.Connection) -> None:
    start = time.perf_counter()
    conn.autocommit = True
    conn.execute("VACUUM (ANALYZE)")
    conn.autocommit = False
    log(f"VACUUM ANALYZE ({time.perf_counter() - start:.0f} s)")


def _migrate(name: str) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": sqlalchemy_url(name),
        "SECRET_KEY": SECRET,
        "COSO_ENV": "development",
    }
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )


def _write_marker(conn: psycopg.Connection, info: dict[str, Any]) -> None:
    conn.execute("DROP TABLE IF EXISTS bench_national_marker")
    conn.execute("CREATE TABLE bench_national_marker (info jsonb NOT NULL)")
    conn.execute(
        "INSERT INTO bench_national_marker (info) VALUES (%s)", (json.dumps(info, default=str),)
    )
    conn.commit()


#: A bulk load goes in without the tallies' triggers (``coso.models.tallies``): one count
#: from scratch at the end is far quicker than keeping them row by row.
WITHOUT_TRIGGERS = "SET session_replication_role = replica"


def _tallies(conn: psycopg.Connection) -> None:
    """The summary tables counted from the loaded evaluations (the triggers were off)."""
    step = time.perf_counter()
    for statement in rebuild_statements("postgresql") + rebuild_visit_statements():
        conn.execute(statement)  # type: ignore[arg-type]
    conn.commit()
    log(f"evaluation, answer and visit-day tallies counted ({time.perf_counter() - step:.0f} s)")


def counts(conn: psycopg.Connection) -> dict[str, int]:
    out = {}
    for table in ("unit", "user", "evaluation", "evaluation_answer", "feedback", "branch_status"):
        out[table] = conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]  # type: ignore[index]
    return out


def generate(sizes: Sizes) -> dict[str, Any]:
    """Build the ×1 database from nothing; its marker's info."""
    started = time.perf_counter()
    rng = Random(20261207)
    as_of = datetime.now(UTC).date()
    now = datetime.now(UTC).replace(tzinfo=None)
    log(f"generating {DB_NAME}: {sizes}")
    _recreate(DB_NAME)
    _migrate(DB_NAME)
    with (
        psycopg.connect(url_of(DB_NAME)) as conn,
        psycopg.connect(url_of(DB_NAME)) as side,
    ):
        for c in (conn, side):
            c.execute("SET synchronous_commit = off")
            c.execute(WITHOUT_TRIGGERS)
        rebuild = _deferred_ddl(conn, BULK_TABLES)
        tree = write_tree(conn, sizes, rng, now)
        cadres, _ = write_users(conn, tree, rng, now)
        template_of, guidance_of = write_checklists_and_guidance(conn, tree, as_of, now)
        profiles = make_profiles(rng)
        write_profiles(conn, profiles)
        conn.commit()
        log(f"{len(tree.branches):,} branches, {len(tree.communes):,} communes, users, checklists")
        step = time.perf_counter()
        total = write_evaluations(
            conn, side, tree, sizes, profiles, cadres, template_of, guidance_of, as_of, rng
        )
        conn.commit()
        side.commit()
        log(f"{total:,} evaluations copied ({time.perf_counter() - step:.0f} s)")
        conn.execute('ANALYZE evaluation; ANALYZE bench_eval_profile; ANALYZE "user"')
        _derived_rows(conn, as_of)
        conn.execute("DROP TABLE bench_eval_profile")
        conn.commit()
        step = time.perf_counter()
        _rebuild(conn, rebuild)
        log(f"indexes and constraints rebuilt ({time.perf_counter() - step:.0f} s)")
        _reset_sequences(conn)
        _tallies(conn)
        _analyze(conn)
        info = {
            **cache_key(sizes, 1),
            "head": migration_head(),
            "as_of": as_of.isoformat(),
            "central": tree.central,
            "province": tree.typical,
            "province_branches": next(n for p, _c, n in tree.provinces if p == tree.typical),
            "small_province": tree.small,
            "small_branches": tree.provinces[0][2],
            "commune": tree.commune,
            "commune_branches": sum(1 for _b, c, *_ in tree.branches if c == tree.commune),
            "branch": tree.branch,
            "counts": counts(conn),
            "seconds": round(time.perf_counter() - started),
        }
        _write_marker(conn, info)
    log(f"{DB_NAME} ready in {info['seconds']} s: {info['counts']}")
    return info


def multiply(base: dict[str, Any], copies: int = 3) -> dict[str, Any]:
    """The ×4 database: the ×1 one copied, plus ``copies`` shifted copies of each evaluation."""
    started = time.perf_counter()
    log(f"generating {X4_NAME}: {DB_NAME} + {copies} copies of every evaluation")
    _recreate(X4_NAME, template=DB_NAME)
    log(f"copied {DB_NAME} ({time.perf_counter() - started:.0f} s)")
    with psycopg.connect(url_of(X4_NAME)) as conn:
        conn.execute("SET synchronous_commit = off")
        conn.execute(WITHOUT_TRIGGERS)
        rebuild = _deferred_ddl(conn, ("evaluation", "feedback"))
        top = conn.execute("SELECT max(id) FROM evaluation").fetchone()[0]  # type: ignore[index]
        columns = [
            row[0]
            for row in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = "
                "'evaluation' AND table_schema = 'public' ORDER BY ordinal_position"
            )
        ]
        feedback_columns = [
            row[0]
            for row in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = "
                "'feedback' AND table_schema = 'public' AND column_name <> 'id' "
                "ORDER BY ordinal_position"
            )
        ]
        for k in range(1, copies + 1):
            shift = f"interval '{k * WINDOW_DAYS} days'"
            values = {
                "id": f"id + {k * top}",
                "uuid": f"substr(uuid, 1, 34) || 'x{k}'",
                "meeting_date": f"meeting_date - {k * WINDOW_DAYS}",
                "supersedes_id": "NULL",
                "started_at": f"started_at - {shift}",
                "submitted_at": f"submitted_at - {shift}",
                "received_at": f"received_at - {shift}",
            }
            select = ", ".join(values.get(c, f'"{c}"') for c in columns)
            step = time.perf_counter()
            conn.execute(
                f"INSERT INTO evaluation ({', '.join(chr(34) + c + chr(34) for c in columns)}) "  # type: ignore[arg-type]
                f"SELECT {select} FROM evaluation WHERE id <= {top}"
            )
            fvalues = {
                "evaluation_id": f"evaluation_id + {k * top}",
                "acknowledged_at": f"acknowledged_at - {shift}",
                "replied_at": f"replied_at - {shift}",
                "reply_read_at": f"reply_read_at - {shift}",
            }
            fselect = ", ".join(fvalues.get(c, f'"{c}"') for c in feedback_columns)
            conn.execute(
                f"INSERT INTO feedback ({', '.join(feedback_columns)}) "  # type: ignore[arg-type]
                f"SELECT {fselect} FROM feedback WHERE evaluation_id <= {top}"
            )
            conn.commit()
            log(f"copy {k}: a year further back ({time.perf_counter() - step:.0f} s)")
        step = time.perf_counter()
        _rebuild(conn, rebuild)
        log(f"indexes and constraints rebuilt ({time.perf_counter() - step:.0f} s)")
        _reset_sequences(conn)
        _tallies(conn)
        _analyze(conn)
        info = {
            **base,
            "copies": copies + 1,
            "counts": counts(conn),
            "seconds": round(time.perf_counter() - started),
        }
        _write_marker(conn, info)
    log(f"{X4_NAME} ready in {info['seconds']} s: {info['counts']}")
    return info


def ensure(sizes: Sizes, force: bool = False, x4: bool = True) -> Iterator[dict[str, Any]]:
    """The ×1 (and ×4) databases' info, generating what is missing or out of date."""
    base = read_marker(DB_NAME)
    fresh = force or not _same(base, cache_key(sizes, 1))
    if fresh:
        base = generate(sizes)
    else:
        assert base is not None
        log(f"{DB_NAME} cached (generated in {base['seconds']} s as of {base['as_of']})")
        base = upgrade_if_behind(DB_NAME, base)
    yield base
    if not x4:
        return
    grown = read_marker(X4_NAME)
    key = {**cache_key(sizes, 4), "as_of": base["as_of"]}
    if fresh or not _same(grown, key):
        grown = multiply(base)
    else:
        assert grown is not None
        log(f"{X4_NAME} cached (generated in {grown['seconds']} s)")
        grown = upgrade_if_behind(X4_NAME, grown)
    yield grown


def estimate(sizes: Sizes) -> str:
    """A word on the size of what ``generate`` writes."""
    answers = sizes.evaluations * 21
    return (
        f"{sizes.provinces} provinces, {sizes.branches:,} branches, "
        f"{sizes.evaluations:,} evaluations, ≈ {answers:,} answers "
        f"(≈ {math.ceil(sizes.evaluations * 2.5 / 1e6)} GB at ×1, as much again for ×4)"
    )
