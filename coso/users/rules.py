"""The password policy, applied wherever a password is set or reset.

Every path that sets a password asks :func:`password_problems`: an administrator creating a
user or resetting a password (coso/admin/forms.py), the spreadsheet import
(coso/user_import.py) and ``flask create-user`` (coso/cli.py). In the spirit of NIST SP
800-63B: a minimum length, no composition rules, and a refusal of passwords that are easy
to guess — common ones, the username, one character repeated.
"""

from __future__ import annotations

import re

from flask_babel import gettext as _

MIN_LENGTH = 8
MAX_LENGTH = 200
MIN_DISTINCT = 4

#: Passwords tried first by anyone guessing (compared without case, spaces or punctuation),
#: including Vietnamese favourites and the demo password the README publishes.
COMMON = frozenset(
    {
        "00000000",
        "11111111",
        "12341234",
        "12344321",
        "123123123",
        "12345678",
        "123456789",
        "1234567890",
        "66666666",
        "88888888",
        "abc12345",
        "abcd1234",
        "admin123",
        "administrator",
        "anhyeuem",
        "anhyeuem123",
        "chidoan",
        "chidoan123",
        "cosodemo",
        "coso1234",
        "doanthanhnien",
        "doanthanhnien123",
        "hochiminh",
        "iloveyou",
        "letmein1",
        "matkhau",
        "matkhau1",
        "matkhau123",
        "password",
        "password1",
        "password123",
        "qwerty123",
        "qwertyuiop",
        "tinhdoan",
        "tinhdoan123",
        "welcome1",
        "welcome123",
        "yeuemmaimai",
    }
)


def _plain(text: str) -> str:
    """Lower case, letters and digits only: "Mat-Khau 123" and "matkhau123" are one password."""
    return re.sub(r"[\W_]+", "", text.lower())


def password_problems(password: str, username: str = "") -> list[str]:
    """What is wrong with a new password, in the user's language; empty when fine."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(_("The password must have at least %(n)s characters.", n=MIN_LENGTH))
    if len(password) > MAX_LENGTH:
        problems.append(_("The password must have at most 200 characters."))
    name = username.strip().lower()
    if name and password.lower() == name:
        problems.append(_("The password must not be the username."))
    elif len(_plain(name)) >= 4 and _plain(name) in _plain(password):
        problems.append(_("The password must not contain the username."))
    if password.isdigit():
        problems.append(_("The password must not be only digits."))
    elif _plain(password) in COMMON:
        problems.append(_("This password is too common. Choose one that is harder to guess."))
    if len(password) >= MIN_LENGTH and len(set(password)) < MIN_DISTINCT:
        problems.append(
            _("The password must use at least %(n)s different characters.", n=MIN_DISTINCT)
        )
    return problems
