"""The demo's unit tree: a province, its commune and ward unions, and their branches, each
branch planned to end in one of domain.md's states."""

from __future__ import annotations

from collections import Counter
from random import Random
from typing import Any

from coso.demo.people import secretary_terms
from coso.demo.texts import ascii_only, place_names
from coso.demo.world import (
    BranchPlan,
    Ctx,
    first_free_id,
    insert_rows,
)
from coso.extensions import db
from coso.judging import flags
from coso.models import SecretaryTerm, Unit
from coso.models.units import place


def _sizes(rng: Random, branches: int, communes: int) -> list[int]:
    """Branches per commune: uneven like real communes, the first with room for every state."""
    first_min = min(branches, 6)
    communes = max(1, min(communes, branches - first_min + 1))
    base, extra = divmod(branches, communes)
    sizes = [base + (1 if i < extra else 0) for i in range(communes)]
    for _ in range(communes * 2):  # move a few branches between communes
        i, j = rng.randrange(communes), rng.randrange(communes)
        moved = rng.randint(0, max(0, base // 3))
        if i != j and sizes[j] - moved >= max(1, base // 2):
            sizes[i] += moved
            sizes[j] -= moved
    while sizes[0] < first_min:
        donor = max(range(1, communes), key=lambda k: sizes[k])
        sizes[donor] -= 1
        sizes[0] += 1
    return sizes


def _plans(rng: Random, n: int, first: bool, weak: bool) -> list[str]:
    """The planned state of each branch of a commune.

    The first commune gets every state on purpose (its first branch, the demo
    secretary's, is a repeat flag); elsewhere the states come by chance: most
    branches comply, a few are repeat offenders, more of them in a weak commune.
    """
    out = []
    fixed = [flags.REPEAT, flags.FLAGGED, flags.OK, flags.OVERDUE, flags.NEVER] if first else []
    # Cumulative chances of never, overdue, repeat, flagged; the rest is ok.
    odds = (0.05, 0.13, 0.27, 0.45) if weak else (0.03, 0.09, 0.14, 0.25)
    for i in range(n):
        if i < len(fixed):
            out.append(fixed[i])
            continue
        r = rng.random()
        if r < odds[0]:
            out.append(flags.NEVER)
        elif r < odds[1]:
            out.append(flags.OVERDUE)
        elif r < odds[2]:
            out.append(flags.REPEAT)
        elif r < odds[3]:
            out.append(flags.FLAGGED)
        else:
            out.append(flags.OK)
    return out


#: How much a branch's planned state moves its usual chance of a compliant meeting.
QUALITY_SHIFT = {flags.REPEAT: -0.25, flags.FLAGGED: -0.08, flags.OVERDUE: -0.05}


def build_units(ctx: Ctx, branches: int, communes: int | None) -> None:
    """The province, its commune/ward unions and their branches, with secretary terms."""
    rng = ctx.rng
    sizes = _sizes(rng, branches, communes if communes else max(1, round(branches / 10)))
    next_id = first_free_id(Unit)
    code, name = ctx.province_code, ctx.province_name
    province = Unit(id=next_id, code=code, name=name, kind="province")
    place(province, ctx.parent)
    units = [province]
    ctx.province = province
    next_id += 1
    codes: set[str] = {ctx.province_code}
    branch_names: set[str] = set()
    numbering: Counter[tuple[str, str]] = Counter()
    hamlets = place_names(rng, 400)
    terms: list[dict[str, Any]] = []
    # About one commune in five (never the first) is weaker: its branches comply less often.
    others = range(1, len(sizes))
    weaker = set(rng.sample(others, min(len(others), max(1, round(len(sizes) / 5)))))
    for index, (place_name, size) in enumerate(
        zip(place_names(rng, len(sizes)), sizes, strict=True)
    ):
        ward = rng.random() < 0.3
        initials = "".join(word[0] for word in ascii_only(place_name).split() if word[0].isalpha())
        code, k = f"{ctx.province_code}-{initials}", 2
        while code in codes:
            code, k = f"{ctx.province_code}-{initials}{k}", k + 1
        codes.add(code)
        commune = Unit(
            id=next_id,
            code=code,
            name=f"Đoàn {'phường' if ward else 'xã'} {place_name}",
            kind="ward" if ward else "commune",
        )
        next_id += 1
        place(commune, province)
        units.append(commune)
        ctx.communes.append(commune)
        prefix = "khu phố" if ward else "ấp"
        weak = index in weaker
        level = rng.uniform(0.6, 0.75) if weak else rng.uniform(0.84, 0.96)
        bases = [place_name] + [rng.choice(hamlets) for _ in range(rng.randint(1, 3))]
        for number, plan in enumerate(_plans(rng, size, index == 0, weak), start=1):
            base = rng.choice(bases)
            name = ""
            while not name or name in branch_names:
                numbering[(prefix, base)] += 1
                name = f"Chi đoàn {prefix} {base} {numbering[(prefix, base)]}"
            branch_names.add(name)
            unit = Unit(
                id=next_id, code=f"{code}-{number:02d}", name=name, kind="branch", member_count=0
            )
            next_id += 1
            place(unit, commune)
            # the first branch is the demo secretary's: it keeps its secretary
            terms.extend(secretary_terms(ctx, unit, may_be_vacant=index > 0 or number > 1))
            units.append(unit)
            ctx.branches.append(
                BranchPlan(
                    unit=unit,
                    commune=index,
                    plan=plan,
                    quality=min(
                        0.98, level + QUALITY_SHIFT.get(plan, 0.0) + rng.uniform(-0.08, 0.08)
                    ),
                    day=rng.randint(3, 26),
                    evening=rng.random() < 0.65,
                    coverage=rng.uniform(0.85, 1.0),
                )
            )
    db.session.add_all(units)
    db.session.flush()
    insert_rows(SecretaryTerm, terms)
    ctx.counts.update(units=len(units), communes=len(sizes), branches=len(ctx.branches))
    ctx.progress(
        f"Units: {ctx.province_name}, {len(sizes)} commune/ward unions, "
        f"{len(ctx.branches)} branches."
    )
