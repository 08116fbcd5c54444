"""The rules of accounts, alone: no application, no database, no request."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from coso.users import rules


@dataclass
class Person:
    """Just what the rules read of a user."""

    id: int
    role_list: list[str] = field(default_factory=list)

    def has_role(self, *roles: str) -> bool:
        return any(role in self.role_list for role in roles)


ADMIN = Person(1, ["admin"])
PROVINCE = Person(2, ["province"])
CENTRAL = Person(4, ["central"])


@pytest.mark.parametrize(
    ("password", "username", "faults"),
    [
        ("short", "", [rules.TOO_SHORT]),
        ("x" * 201, "", [rules.TOO_LONG, rules.FEW_DISTINCT]),
        ("12345678901", "", [rules.ONLY_DIGITS]),
        ("Mat-Khau 123", "", [rules.TOO_COMMON]),
        ("nguyen.van.a", "nguyen.van.a", [rules.IS_USERNAME]),
        ("nguyenvana-2026", "nguyen.van.a", [rules.HAS_USERNAME]),
        ("abababab", "", [rules.FEW_DISTINCT]),
        ("mat-khau-moi-1", "cadre", []),
    ],
)
def test_password_faults_name_each_problem_in_order(
    password: str, username: str, faults: list[str]
) -> None:
    assert rules.password_faults(password, username) == faults


def test_generated_passwords_have_no_fault() -> None:
    for _ in range(50):
        password = rules.generate_password()
        assert len(password) == 12 and rules.password_faults(password) == []


def test_only_an_administrator_gives_or_touches_admin() -> None:
    assert rules.grantable_roles(ADMIN) == rules.ROLES
    assert "admin" not in rules.grantable_roles(PROVINCE)
    assert rules.role_fault(PROVINCE, None, ["admin", "cadre"]) == rules.ADMIN_ONLY
    assert rules.role_fault(ADMIN, None, ["admin"]) is None
    assert not rules.rank_allows(PROVINCE, ADMIN)
    assert rules.rank_allows(ADMIN, ADMIN) and rules.rank_allows(PROVINCE, Person(3, ["cadre"]))


def test_only_an_administrator_or_the_centre_gives_the_central_role() -> None:
    """A province could give it only inside its province, where it would grant nothing more
    than the province's own view: it is the Central Committee's to give."""
    assert "central" not in rules.grantable_roles(PROVINCE)
    assert rules.role_fault(PROVINCE, None, ["central"]) == rules.CENTRAL_ONLY
    assert "central" in rules.grantable_roles(CENTRAL) and "admin" not in rules.grantable_roles(
        CENTRAL
    )
    assert rules.role_fault(CENTRAL, None, ["central"]) is None
    assert rules.role_fault(ADMIN, None, ["central", "province"]) is None
    assert rules.role_fault(CENTRAL, None, ["admin"]) == rules.ADMIN_ONLY


def test_nobody_changes_their_own_roles() -> None:
    assert rules.role_fault(PROVINCE, PROVINCE, ["province", "cadre"]) == rules.OWN_ROLES
    assert rules.role_fault(PROVINCE, PROVINCE, ["province"]) is None


def test_roles_read_as_a_spreadsheet_writes_them() -> None:
    assert rules.parse_roles("Cán bộ, bí thư") == ["cadre", "secretary"]
    assert rules.parse_roles("tỉnh đoàn; quản trị") == ["province", "admin"]
