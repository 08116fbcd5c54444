"""The password policy, applied wherever a password is set or reset."""

from __future__ import annotations

from flask_babel import gettext as _

MIN_LENGTH = 8


def password_problems(password: str, username: str = "") -> list[str]:
    """What is wrong with a new password, in the user's language; empty when fine."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(_("The password must have at least %(n)s characters.", n=MIN_LENGTH))
    if len(password) > 200:
        problems.append(_("The password must have at most 200 characters."))
    if username and password.lower() == username.lower():
        problems.append(_("The password must not be the username."))
    if password.isdigit():
        problems.append(_("The password must not be only digits."))
    return problems
