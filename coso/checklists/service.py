"""Writing checklist versions: the default one, a new draft, saving, publishing, retiring.

A published version never changes again: evaluations are scored on the exact
version they were filled on, and one filled on an older version (or a retired
one) is still accepted when it syncs late. Each function flushes; the caller
commits (one transaction per user action). Every change goes to the audit log.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from marshmallow import ValidationError

from coso import audit
from coso.checklists.queries import (
    current_template,
    draft_of,
    latest_version,
    published_elsewhere,
)
from coso.checklists.rules import (
    DEFAULT_ITEMS,
    DEFAULT_NAME,
    content_of,
    item_dict,
    stored_data,
)
from coso.checklists.schema import TemplateSchema
from coso.extensions import db
from coso.models import ChecklistItem, ChecklistTemplate, Unit, User
from coso.models.checklists import DRAFT, PUBLISHED, RETIRED
from coso.models.types import utcnow


class VersionProblem(Exception):
    """A template action that cannot be done, with the reason in words."""


def create_default_template(
    unit: Unit,
    *,
    name: str = DEFAULT_NAME,
    published: bool = True,
) -> ChecklistTemplate:
    """Add the default checklist as ``unit``'s next template version (1 for a new unit).

    Published right away unless ``published`` is false (then a draft to edit);
    flushed so the caller can use its id and items.
    """
    template = ChecklistTemplate(
        unit_id=unit.id,
        name=name,
        version=latest_version(unit) + 1,
        status=PUBLISHED if published else DRAFT,
        published_at=utcnow() if published else None,
        items=[
            ChecklistItem(position=position, **item)
            for position, item in enumerate(DEFAULT_ITEMS, start=1)
        ],
    )
    db.session.add(template)
    db.session.flush()
    return template


def start_version(unit: Unit, user: User) -> ChecklistTemplate:
    """A new draft version copied from the checklist now in force for ``unit``.

    The source is the unit's own newest published version, else the one inherited
    from above, else domain.md's default checklist.

    :raise VersionProblem: the unit is a branch, or already has a draft.
    """
    if unit.is_branch:
        raise VersionProblem(_("A branch does not issue a checklist."))
    if draft_of(unit) is not None:
        raise VersionProblem(_("This unit already has a draft; finish or discard it first."))
    source = current_template(unit)
    items = (
        [item_dict(item) for item in source.items] if source else [dict(i) for i in DEFAULT_ITEMS]
    )
    template = ChecklistTemplate(
        unit_id=unit.id,
        name=source.name if source else DEFAULT_NAME,
        version=latest_version(unit) + 1,
        status=DRAFT,
        based_on_id=source.id if source else None,
        created_by_id=user.id,
        items=[
            ChecklistItem(**{**item, "position": position})
            for position, item in enumerate(items, start=1)
        ],
    )
    db.session.add(template)
    db.session.flush()
    audit.record(
        "template.create",
        obj=template,
        unit_id=unit.id,
        after={"version": template.version, "based_on": source.id if source else None},
    )
    return template


def save_draft(template: ChecklistTemplate, data: dict[str, Any]) -> None:
    """Replace a draft's name and items with validated ``data`` (a TemplateSchema load).

    :raise VersionProblem: the template is no longer a draft.
    """
    if template.status != DRAFT:
        raise VersionProblem(_("A published checklist never changes; start a new version."))
    before = {item.code: item_dict(item) for item in template.items}
    old_name = template.name
    items = sorted(
        enumerate(data["items"]),
        key=lambda pair: (pair[1].get("position") is None, pair[1].get("position") or 0, pair[0]),
    )
    wanted: dict[str, dict[str, Any]] = {}
    for position, (_index, item) in enumerate(items, start=1):
        wanted[item["code"]] = {**item, "text_en": item.get("text_en") or "", "position": position}
    # Gone items first, so a code can never meet itself in the unique index.
    for item in list(template.items):
        if item.code not in wanted:
            template.items.remove(item)
    db.session.flush()
    current = {item.code: item for item in template.items}
    for code, values in wanted.items():
        if code in current:
            for key, value in values.items():
                setattr(current[code], key, value)
        else:
            template.items.append(ChecklistItem(**values))
    template.name = data["name"]
    db.session.flush()
    db.session.refresh(template)
    after = {item.code: item_dict(item) for item in template.items}
    changed = sorted(
        code for code in set(before) | set(after) if before.get(code) != after.get(code)
    )
    details: dict[str, Any] = {
        "before": {code: before.get(code) for code in changed},
        "after": {code: after.get(code) for code in changed},
    }
    if old_name != template.name:
        details["before"]["name"] = old_name
        details["after"]["name"] = template.name
    audit.record("template.update", obj=template, unit_id=template.unit_id, **details)


def publish(template: ChecklistTemplate) -> None:
    """Make a draft the version in force; from now on it never changes.

    A version identical to the one in force for its unit (its own or the one issued
    above) is refused: it would change nothing for a cadre yet add a version to
    every list, which is how two copies of the same checklist once went out.

    :raise VersionProblem: not a draft, its items do not pass validation, or it is
        the same as the version in force.
    """
    if template.status != DRAFT:
        raise VersionProblem(_("Only a draft can be published."))
    try:
        TemplateSchema().load(stored_data(template))
    except ValidationError as exc:
        raise VersionProblem(_("Fix the draft before publishing it.")) from exc
    unit = db.session.get(Unit, template.unit_id)
    in_force = current_template(unit) if unit is not None else None
    if in_force is not None and content_of(stored_data(in_force)) == content_of(
        stored_data(template)
    ):
        raise VersionProblem(
            _(
                "This draft is the same as version %(v)s now in force; change something "
                "before publishing it, or discard the draft.",
                v=in_force.version,
            )
        )
    template.status = PUBLISHED
    template.published_at = utcnow()
    audit.record(
        "template.publish",
        obj=template,
        unit_id=template.unit_id,
        before={"status": DRAFT},
        after={"status": PUBLISHED, "version": template.version},
    )


def retire(template: ChecklistTemplate) -> None:
    """Stop offering a published version; evaluations already filled on it still sync.

    :raise VersionProblem: not published, or nothing would be left for the unit's branches.
    """
    if template.status != PUBLISHED:
        raise VersionProblem(_("Only a published version can be retired."))
    if not published_elsewhere(template):
        raise VersionProblem(
            _("Branches below would be left without a checklist; publish another version first.")
        )
    template.status = RETIRED
    audit.record(
        "template.retire",
        obj=template,
        unit_id=template.unit_id,
        before={"status": PUBLISHED},
        after={"status": RETIRED},
    )


def discard(template: ChecklistTemplate) -> None:
    """Delete a draft (nothing was ever filled on a draft).

    :raise VersionProblem: the template is not a draft.
    """
    if template.status != DRAFT:
        raise VersionProblem(_("Only a draft can be discarded."))
    audit.record(
        "template.delete",
        obj=template,
        unit_id=template.unit_id,
        before={"version": template.version},
    )
    db.session.delete(template)
