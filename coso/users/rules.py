"""The rules of accounts as pure functions: the password policy, roles, who may change whom.

Nothing here touches Flask or the database, so the rules read and test alone;
:mod:`coso.users.words` says their verdicts in the user's language.

Every path that sets a password asks :func:`password_faults`: an administrator creating a
user or resetting a password (coso/users/schema.py), the spreadsheet import
(coso/users/imports.py) and ``flask create-user`` (coso/users/__init__.py). In the spirit of
NIST SP 800-63B: a minimum length, no composition rules, and a refusal of passwords that are
easy to guess — common ones, the username, one character repeated.
"""

from __future__ import annotations

import re
import secrets
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from coso.models import User

from coso.search_keys import SEARCH_SEPARATOR, search_key

ADMIN, PROVINCE, CADRE, SECRETARY = "admin", "province", "cadre", "secretary"
#: The Central Committee (Trung ương Đoàn): reads every province under its home unit.
CENTRAL = "central"
#: Every role, in the order forms list them.
ROLES = (ADMIN, CENTRAL, PROVINCE, CADRE, SECRETARY)

#: The permission (coso.scope) every page and import of accounts needs.
ACTION = "manage_users"
#: Usernames: lower case, so ``Lan`` and ``lan`` cannot be two people.
USERNAME_RE = r"^[a-z0-9._-]{3,60}$"
#: Roles as a Vietnamese spreadsheet may write them.
ROLE_ALIASES = {
    "quản trị": ADMIN,
    "trung ương đoàn": CENTRAL,
    "trung ương": CENTRAL,
    "tỉnh": "province",
    "tỉnh đoàn": "province",
    "cán bộ": "cadre",
    "bí thư": "secretary",
}

# --- Passwords

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

#: What can be wrong with a new password (coso.users.words says each in words).
TOO_SHORT = "too_short"
TOO_LONG = "too_long"
IS_USERNAME = "is_username"
HAS_USERNAME = "has_username"
ONLY_DIGITS = "only_digits"
TOO_COMMON = "too_common"
FEW_DISTINCT = "few_distinct"

#: Characters of generated passwords: no 0/O, 1/l/I to misread when copied by hand.
_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def _plain(text: str) -> str:
    """Lower case, letters and digits only: "Mat-Khau 123" and "matkhau123" are one password."""
    return re.sub(r"[\W_]+", "", text.lower())


def password_faults(password: str, username: str = "") -> list[str]:
    """What is wrong with a new password, as codes in a fixed order; empty when fine."""
    faults = []
    if len(password) < MIN_LENGTH:
        faults.append(TOO_SHORT)
    if len(password) > MAX_LENGTH:
        faults.append(TOO_LONG)
    name = username.strip().lower()
    if name and password.lower() == name:
        faults.append(IS_USERNAME)
    elif len(_plain(name)) >= 4 and _plain(name) in _plain(password):
        faults.append(HAS_USERNAME)
    if password.isdigit():
        faults.append(ONLY_DIGITS)
    elif _plain(password) in COMMON:
        faults.append(TOO_COMMON)
    if len(password) >= MIN_LENGTH and len(set(password)) < MIN_DISTINCT:
        faults.append(FEW_DISTINCT)
    return faults


def generate_password(length: int = 12) -> str:
    """A random password that meets the policy, readable when copied by hand."""
    while True:
        password = "".join(secrets.choice(_ALPHABET) for _ in range(length))
        if not password_faults(password):
            return password


# --- Roles and who may change whom

#: Why a change of roles is refused (coso.users.words says each in words).
ADMIN_ONLY = "admin_only"
OWN_ROLES = "own_roles"
CENTRAL_ONLY = "central_only"


def parse_roles(text: str) -> list[str]:
    """Roles written as ``cadre, secretary`` (commas, semicolons or spaces between)."""
    text = text.strip().lower()
    for alias, role in sorted(ROLE_ALIASES.items(), key=lambda pair: -len(pair[0])):
        text = text.replace(alias, role)
    return [part for part in re.split(r"[,;\s]+", text) if part]


def grantable_roles(manager: User) -> tuple[str, ...]:
    """Roles ``manager`` may give: all for an administrator; otherwise all but admin, and the
    central role only from the Central Committee's own (a province never makes one)."""
    return tuple(role for role in ROLES if grant_fault(manager, [role]) is None)


def grant_fault(manager: User, roles: list[str]) -> str | None:
    """Why ``manager`` may not give ``roles`` at all (whoever to), or None."""
    if ADMIN in roles and not manager.has_role(ADMIN):
        return ADMIN_ONLY
    if CENTRAL in roles and not manager.has_role(ADMIN, CENTRAL):
        return CENTRAL_ONLY
    return None


def may_grant(manager: User, roles: list[str]) -> bool:
    """Whether ``manager`` may give every one of ``roles`` (see :func:`grant_fault`)."""
    return grant_fault(manager, roles) is None


def role_fault(manager: User, target: User | None, roles: list[str]) -> str | None:
    """Why ``manager`` may not give ``target`` (None: a new user) these roles, or None."""
    fault = grant_fault(manager, roles)
    if fault is not None:
        return fault
    if target is not None and target.id == manager.id and sorted(roles) != sorted(target.role_list):
        return OWN_ROLES
    return None


def rank_allows(manager: User, target: User) -> bool:
    """Whether rank lets ``manager`` change ``target``: an administrator only by an administrator.

    The other half of who may change whom, the subtree, is coso.scope's
    (see :func:`coso.users.queries.may_manage`).
    """
    return not target.has_role(ADMIN) or manager.has_role(ADMIN)


def snapshot(user: User) -> dict[str, Any]:
    """What the audit log keeps of a user (never the password)."""
    return {
        "username": user.username,
        "display_name": user.display_name,
        "roles": user.role_list,
        "unit_code": user.unit.code if user.unit else None,
        "active": user.active,
    }


def user_search_key(username: str, display_name: str) -> str:
    """What a user's ``search`` column holds: the keys of the username and the display name.

    The same key as a unit's (:func:`coso.search_keys.search_key`: no case, no accents, đ as
    d), so "Nguyễn Thị Lan", "nguyen thi lan" and "NGUYEN" find the same account on SQLite
    and PostgreSQL alike.
    """
    return f"{search_key(username)}{SEARCH_SEPARATOR}{search_key(display_name)}"
