"""Scoring of one branch-meeting evaluation: pure functions over plain data.

domain.md is the authority: pass earns an item's full weight, partial half, fail
nothing, and not-applicable items leave the denominator. Arithmetic is done in
:class:`~decimal.Decimal` so half weights never produce float noise, and scores
are rounded half-up to one decimal before any threshold is applied, so what a
user sees is exactly what was judged.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext
from types import MappingProxyType
from typing import Any

PASS, PARTIAL, FAIL, NA = "pass", "partial", "fail", "na"
VALUES = (PASS, PARTIAL, FAIL, NA)

PROCEDURE, CONTENT = "procedure", "content"
SECTIONS = (PROCEDURE, CONTENT)
CHOICE, COMPUTED = "choice", "computed"
KINDS = (CHOICE, COMPUTED)

#: The item whose value a too-low guided-topic coverage forces to fail.
THEME_ITEM = "C1"

#: Rule names of :class:`Reason`, in the order reasons are listed.
RULES = ("score", "critical", "attendance", "content", "serious_score", "serious_critical")

# How many critical fails make an evaluation serious.
_SERIOUS_CRITICALS = 2
# Ratios are compared with this slack so a threshold such as 2/3 or 5/6, stored as
# the nearest float, admits exactly that ratio (20 of 30, 5 of 6 …).
_RATIO_EPSILON = 1e-9
_EARNED = {PASS: Decimal(1), PARTIAL: Decimal("0.5"), FAIL: Decimal(0)}
_ONE_DECIMAL = Decimal("0.1")
_HUNDRED = Decimal(100)
# A private context: the caller's decimal settings must never change a score.
_CONTEXT = Context(prec=34)


@dataclass(frozen=True)
class Settings:
    """Thresholds of domain.md; every one is a province setting."""

    score_threshold: float = 70.0  # under it -> non-compliant
    serious_threshold: float = 50.0  # under it -> serious
    attendance_ratio: float = 2 / 3  # at or above -> P4 pass
    attendance_floor: float = 0.5  # at/above floor but under ratio -> partial; under -> fail
    content_floor: float = 0.5  # guided-topic coverage under it fails C1: non-compliant
    overdue_days: int = 90
    correction_hours: int = 48
    unack_days: int = 7
    visit_target: int = 60
    report_days: int = 10  # a visit's written report is due this many days after it

    def __post_init__(self) -> None:
        """Reject settings that would make the rules contradict themselves."""
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"{f.name} must be a number, not {value!r}")
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{f.name} must be a finite number >= 0, not {value!r}")
            if f.type == "int" and not isinstance(value, int):
                raise ValueError(f"{f.name} must be a whole number, not {value!r}")
            if f.type == "float" and isinstance(value, int):
                object.__setattr__(self, f.name, float(value))  # 70 and 70.0 are one setting
        for name in ("score_threshold", "serious_threshold"):
            if getattr(self, name) > 100:
                raise ValueError(f"{name} must be within 0..100")
        for name in ("attendance_ratio", "attendance_floor", "content_floor"):
            if getattr(self, name) > 1:
                raise ValueError(f"{name} is a share and must be within 0..1")
        if self.attendance_floor > self.attendance_ratio:
            raise ValueError("attendance_floor must not exceed attendance_ratio")
        if self.serious_threshold > self.score_threshold:
            # Otherwise an evaluation could be serious yet compliant.
            raise ValueError("serious_threshold must not exceed score_threshold")

    @classmethod
    def from_mapping(cls, data: Mapping[str, object]) -> Settings:
        """Build settings from stored or submitted data.

        Unknown keys and ``None`` values are ignored (the default stands); values are
        coerced to the field's type, so ``"70"`` and ``90.0`` are accepted.

        :raise ValueError: a value is not a number, or not a whole number for a day or
            hour count, or the result is inconsistent.
        """
        kwargs: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            raw = data.get(f.name)
            if raw is None:
                continue
            kwargs[f.name] = _coerce(f.name, raw, integer=f.type == "int")
        return cls(**kwargs)

    def as_dict(self) -> dict[str, float | int]:
        """Every setting by name, JSON-serialisable."""
        return dataclasses.asdict(self)


#: The defaults of domain.md, for callers that have no province settings at hand.
DEFAULT_SETTINGS = Settings()


def _coerce(name: str, raw: object, *, integer: bool) -> float | int:
    """Turn one stored or submitted value into a float, or an int for counts."""
    if isinstance(raw, bool):
        raise ValueError(f"{name} must be a number, not {raw!r}")
    try:
        value = float(raw.strip() if isinstance(raw, str) else raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, not {raw!r}") from None
    if not integer:
        return value
    if not value.is_integer():
        raise ValueError(f"{name} must be a whole number, not {raw!r}")
    return int(value)


@dataclass(frozen=True)
class ItemSpec:
    """One checklist item as scoring needs it."""

    code: str  # "P1"
    section: str  # "procedure" | "content"
    weight: float
    critical: bool
    kind: str = CHOICE  # "choice" | "computed" (P4: derived from attendance)


@dataclass(frozen=True)
class Reason:
    """One rule that made an evaluation non-compliant or serious."""

    rule: str  # one of RULES
    items: tuple[str, ...] = ()  # item codes involved (e.g. the failed critical items)
    value: float | None = None  # the measured value (score, ratio as 0..1, coverage as 0..1)
    threshold: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict (lists, not tuples)."""
        return {
            "rule": self.rule,
            "items": list(self.items),
            "value": self.value,
            "threshold": self.threshold,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Reason:
        """Rebuild a reason stored by :meth:`as_dict`; missing keys take their default."""
        value, threshold = d.get("value"), d.get("threshold")
        return cls(
            rule=str(d["rule"]),
            items=tuple(str(code) for code in d.get("items") or ()),
            value=None if value is None else float(value),
            threshold=None if threshold is None else float(threshold),
        )


@dataclass(frozen=True)
class Outcome:
    """Everything scoring decided about one evaluation."""

    score: float | None  # 0..100, one decimal; None if every item is na
    procedure_score: float | None
    content_score: float | None
    compliant: bool
    serious: bool
    reasons: tuple[Reason, ...]  # every rule that holds, in the order of RULES
    attendance: float | None  # present/total, None if total == 0
    topic_coverage: float | None  # covered/total guided topics, None without topics
    effective: Mapping[str, str]  # item code -> the value actually scored, template order
    critical_failed: tuple[str, ...]  # template order

    def as_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict, for storage and the sync API."""
        return {
            "compliant": self.compliant,
            "serious": self.serious,
            "score": self.score,
            "procedure_score": self.procedure_score,
            "content_score": self.content_score,
            "reasons": [reason.as_dict() for reason in self.reasons],
            "attendance": self.attendance,
            "topic_coverage": self.topic_coverage,
            "effective": dict(self.effective),
            "critical_failed": list(self.critical_failed),
        }

    def columns(self) -> dict[str, Any]:
        """The evaluation's stored judgement: its column values, by column name."""
        return {
            "score": self.score,
            "procedure_score": self.procedure_score,
            "content_score": self.content_score,
            "compliant": self.compliant,
            "serious": self.serious,
            "attendance": self.attendance,
            "topic_coverage": self.topic_coverage,
            "reasons": [reason.as_dict() for reason in self.reasons],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Outcome:
        """Rebuild an outcome stored by :meth:`as_dict`."""
        return cls(
            score=d["score"],
            procedure_score=d["procedure_score"],
            content_score=d["content_score"],
            compliant=bool(d["compliant"]),
            serious=bool(d["serious"]),
            reasons=tuple(Reason.from_dict(r) for r in d.get("reasons") or ()),
            attendance=d.get("attendance"),
            topic_coverage=d.get("topic_coverage"),
            effective=MappingProxyType(dict(d.get("effective") or {})),
            critical_failed=tuple(d.get("critical_failed") or ()),
        )


def _ratio(part: int, whole: int) -> float | None:
    """``part / whole``, or None when there is nothing to divide by."""
    return part / whole if whole > 0 else None


def _under(ratio: float, threshold: float) -> bool:
    """Whether a ratio of counts is under a threshold, forgiving float noise."""
    return ratio < threshold - _RATIO_EPSILON


def attendance_value(members_total: int, members_present: int, settings: Settings) -> str:
    """The value of the computed attendance item (P4).

    Counts are validated by the caller; with nobody on the roll the item is na.
    """
    ratio = _ratio(members_present, members_total)
    if ratio is None:
        return NA
    if not _under(ratio, settings.attendance_ratio):
        return PASS
    if not _under(ratio, settings.attendance_floor):
        return PARTIAL
    return FAIL


def _percent(earned: Decimal, possible: Decimal) -> float | None:
    """``earned / possible`` as a percentage rounded half-up to one decimal."""
    if not possible:
        return None
    with localcontext(_CONTEXT):
        exact = earned * _HUNDRED / possible
        return float(exact.quantize(_ONE_DECIMAL, rounding=ROUND_HALF_UP))


def _weight(item: ItemSpec) -> Decimal:
    """An item's weight as the decimal it was written as (0.5, not 0.5000000001)."""
    if isinstance(item.weight, bool) or not isinstance(item.weight, int | float):
        raise ValueError(f"item {item.code!r} has a non-numeric weight {item.weight!r}")
    if not math.isfinite(item.weight) or item.weight < 0:
        raise ValueError(f"item {item.code!r} has an invalid weight {item.weight!r}")
    return Decimal(str(item.weight))


def _effective_values(
    items: Sequence[ItemSpec],
    answers: Mapping[str, str],
    attendance: str,
    theme_forced: bool,
) -> dict[str, str]:
    """The value each item is scored with, in template order."""
    effective: dict[str, str] = {}
    for item in items:
        if item.code in effective:
            raise ValueError(f"item {item.code!r} appears twice in the checklist")
        if item.section not in SECTIONS:
            raise ValueError(f"item {item.code!r} has unknown section {item.section!r}")
        if item.kind == COMPUTED:
            value = attendance  # any answer given is ignored: the counts decide
        elif item.kind == CHOICE:
            if item.code not in answers:
                raise ValueError(f"no answer for item {item.code!r}")
            value = answers[item.code]
            if value not in VALUES:
                raise ValueError(f"unknown value {value!r} for item {item.code!r}")
        else:
            raise ValueError(f"item {item.code!r} has unknown kind {item.kind!r}")
        if theme_forced and item.code == THEME_ITEM:
            value = FAIL
        effective[item.code] = value
    return effective


def score_evaluation(
    items: Sequence[ItemSpec],
    answers: Mapping[str, str],
    *,
    members_total: int,
    members_present: int,
    topics_total: int,
    topics_covered: int,
    settings: Settings = DEFAULT_SETTINGS,
) -> Outcome:
    """Score one evaluation and judge it against the flag rules of domain.md.

    :param items: the checklist template version the evaluation was filled on.
    :param answers: item code -> value for every ``choice`` item; answers for
        computed items and for codes not in ``items`` are ignored.
    :raise ValueError: an answer is missing or unknown, or the checklist is malformed.
    """
    attendance = _ratio(members_present, members_total)
    coverage = _ratio(topics_covered, topics_total)
    content_low = coverage is not None and _under(coverage, settings.content_floor)
    effective = _effective_values(
        items,
        answers,
        attendance_value(members_total, members_present, settings),
        content_low,
    )

    earned = {section: Decimal(0) for section in SECTIONS}
    possible = {section: Decimal(0) for section in SECTIONS}
    with localcontext(_CONTEXT):
        for item in items:
            value = effective[item.code]
            if value != NA:
                weight = _weight(item)
                possible[item.section] += weight
                earned[item.section] += weight * _EARNED[value]
        total_earned, total_possible = sum(earned.values()), sum(possible.values())
    score = _percent(total_earned, total_possible)
    critical_failed = tuple(
        item.code for item in items if item.critical and effective[item.code] == FAIL
    )

    reasons: list[Reason] = []
    if score is not None and score < settings.score_threshold:
        reasons.append(Reason("score", value=score, threshold=settings.score_threshold))
    if critical_failed:
        reasons.append(Reason("critical", items=critical_failed))
    if attendance is not None and _under(attendance, settings.attendance_floor):
        reasons.append(Reason("attendance", value=attendance, threshold=settings.attendance_floor))
    if content_low:
        reasons.append(Reason("content", value=coverage, threshold=settings.content_floor))
    compliant = not reasons
    serious_score = score is not None and score < settings.serious_threshold
    serious_critical = len(critical_failed) >= _SERIOUS_CRITICALS
    if serious_score:
        reasons.append(Reason("serious_score", value=score, threshold=settings.serious_threshold))
    if serious_critical:
        reasons.append(
            Reason(
                "serious_critical",
                items=critical_failed,
                value=float(len(critical_failed)),
                threshold=float(_SERIOUS_CRITICALS),
            )
        )

    return Outcome(
        score=score,
        procedure_score=_percent(earned[PROCEDURE], possible[PROCEDURE]),
        content_score=_percent(earned[CONTENT], possible[CONTENT]),
        compliant=compliant,
        serious=serious_score or serious_critical,
        reasons=tuple(reasons),
        attendance=attendance,
        topic_coverage=coverage,
        effective=MappingProxyType(effective),
        critical_failed=critical_failed,
    )
