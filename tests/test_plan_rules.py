"""The pure rules of visit plans on hand-made cases: matching, states, the period's figures,
planned days and who should go where next."""

from __future__ import annotations

from datetime import date

from coso.judging import flags
from coso.plans import rules
from coso.plans.rules import Need, PlanFacts, VisitFacts

TODAY = date(2026, 6, 20)
A, B = 1, 2  # two cadres


def plan(
    pid: int = 10, start: date = date(2026, 6, 10), end: date | None = None, **kw
) -> PlanFacts:  # type: ignore[no-untyped-def]
    kw.setdefault("cadres", (A,))
    kw.setdefault("unit_path", "/1/2/3/")
    kw.setdefault("unit_id", 3)
    return PlanFacts(id=pid, start=start, end=end or start, **kw)


def visit(vid: int, user: int, day: date, path: str = "/1/2/3/", **kw) -> VisitFacts:  # type: ignore[no-untyped-def]
    return VisitFacts(id=vid, user_id=user, unit_path=path, start=day, end=day, **kw)


def test_a_visit_on_the_planned_day_fulfils_the_plan() -> None:
    p = plan()
    matches = rules.match([p], [visit(1, A, date(2026, 6, 10))])
    assert matches == {(10, A): 1}
    assert rules.plan_state(p, matches, TODAY) == rules.DONE


def test_missed_when_the_last_day_passes_without_a_visit() -> None:
    p = plan(end=date(2026, 6, 12))
    assert rules.plan_state(p, {}, TODAY) == rules.MISSED
    assert rules.plan_state(p, {}, date(2026, 6, 12)) == rules.UPCOMING  # the last day itself
    assert rules.plan_state(p, {}, date(2026, 6, 13)) == rules.MISSED


def test_another_cadre_or_another_unit_does_not_fulfil_it() -> None:
    p = plan()
    assert rules.match([p], [visit(1, B, date(2026, 6, 10))]) == {}
    assert rules.match([p], [visit(2, A, date(2026, 6, 10), path="/1/2/4/")]) == {}
    # a visit of a branch under a planned commune does
    commune = plan(unit_path="/1/2/")
    assert rules.match([commune], [visit(3, A, date(2026, 6, 10))]) == {(10, A): 3}


def test_the_day_before_counts_only_with_arrive_a_day_before() -> None:
    eve = visit(1, A, date(2026, 6, 9))
    without = plan()
    assert rules.match([without], [eve]) == {}
    assert rules.plan_state(without, {}, TODAY) == rules.MISSED
    report = rules.report([without], [eve], date(2026, 6, 1), date(2026, 6, 30), TODAY)
    assert (report.total.missed, report.total.unplanned, report.total.done) == (1, 1, 0)

    with_eve = plan(day_before=True)
    assert rules.window(with_eve) == (date(2026, 6, 9), date(2026, 6, 10))
    assert rules.match([with_eve], [eve]) == {(10, A): 1}
    report = rules.report([with_eve], [eve], date(2026, 6, 1), date(2026, 6, 30), TODAY)
    assert (report.total.done, report.total.unplanned, report.total.missed) == (1, 0, 0)
    # two days before is too early even so
    assert rules.match([with_eve], [visit(2, A, date(2026, 6, 8))]) == {}


def test_replanned_keeps_the_old_plan_and_counts_the_new_one() -> None:
    old = plan(10, date(2026, 6, 5), status=rules.REPLANNED)
    new = plan(11, date(2026, 6, 25))
    report = rules.report([old, new], [], date(2026, 6, 1), date(2026, 6, 30), TODAY)
    assert report.total.replanned == 1
    assert report.total.upcoming == 1
    assert report.total.missed == 0
    assert report.total.planned == 2
    assert rules.plan_state(old, {}, TODAY) == rules.REPLANNED
    # the new dates fulfil the new plan, not the old
    matches = rules.match([old, new], [visit(1, A, date(2026, 6, 25))])
    assert matches == {(11, A): 1}
    # the re-planned plan's own days no longer count as planned days
    assert rules.planned_days([old, new], 2026) == {A: 1}


