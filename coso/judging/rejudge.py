"""Changing a unit's thresholds, and re-judging branch states after it.

A branch's state comes from the compliance of its latest run of evaluations
(``flags``). When a threshold changes, that run is scored again — each
evaluation on the template version it was filled on, with the settings now in
force — walking back from the newest until one disagrees with it, which is
exactly how far the state looks. Older evaluations keep the judgement they got
under the rules of their day, and branches whose run did not change are left
alone, so the cost follows what changed, not the size of the history.

Known limit: when guided-topic coverage forced C1 to fail, the stored answer
is that fail (the cadre's own answer was not kept), so lowering the content
floor cannot turn it back into a pass.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from coso import audit, clock
from coso.audit import changes
from coso.checklists.rules import item_specs
from coso.evaluations.queries import not_superseded
from coso.extensions import db
from coso.judging import flags
from coso.judging.queries import count_states, inherited, settings_for_path, settings_for_paths
from coso.judging.scoring import Outcome, Settings, score_evaluation
from coso.judging.service import recompute
from coso.models import (
    ChecklistTemplate,
    Evaluation,
    EvaluationAnswer,
    Guidance,
    Unit,
    UnitSettings,
    User,
)

_CHUNK = 500


class SettingsProblem(Exception):
    """Settings that contradict each other, in words."""


@dataclass
class RejudgeSummary:
    """What a re-judgement changed."""

    evaluations: int = 0  # evaluations whose judgement changed
    branches: int = 0  # branches whose state was recomputed
    before: Counter[str] = field(default_factory=Counter)
    after: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {
            "evaluations": self.evaluations,
            "branches": self.branches,
            "before": dict(self.before),
            "after": dict(self.after),
        }


def rescore(
    evaluation: Evaluation, template: ChecklistTemplate, topics_total: int, settings: Settings
) -> Outcome:
    """Score a stored evaluation again on its own template version."""
    answers = {answer.item_code: answer.value for answer in evaluation.answers}
    return score_evaluation(
        item_specs(template),
        answers,
        members_total=evaluation.members_total,
        members_present=evaluation.members_present,
        topics_total=topics_total,
        topics_covered=len(set(evaluation.topics_covered or ())),
        settings=settings,
    )


def topics_total_when_filled(evaluation: Evaluation, now: int) -> int:
    """How many topics the guidance had when ``evaluation`` was judged (``now`` if unknown).

    Used guidance may gain topics later (coso.guidance.rules.frozen_changes); an
    evaluation is re-scored against the topics it was filled on, read back from its
    stored coverage, so an added topic never lowers an old meeting's coverage.
    """
    covered = len(set(evaluation.topics_covered or ()))
    coverage = evaluation.topic_coverage
    if covered and coverage:
        return max(covered, round(covered / coverage))
    return now


def _store_outcome(evaluation: Evaluation, outcome: Outcome) -> bool:
    """Write a new judgement onto the evaluation; True when anything changed."""
    new = outcome.columns()
    changed = any(getattr(evaluation, key) != value for key, value in new.items())
    if changed:
        for key, value in new.items():
            setattr(evaluation, key, value)
    stored = {answer.item_code: answer for answer in evaluation.answers}
    for code, value in outcome.effective.items():
        answer: EvaluationAnswer | None = stored.get(code)
        if answer is not None and answer.value != value:
            answer.value = value  # the computed attendance item and a forced C1
            changed = True
    return changed


def rejudge(root: Unit, today: date | None = None) -> RejudgeSummary:
    """Re-judge the latest run of every branch under ``root`` and recompute changed states.

    Runs in the caller's transaction; returns effective-state counts before and after.
    """
    today = today or clock.today()
    summary = RejudgeSummary(before=_counts(root, today))
    candidates = _runs_newest_first(root)
    templates: dict[int, ChecklistTemplate] = {}
    topics: dict[int, int] = {}
    changed_branches: set[int] = set()
    agreed: dict[int, bool] = {}  # branch -> the newest evaluation's new compliance
    step = 0
    active = {branch_id for branch_id, ids in candidates.items() if ids}
    while active:
        wanted = {branch_id: candidates[branch_id][step] for branch_id in active}
        loaded = _load(list(wanted.values()))
        settings = settings_for_paths({evaluation.branch.path for evaluation in loaded})
        for evaluation in loaded:
            branch = evaluation.branch
            template = templates.get(evaluation.template_id) or evaluation.template
            templates[template.id] = template
            if evaluation.guidance_id and evaluation.guidance_id not in topics:
                guidance: Guidance | None = evaluation.guidance
                topics[evaluation.guidance_id] = len(guidance.topics) if guidance else 0
            try:
                outcome = rescore(
                    evaluation,
                    template,
                    topics_total_when_filled(
                        evaluation, topics.get(evaluation.guidance_id or 0, 0)
                    ),
                    settings[branch.path],
                )
            except ValueError:
                # A malformed old evaluation keeps its judgement and ends the walk.
                active.discard(branch.id)
                continue
            if _store_outcome(evaluation, outcome):
                summary.evaluations += 1
                changed_branches.add(branch.id)
            first = agreed.setdefault(branch.id, outcome.compliant)
            if outcome.compliant != first or step + 1 >= len(candidates[branch.id]):
                active.discard(branch.id)
        step += 1
        active = {branch_id for branch_id in active if step < len(candidates[branch_id])}
    db.session.flush()
    for branch_id in sorted(changed_branches):
        recompute(branch_id)
    summary.branches = len(changed_branches)
    db.session.flush()
    summary.after = _counts(root, today)
    return summary


def _runs_newest_first(root: Unit) -> dict[int, list[int]]:
    """Per branch under ``root``: ids of its evaluations still in force, newest meeting first."""
    rows = db.session.execute(
        sa.select(
            Evaluation.id,
            Evaluation.branch_id,
            Evaluation.meeting_date,
            Evaluation.submitted_at,
            Evaluation.uuid,
        )
        .join(Unit, Unit.id == Evaluation.branch_id)
        .where(root.subtree_clause(), not_superseded())
    ).all()
    by_branch: dict[int, list[tuple[Any, int]]] = defaultdict(list)
    for ev_id, branch_id, meeting, submitted, uuid in rows:
        key = flags.sort_key(
            flags.EvalSummary(ev_id, meeting, submitted, uuid, compliant=True, serious=False)
        )
        by_branch[branch_id].append((key, ev_id))
    return {
        branch_id: [ev_id for _key, ev_id in sorted(items, reverse=True)]
        for branch_id, items in by_branch.items()
    }


def _load(ids: list[int]) -> list[Evaluation]:
    out: list[Evaluation] = []
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        out.extend(
            db.session.scalars(
                sa.select(Evaluation)
                .where(Evaluation.id.in_(chunk))
                .options(
                    sa.orm.joinedload(Evaluation.branch),
                    sa.orm.selectinload(Evaluation.answers),
                )
            )
        )
    return out


def _counts(root: Unit, today: date) -> Counter[str]:
    return Counter({k: v for k, v in count_states(root, today).items() if v})


def change_settings(unit: Unit, data: dict[str, Any], user: User) -> RejudgeSummary | None:
    """Store ``unit``'s settings and re-judge its branches; None when nothing changed.

    A unit stores only what differs from what it inherits. Runs in the caller's
    transaction, so the province view is right at once.

    :raise SettingsProblem: the values contradict each other (``scoring.Settings`` says so).
    """
    before = settings_for_path(unit.path)
    try:
        after = Settings.from_mapping(data)
    except ValueError as exc:
        raise SettingsProblem(_("These settings contradict each other.")) from exc
    if after == before:
        return None
    base = inherited(unit).as_dict()
    overrides = {key: value for key, value in after.as_dict().items() if base[key] != value}
    row = db.session.get(UnitSettings, unit.id)
    if row is None:
        row = UnitSettings(unit_id=unit.id)
        db.session.add(row)
    row.values = overrides
    row.updated_by_id = user.id
    db.session.flush()
    summary = rejudge(unit)
    audit.record(
        "settings.update",
        obj=row,
        unit_id=unit.id,
        rejudged=summary.as_dict(),
        **changes(before.as_dict(), after.as_dict()),
    )
    return summary
