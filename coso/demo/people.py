"""The demo's people: branch secretaries (with their past terms) and the demo users."""

from __future__ import annotations

from datetime import date, timedelta
from random import Random
from typing import Any

from coso.demo.texts import DEMO_NAMES, ascii_only, person
from coso.demo.world import DEMO_PASSWORD, DEMO_USERS, Ctx
from coso.extensions import db
from coso.models import Unit, User
from coso.models.units import DEPUTY_ROLE, SECRETARY_ROLE
from coso.models.users import ADMIN, CADRE, PROVINCE, SECRETARY


def secretary_terms(ctx: Ctx, unit: Unit, may_be_vacant: bool = True) -> list[dict[str, Any]]:
    """Fill a branch's profile; return its secretary and deputy terms (with turnover on some).

    Deputies, guidance towards the Party and the few branches left without a secretary
    draw from a generator of their own (seeded by the branch), so the rest of the demo
    draws exactly what it drew before they existed.
    """
    rng, today = ctx.rng, ctx.today
    unit.member_count = rng.randint(10, 40)
    name, _female = person(rng)
    party = rng.random() < 0.6
    terms: list[dict[str, Any]] = []
    if rng.random() < 0.25:  # a secretary changed within the last year
        changed = today - timedelta(days=rng.randint(20, 350))
        start = changed - timedelta(days=rng.randint(200, 1100))
        if rng.random() < 0.3:  # and changed before that too: a branch that keeps changing
            previous_end = start - timedelta(days=rng.randint(3, 20))
            terms.append(
                _term(rng, unit, previous_end - timedelta(days=rng.randint(120, 300)), previous_end)
            )
        terms.append(_term(rng, unit, start, changed - timedelta(days=rng.randint(0, 10))))
        since = changed
    else:
        since = today - timedelta(days=rng.randint(120, 1500))
    side = Random(unit.id * 7919 + today.toordinal())
    current = _row(unit, SECRETARY_ROLE, name, party, since, None)
    current["guided_to_party"] = None if party else side.random() < 0.55
    terms.append(current)
    unit.secretary_name, unit.secretary_since, unit.secretary_party_member = name, since, party
    if may_be_vacant and side.random() < 0.04:  # the secretary left and nobody followed yet
        current["ended_on"] = max(since, today - timedelta(days=side.randint(5, 80)))
        unit.secretary_name = unit.secretary_since = unit.secretary_party_member = None
    if side.random() < 0.7:  # most branches have a deputy
        deputy_since = today - timedelta(days=side.randint(60, 1200))
        if side.random() < 0.2:  # whose predecessor left
            terms.append(
                _row(
                    unit,
                    DEPUTY_ROLE,
                    person(side)[0],
                    side.random() < 0.3,
                    deputy_since - timedelta(days=side.randint(150, 700)),
                    deputy_since,
                )
            )
        member = side.random() < 0.3
        deputy = _row(unit, DEPUTY_ROLE, person(side)[0], member, deputy_since, None)
        deputy["guided_to_party"] = None if member else side.random() < 0.4
        terms.append(deputy)
    return terms


def _row(
    unit: Unit, role: str, name: str, party: bool, start: date, end: date | None
) -> dict[str, Any]:
    return {
        "branch_id": unit.id,
        "role": role,
        "name": name,
        "party_member": party,
        "guided_to_party": None,
        "started_on": start,
        "ended_on": end,
    }


def _term(rng: Random, unit: Unit, start: date, end: date) -> dict[str, Any]:
    """An ended secretary term (those who leave early are less often Party members)."""
    return _row(unit, SECRETARY_ROLE, person(rng)[0], rng.random() < 0.35, start, end)


def _username(display_name: str, taken: set[str]) -> str:
    """``tuan.nv`` for Nguyễn Văn Tuấn, numbered if taken."""
    words = ascii_only(display_name).lower().split()
    base = f"{words[-1]}.{''.join(word[0] for word in words[:-1])}"
    name, k = base, 2
    while name in taken:
        name, k = f"{base}{k}", k + 1
    taken.add(name)
    return name


def build_users(ctx: Ctx) -> None:
    """The demo users, a few more cadres and a secretary for every other commune, all with
    the demo password."""
    rng, province = ctx.rng, ctx.province
    assert province is not None
    first_commune = ctx.communes[0]
    first_branch = next(b.unit for b in ctx.branches if b.commune == 0)
    homes = {
        "admin": ([ADMIN], province, DEMO_NAMES["admin"]),
        "province": ([PROVINCE], province, DEMO_NAMES["province"]),
        "cadre": ([CADRE], province, DEMO_NAMES["cadre"]),
        "commune": ([SECRETARY], first_commune, person(rng)[0]),
        "secretary": ([SECRETARY], first_branch, first_branch.secretary_name or ""),
    }
    password_hash = ""
    taken = ctx.taken
    taken.update(ctx.user_prefix + name for name in DEMO_USERS)
    extra = max(4, min(24, len(ctx.branches) // 50))
    specs: list[tuple[str, list[str], Unit, str]] = [
        (username, roles, home, name) for username, (roles, home, name) in homes.items()
    ]
    logins = {username: ctx.user_prefix + username for username in homes}
    for i in range(extra + 1):
        name = person(rng)[0]
        # The last one works for the first commune only, to show a narrower scope.
        specs.append(
            (_username(name, taken), [CADRE], first_commune if i == extra else province, name)
        )
    cadre_specs = specs[len(homes) :]
    # Every other commune's secretary, who acknowledges its branches' evaluations.
    for commune in ctx.communes[1:]:
        name = person(rng)[0]
        specs.append((_username(name, taken), [SECRETARY], commune, name))
    for username, roles, home, name in specs:
        user = User(username=logins.get(username, username), display_name=name, unit=home)
        user.role_list = roles
        if not password_hash:  # hash once: every demo account shares the password
            user.set_password(DEMO_PASSWORD)
            password_hash = user.password_hash
        user.password_hash = password_hash
        db.session.add(user)
        ctx.users[username] = user
    db.session.flush()
    ctx.cadres = [(ctx.users["cadre"], 3.0, None)]
    for username, _roles, home, _name in cadre_specs:
        commune = 0 if home is first_commune else None
        ctx.cadres.append((ctx.users[username], rng.uniform(0.3, 2.0), commune))
    ctx.acknowledgers = {0: ctx.users["commune"]}
    for index, (username, *_rest) in enumerate(specs[len(homes) + len(cadre_specs) :], 1):
        ctx.acknowledgers[index] = ctx.users[username]
    ctx.counts["users"] = len(specs)
    ctx.progress(
        f"Users: {len(specs)} ({', '.join(DEMO_USERS)}, {extra + 1} more cadres and "
        f"{len(ctx.communes) - 1} commune secretaries)."
    )