def test_unplanned_visits_are_counted_for_the_area_the_cadre_and_the_commune() -> None:
    p = plan(area="XA-A")
    visits = [
        visit(1, A, date(2026, 6, 10), area="XA-A"),
        visit(2, B, date(2026, 6, 11), area="XA-B"),
    ]
    report = rules.report([p], visits, date(2026, 6, 1), date(2026, 6, 30), TODAY)
    assert report.total.done == 1 and report.total.unplanned == 1
    assert report.by_cadre[A].done == 1 and report.by_cadre[A].unplanned == 0
    assert report.by_cadre[B].unplanned == 1 and report.by_cadre[B].planned == 0
    assert report.by_area["XA-A"].done == 1
    assert report.by_area["XA-B"].unplanned == 1
    # a visit outside the period is not counted
    late = rules.report(
        [p], [visit(3, B, date(2026, 7, 1))], date(2026, 6, 1), date(2026, 6, 30), TODAY
    )
    assert late.total.unplanned == 0


def test_a_plan_with_two_cadres_is_done_once_one_goes_and_each_cadre_counts_their_share() -> None:
    p = plan(cadres=(A, B))
    report = rules.report(
        [p], [visit(1, A, date(2026, 6, 10))], date(2026, 6, 1), date(2026, 6, 30), TODAY
    )
    assert report.total.done == 1 and report.total.planned == 1 and report.total.missed == 0
    assert report.by_cadre[A].done == 1
    assert report.by_cadre[B].missed == 1
    # both go: still one plan done, two shares done
    both = rules.report(
        [p],
        [visit(1, A, date(2026, 6, 10)), visit(2, B, date(2026, 6, 10))],
        date(2026, 6, 1),
        date(2026, 6, 30),
        TODAY,
    )
    assert both.total.done == 1 and both.by_cadre[B].done == 1
    assert rules.planned_days([p], 2026) == {A: 1, B: 1}


def test_a_visit_fulfils_one_plan_only_and_a_hand_link_wins() -> None:
    first, second = plan(10), plan(11)
    matches = rules.match([first, second], [visit(1, A, date(2026, 6, 10))])
    assert matches == {(10, A): 1}
    # linked by hand to the second plan: the first no longer has it
    linked = plan(11, manual=((A, 1),))
    assert rules.match([first, linked], [visit(1, A, date(2026, 6, 10))]) == {(11, A): 1}
    # a hand link outside the window still counts
    far = plan(12, date(2026, 5, 1), manual=((A, 5),))
    assert rules.match([far], [visit(5, A, date(2026, 6, 15))]) == {(12, A): 5}


def test_proposals_and_declined_plans_are_never_fulfilled() -> None:
    proposed = plan(10, status=rules.PROPOSED)
    declined = plan(11, status=rules.DECLINED)
    assert rules.match([proposed, declined], [visit(1, A, date(2026, 6, 10))]) == {}
    report = rules.report([proposed, declined], [], date(2026, 6, 1), date(2026, 6, 30), TODAY)
    assert (report.total.proposed, report.total.declined, report.total.planned) == (1, 1, 0)


def test_done_share_counts_only_plans_whose_time_is_over() -> None:
    tally = rules.Tally()
    assert tally.done_share is None
    for st in (rules.DONE, rules.MISSED, rules.MISSED, rules.UPCOMING):
        tally.add(st)
    assert tally.done_share == 1 / 3
    assert tally.planned == 4


def test_who_next_orders_by_need_and_leaves_out_reached_branches() -> None:
    branches = [
        Need(1, "Flagged old", flags.FLAGGED, since=date(2026, 1, 1)),
        Need(2, "Serious", flags.FLAGGED, serious=True, since=date(2026, 5, 1)),
        Need(3, "Repeat", flags.REPEAT, since=date(2026, 3, 1)),
        Need(4, "Overdue", flags.OVERDUE, since=date(2026, 2, 1)),
        Need(5, "Never", flags.NEVER),
        Need(6, "OK", flags.OK),
        Need(7, "Never but planned", flags.NEVER),
        Need(8, "Overdue older", flags.OVERDUE, since=date(2025, 12, 1)),
    ]
    order = [b.branch_id for b in rules.who_next(branches, {7})]
    assert order == [5, 8, 4, 3, 2, 1]


def test_reached_counts_upcoming_and_proposed_plans_only() -> None:
    plans = [
        plan(10, date(2026, 6, 25), unit_id=1),  # upcoming
        plan(11, date(2026, 6, 25), unit_id=2, status=rules.PROPOSED),
        plan(12, date(2026, 6, 1), unit_id=3),  # missed
        plan(13, date(2026, 6, 25), unit_id=4, status=rules.DECLINED),
        plan(14, date(2026, 6, 10), unit_id=5),  # done
    ]
    matches = {(14, A): 99}
    assert rules.reached(plans, matches, TODAY) == {1, 2}
