"""Scoring of one evaluation against the default checklist and flag rules of domain.md."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from decimal import localcontext

import pytest

from coso.judging.scoring import (
    FAIL,
    NA,
    PARTIAL,
    PASS,
    Outcome,
    Reason,
    Settings,
    attendance_value,
    score_evaluation,
)
from coso.judging.scoring import ItemSpec as Item

# (code, section, weight, critical, kind) — the default checklist of domain.md.
DEFAULT_CHECKLIST: tuple[Item, ...] = (
    Item("P1", "procedure", 4, True),
    Item("P2", "procedure", 4, True),
    Item("P3", "procedure", 3, False),
    Item("P4", "procedure", 8, True, "computed"),
    Item("P5", "procedure", 3, False),
    Item("P6", "procedure", 6, False),
    Item("P7", "procedure", 6, False),
    Item("P8", "procedure", 5, False),
    Item("P9", "procedure", 5, False),
    Item("P10", "procedure", 6, True),
    Item("P11", "procedure", 2, False),
    Item("P12", "procedure", 2, False),
    Item("C1", "content", 10, True),
    Item("C2", "content", 8, False),
    Item("C3", "content", 3, False),
    Item("C4", "content", 6, False),
    Item("C5", "content", 4, False),
    Item("C6", "content", 4, False),
    Item("C7", "content", 4, False),
    Item("C8", "content", 5, True),
    Item("C9", "content", 2, False),
)
CRITICAL_CHOICES = ("P1", "P2", "P10", "C1", "C8")
NON_CRITICAL = ("P3", "P5", "P6", "P7", "P8", "P9", "P11", "P12")
NON_CRITICAL += ("C2", "C3", "C4", "C5", "C6", "C7", "C9")


@pytest.fixture
def checklist() -> tuple[Item, ...]:
    """The default checklist of domain.md."""
    return DEFAULT_CHECKLIST


def answers_for(
    items: Sequence[Item], overrides: Mapping[str, str] | None = None, default: str = PASS
) -> dict[str, str]:
    """An answer for every choice item: ``default`` unless overridden."""
    answers = {item.code: default for item in items if item.kind == "choice"}
    answers.update(overrides or {})
    return answers


def evaluate(
    items: Sequence[Item],
    overrides: Mapping[str, str] | None = None,
    *,
    default: str = PASS,
    total: int = 30,
    present: int = 30,
    topics_total: int = 4,
    topics_covered: int = 4,
    settings: Settings | None = None,
) -> Outcome:
    """Score a meeting that did everything right unless told otherwise."""
    return score_evaluation(
        items,
        answers_for(items, overrides, default),
        members_total=total,
        members_present=present,
        topics_total=topics_total,
        topics_covered=topics_covered,
        settings=settings or Settings(),
    )


def weighted(*parts: tuple[float, str]) -> tuple[list[Item], dict[str, str]]:
    """A one-section checklist of (weight, value) items, with its answers."""
    items = [Item(f"X{i}", "procedure", w, False) for i, (w, _) in enumerate(parts)]
    return items, {item.code: value for item, (_, value) in zip(items, parts, strict=True)}


def test_default_checklist_weights_match_domain(checklist: tuple[Item, ...]) -> None:
    assert sum(i.weight for i in checklist) == 100
    assert sum(i.weight for i in checklist if i.section == "procedure") == 54
    assert sum(i.weight for i in checklist if i.section == "content") == 46


def test_all_pass_scores_100_and_is_compliant(checklist: tuple[Item, ...]) -> None:
    outcome = evaluate(checklist)
    assert (outcome.score, outcome.procedure_score, outcome.content_score) == (100.0, 100.0, 100.0)
    assert outcome.compliant and not outcome.serious
    assert outcome.reasons == ()
    assert outcome.critical_failed == ()
    assert outcome.attendance == 1.0
    assert outcome.topic_coverage == 1.0
    assert list(outcome.effective) == [item.code for item in checklist]
    assert set(outcome.effective.values()) == {PASS}


@pytest.mark.parametrize(
    ("overrides", "score", "procedure", "content"),
    [
        ({"P11": NA, "P12": NA}, 100.0, 100.0, 100.0),
        # 94 of 97 overall, 48 of 51 for procedure.
        ({"P3": NA, "P5": FAIL}, 96.9, 94.1, 100.0),
        ({"C2": NA, "C3": FAIL}, 96.7, 100.0, 92.1),
        # A whole section na: it has no score, and the other section is the score.
        ({f"C{n}": NA for n in range(1, 10)} | {"P6": FAIL}, 88.9, 88.9, None),
    ],
)
def test_na_leaves_the_denominator(
    checklist: tuple[Item, ...],
    overrides: dict[str, str],
    score: float,
    procedure: float,
    content: float | None,
) -> None:
    outcome = evaluate(checklist, overrides)
    assert (outcome.score, outcome.procedure_score, outcome.content_score) == (
        score,
        procedure,
        content,
    )
    assert all(outcome.effective[code] == value for code, value in overrides.items())


def test_whole_procedure_na_with_nobody_on_the_roll(checklist: tuple[Item, ...]) -> None:
    procedure_na = {item.code: NA for item in checklist if item.section == "procedure"}
    outcome = evaluate(checklist, procedure_na, total=0, present=0)
    assert outcome.procedure_score is None
    assert outcome.score == outcome.content_score == 100.0


def test_every_item_na_has_no_score(checklist: tuple[Item, ...]) -> None:
    outcome = evaluate(checklist, default=NA, total=0, present=0, topics_total=0, topics_covered=0)
    assert (outcome.score, outcome.procedure_score, outcome.content_score) == (None, None, None)
    assert outcome.compliant and outcome.reasons == ()


@pytest.mark.parametrize(
    ("overrides", "score", "procedure", "content"),
    [
        ({"P6": PARTIAL}, 97.0, 94.4, 100.0),
        ({"C2": PARTIAL}, 96.0, 100.0, 91.3),
        ({"P1": PARTIAL, "C1": PARTIAL}, 93.0, 96.3, 89.1),
    ],
)
def test_partial_earns_half(
    checklist: tuple[Item, ...],
    overrides: dict[str, str],
    score: float,
    procedure: float,
    content: float,
) -> None:
    outcome = evaluate(checklist, overrides)
    assert (outcome.score, outcome.procedure_score, outcome.content_score) == (
        score,
        procedure,
        content,
    )
    assert outcome.compliant  # a partial on a critical item is not a fail


def test_everything_partial_is_exactly_the_serious_threshold(checklist: tuple[Item, ...]) -> None:
    # 18 of 30 present is partial attendance, so every item earns half: 50.0, not serious.
    outcome = evaluate(checklist, default=PARTIAL, present=18)
    assert outcome.score == 50.0
    assert not outcome.compliant and not outcome.serious
    assert outcome.reasons == (Reason("score", value=50.0, threshold=70.0),)


@pytest.mark.parametrize("code", CRITICAL_CHOICES)
def test_a_critical_fail_alone_is_non_compliant(checklist: tuple[Item, ...], code: str) -> None:
    outcome = evaluate(checklist, {code: FAIL})
    weight = next(item.weight for item in checklist if item.code == code)
    assert outcome.score == 100 - weight >= 70
    assert not outcome.compliant and not outcome.serious
    assert outcome.critical_failed == (code,)
    assert outcome.reasons == (Reason("critical", items=(code,)),)


@pytest.mark.parametrize("code", NON_CRITICAL)
def test_a_non_critical_fail_alone_is_compliant(checklist: tuple[Item, ...], code: str) -> None:
    outcome = evaluate(checklist, {code: FAIL})
    assert outcome.compliant and outcome.reasons == ()


@pytest.mark.parametrize(
    ("total", "present", "value", "settings"),
    [
        (30, 20, PASS, Settings()),  # exactly 2/3
        (3, 2, PASS, Settings()),
        (30, 19, PARTIAL, Settings()),  # just under 2/3
        (20, 10, PARTIAL, Settings()),  # exactly the floor
        (20, 9, FAIL, Settings()),  # under the floor
        (0, 0, NA, Settings()),
        (6, 5, PASS, Settings(attendance_ratio=5 / 6)),  # 5/6 as a float rounds up
        (10, 7, PASS, Settings(attendance_ratio=0.1 * 7)),  # 0.7000000000000001
        (10, 7, PARTIAL, Settings(attendance_ratio=0.75, attendance_floor=0.6)),
        (10, 5, FAIL, Settings(attendance_ratio=0.75, attendance_floor=0.6)),
    ],
)
def test_attendance_value(total: int, present: int, value: str, settings: Settings) -> None:
    assert attendance_value(total, present, settings) == value


@pytest.mark.parametrize(
    ("total", "present", "p4", "compliant", "reasons"),
    [
        (30, 20, PASS, True, ()),
        (30, 19, PARTIAL, True, ()),
        (20, 10, PARTIAL, True, ()),
        (
            20,
            9,
            FAIL,
            False,
            (Reason("critical", items=("P4",)), Reason("attendance", value=0.45, threshold=0.5)),
        ),
        (0, 0, NA, True, ()),
    ],
)
def test_attendance_decides_p4(
    checklist: tuple[Item, ...],
    total: int,
    present: int,
    p4: str,
    compliant: bool,
    reasons: tuple[Reason, ...],
) -> None:
    # Whatever the cadre answered for P4 is ignored: the counts decide.
    outcome = evaluate(
        checklist, {"P4": FAIL if p4 == PASS else PASS}, total=total, present=present
    )
    assert outcome.effective["P4"] == p4
    assert outcome.compliant is compliant
    assert outcome.reasons == reasons
    assert outcome.attendance == (present / total if total else None)


def test_attendance_without_p4_still_judged() -> None:
    items, answers = weighted((10, PASS))
    outcome = score_evaluation(
        items, answers, members_total=10, members_present=4, topics_total=0, topics_covered=0
    )
    assert outcome.score == 100.0
    assert outcome.reasons == (Reason("attendance", value=0.4, threshold=0.5),)


@pytest.mark.parametrize(
    ("topics_total", "covered", "c1_answer", "c1", "coverage", "reasons"),
    [
        (4, 1, PASS, FAIL, 0.25, ("critical", "content")),
        (3, 1, PARTIAL, FAIL, 1 / 3, ("critical", "content")),
        (4, 2, PASS, PASS, 0.5, ()),  # exactly the floor
        (4, 2, PARTIAL, PARTIAL, 0.5, ()),
        (0, 0, PASS, PASS, None, ()),  # guidance without topics
        (0, 0, PARTIAL, PARTIAL, None, ()),
    ],
)
def test_topic_coverage_decides_c1(
    checklist: tuple[Item, ...],
    topics_total: int,
    covered: int,
    c1_answer: str,
    c1: str,
    coverage: float | None,
    reasons: tuple[str, ...],
) -> None:
    outcome = evaluate(
        checklist, {"C1": c1_answer}, topics_total=topics_total, topics_covered=covered
    )
    assert outcome.effective["C1"] == c1
    assert outcome.topic_coverage == coverage
    assert tuple(r.rule for r in outcome.reasons) == reasons
    if reasons:
        assert outcome.reasons == (
            Reason("critical", items=("C1",)),
            Reason("content", value=coverage, threshold=0.5),
        )
        assert outcome.score == 90.0


def test_low_coverage_without_c1_is_non_compliant_but_not_critical() -> None:
    items, answers = weighted((10, PASS))
    outcome = score_evaluation(
        items, answers, members_total=10, members_present=10, topics_total=5, topics_covered=2
    )
    assert outcome.critical_failed == ()
    assert outcome.reasons == (Reason("content", value=0.4, threshold=0.5),)


def test_serious_by_score(checklist: tuple[Item, ...]) -> None:
    outcome = evaluate(checklist, dict.fromkeys(NON_CRITICAL, FAIL))
    assert outcome.score == 37.0
    assert not outcome.compliant and outcome.serious
    assert outcome.reasons == (
        Reason("score", value=37.0, threshold=70.0),
        Reason("serious_score", value=37.0, threshold=50.0),
    )


@pytest.mark.parametrize(
    ("overrides", "present", "covered", "failed"),
    [
        ({"P1": FAIL, "C8": FAIL}, 30, 4, ("P1", "C8")),
        ({"C8": FAIL, "P2": FAIL, "P10": FAIL}, 30, 4, ("P2", "P10", "C8")),
        ({}, 10, 1, ("P4", "C1")),  # low attendance and low coverage
    ],
)
def test_serious_by_two_critical_fails(
    checklist: tuple[Item, ...],
    overrides: dict[str, str],
    present: int,
    covered: int,
    failed: tuple[str, ...],
) -> None:
    outcome = evaluate(checklist, overrides, present=present, topics_covered=covered)
    assert not outcome.compliant and outcome.serious
    assert outcome.critical_failed == failed  # in template order
    assert outcome.reasons[0] == Reason("critical", items=failed)
    assert outcome.reasons[-1] == Reason(
        "serious_critical", items=failed, value=float(len(failed)), threshold=2.0
    )


def test_reasons_come_in_a_stable_order(checklist: tuple[Item, ...]) -> None:
    overrides = dict.fromkeys(NON_CRITICAL, FAIL) | {"P1": FAIL}
    outcome = evaluate(checklist, overrides, present=10, topics_covered=1)
    assert [r.rule for r in outcome.reasons] == [
        "score",
        "critical",
        "attendance",
        "content",
        "serious_score",
        "serious_critical",
    ]
    assert outcome.critical_failed == ("P1", "P4", "C1")


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        # 32.5 / 40 = 81.25 exactly; round(81.25, 1) is 81.2 (half to even).
        (((20, PASS), (10, PASS), (5, PARTIAL), (5, FAIL)), 81.3),
        # 11.5 / 40 * 100 = 28.75, which float arithmetic makes 28.749999999999996.
        (((10, PASS), (3, PARTIAL), (27, FAIL)), 28.8),
        # 1.25 / 2 = 62.5: half weights never add float noise.
        (((0.5, PASS), (0.5, PASS), (0.5, PARTIAL), (0.5, FAIL)), 62.5),
        (((0.1, PASS), (0.2, PASS), (0.3, FAIL)), 50.0),
        # 2/3 -> 66.666…: ordinary rounding.
        (((2, PASS), (1, FAIL)), 66.7),
    ],
)
def test_scores_round_half_up_to_one_decimal(
    parts: tuple[tuple[float, str], ...], expected: float
) -> None:
    items, answers = weighted(*parts)
    kwargs = {"members_total": 0, "members_present": 0, "topics_total": 0, "topics_covered": 0}
    outcome = score_evaluation(items, answers, **kwargs)
    assert outcome.score == outcome.procedure_score == expected
    # The caller's decimal context must not change a score.
    with localcontext() as ctx:
        ctx.prec = 2
        assert score_evaluation(items, answers, **kwargs).score == expected


def test_float_rounding_would_have_misrounded() -> None:
    """The cases above are real traps: naive float rounding gets them wrong."""
    assert round(32.5 / 40 * 100, 1) == 81.2
    assert round(11.5 / 40 * 100, 1) == 28.7


@pytest.mark.parametrize(
    ("parts", "score", "compliant"),
    [
        (((70, PASS), (30, FAIL)), 70.0, True),
        (((1399, PASS), (601, FAIL)), 70.0, True),  # 69.95 is shown, and judged, as 70.0
        (((6994, PASS), (3006, FAIL)), 69.9, False),  # 69.94
        (((699, PASS), (301, FAIL)), 69.9, False),
    ],
)
def test_the_rounded_score_is_judged(
    parts: tuple[tuple[float, str], ...], score: float, compliant: bool
) -> None:
    items, answers = weighted(*parts)
    outcome = score_evaluation(
        items, answers, members_total=0, members_present=0, topics_total=0, topics_covered=0
    )
    assert outcome.score == score
    assert outcome.compliant is compliant
    assert outcome.reasons == (() if compliant else (Reason("score", value=score, threshold=70.0),))


def test_exactly_70_on_the_default_checklist_is_compliant(checklist: tuple[Item, ...]) -> None:
    outcome = evaluate(checklist, dict.fromkeys(("P6", "P7", "P8", "P9", "C2"), FAIL))
    assert outcome.score == 70.0 and outcome.compliant


@pytest.mark.parametrize(
    ("settings", "overrides", "present", "covered", "rules"),
    [
        (
            Settings(score_threshold=80),
            {"P6": FAIL, "P7": FAIL, "P8": FAIL, "P9": FAIL},
            30,
            4,
            ("score",),
        ),
        (
            Settings(score_threshold=60),
            dict.fromkeys(("P6", "P7", "P8", "P9", "C2", "C4"), FAIL),
            30,
            4,
            (),
        ),
        (
            Settings(serious_threshold=70),
            dict.fromkeys(("P6", "P7", "P8", "P9", "C2", "C4"), FAIL),
            30,
            4,
            ("score", "serious_score"),
        ),
        (
            Settings(attendance_ratio=0.9, attendance_floor=0.8),
            {},
            23,
            4,
            ("critical", "attendance"),
        ),
        (Settings(attendance_ratio=0.9, attendance_floor=0.8), {}, 24, 4, ()),
        (Settings(content_floor=0.75), {}, 30, 2, ("critical", "content")),
        (Settings(content_floor=0.75), {}, 30, 3, ()),
    ],
)
def test_custom_settings(
    checklist: tuple[Item, ...],
    settings: Settings,
    overrides: dict[str, str],
    present: int,
    covered: int,
    rules: tuple[str, ...],
) -> None:
    outcome = evaluate(
        checklist, overrides, present=present, topics_covered=covered, settings=settings
    )
    assert tuple(r.rule for r in outcome.reasons) == rules
    assert outcome.compliant is not any(
        r in rules for r in ("score", "critical", "attendance", "content")
    )


def test_answers_for_computed_and_unknown_items_are_ignored(checklist: tuple[Item, ...]) -> None:
    outcome = evaluate(checklist, {"P4": "whatever", "Z9": FAIL})
    assert outcome.score == 100.0
    assert "Z9" not in outcome.effective


@pytest.mark.parametrize(
    ("items", "answers", "message"),
    [
        (DEFAULT_CHECKLIST, answers_for(DEFAULT_CHECKLIST) | {"P3": "PASS"}, "unknown value"),
        (DEFAULT_CHECKLIST, answers_for(DEFAULT_CHECKLIST) | {"C9": ""}, "unknown value"),
        (
            DEFAULT_CHECKLIST,
            {k: v for k, v in answers_for(DEFAULT_CHECKLIST).items() if k != "C5"},
            "no answer",
        ),
        ([Item("A", "procedure", 1, False), Item("A", "content", 1, False)], {"A": PASS}, "twice"),
        ([Item("A", "other", 1, False)], {"A": PASS}, "section"),
        ([Item("A", "procedure", 1, False, "free")], {"A": PASS}, "kind"),
        ([Item("A", "procedure", -1, False)], {"A": PASS}, "weight"),
        ([Item("A", "procedure", float("nan"), False)], {"A": PASS}, "weight"),
    ],
)
def test_bad_input_raises_value_error(
    items: Sequence[Item], answers: dict[str, str], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        score_evaluation(
            items, answers, members_total=10, members_present=10, topics_total=0, topics_covered=0
        )


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({}, Settings()),
        ({"unknown": "x", "score_threshold": None}, Settings()),
        (
            {"score_threshold": "65.5", "overdue_days": "120"},
            Settings(score_threshold=65.5, overdue_days=120),
        ),
        (
            {"visit_target": 30.0, "attendance_floor": 0, "unack_days": " 5 "},
            Settings(visit_target=30, attendance_floor=0.0, unack_days=5),
        ),
        (
            {"attendance_ratio": "0.75", "content_floor": 1},
            Settings(attendance_ratio=0.75, content_floor=1.0),
        ),
    ],
)
def test_settings_from_mapping(data: dict[str, object], expected: Settings) -> None:
    settings = Settings.from_mapping(data)
    assert settings == expected
    assert all(type(v) is type(getattr(Settings(), k)) for k, v in settings.as_dict().items())


@pytest.mark.parametrize(
    "data",
    [
        {"score_threshold": "seventy"},
        {"overdue_days": 90.5},
        {"overdue_days": True},
        {"visit_target": -1},
        {"score_threshold": 101},
        {"attendance_ratio": 1.5},
        {"content_floor": float("nan")},
        {"attendance_floor": 0.8},  # above the 2/3 ratio
        {"serious_threshold": 75},  # above the score threshold: serious yet compliant
        {"score_threshold": [70]},
    ],
)
def test_settings_from_mapping_rejects_bad_values(data: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        Settings.from_mapping(data)


def test_settings_keep_their_types() -> None:
    assert Settings(score_threshold=75).as_dict()["score_threshold"] == 75.0
    assert isinstance(Settings(score_threshold=75).score_threshold, float)


def test_settings_round_trip_through_json() -> None:
    settings = Settings(score_threshold=75, overdue_days=60)
    assert Settings.from_mapping(json.loads(json.dumps(settings.as_dict()))) == settings


def test_outcome_as_dict_is_json_and_round_trips(checklist: tuple[Item, ...]) -> None:
    outcome = evaluate(checklist, {"P1": FAIL, "P6": PARTIAL}, present=9, topics_covered=1)
    data = json.loads(json.dumps(outcome.as_dict()))
    assert data["compliant"] is False and data["serious"] is True
    assert data["score"] == outcome.score
    assert {"procedure_score", "content_score", "attendance", "topic_coverage"} <= set(data)
    assert data["reasons"][0] == {
        "rule": "critical",
        "items": ["P1", "P4", "C1"],
        "value": None,
        "threshold": None,
    }
    assert data["critical_failed"] == ["P1", "P4", "C1"]
    assert data["effective"]["P4"] == FAIL
    assert Outcome.from_dict(data) == outcome


def test_reason_from_dict_fills_defaults() -> None:
    assert Reason.from_dict({"rule": "critical", "items": ["C8"]}) == Reason("critical", ("C8",))
    assert Reason.from_dict({"rule": "score", "value": 61, "threshold": 70}) == Reason(
        "score", value=61.0, threshold=70.0
    )


def test_effective_values_cannot_be_changed(checklist: tuple[Item, ...]) -> None:
    outcome = evaluate(checklist)
    with pytest.raises(TypeError):
        outcome.effective["P1"] = FAIL  # type: ignore[index]
