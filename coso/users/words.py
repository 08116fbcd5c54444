"""The verdicts of coso.users.rules in the user's language."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask_babel import gettext as _

from coso.users import rules

if TYPE_CHECKING:
    from coso.models import User


def password_message(fault: str) -> str:
    """One fault of :func:`coso.users.rules.password_faults` as a sentence."""
    if fault == rules.TOO_SHORT:
        return _("The password must have at least %(n)s characters.", n=rules.MIN_LENGTH)
    if fault == rules.TOO_LONG:
        return _("The password must have at most 200 characters.")
    if fault == rules.IS_USERNAME:
        return _("The password must not be the username.")
    if fault == rules.HAS_USERNAME:
        return _("The password must not contain the username.")
    if fault == rules.ONLY_DIGITS:
        return _("The password must not be only digits.")
    if fault == rules.TOO_COMMON:
        return _("This password is too common. Choose one that is harder to guess.")
    if fault == rules.FEW_DISTINCT:
        return _("The password must use at least %(n)s different characters.", n=rules.MIN_DISTINCT)
    return fault


def password_problems(password: str, username: str = "") -> list[str]:
    """What is wrong with a new password, in the user's language; empty when fine."""
    return [password_message(fault) for fault in rules.password_faults(password, username)]


def role_problem(manager: User, target: User | None, roles: list[str]) -> str | None:
    """Why ``manager`` may not give ``target`` these roles, in the user's language, or None."""
    fault = rules.role_fault(manager, target, roles)
    if fault == rules.ADMIN_ONLY:
        return _("Only an administrator can give the admin role.")
    if fault == rules.CENTRAL_ONLY:
        return _("Only an administrator or the Central Committee can give the central role.")
    if fault == rules.OWN_ROLES:
        return _("You cannot change your own roles; ask another administrator.")
    return fault
