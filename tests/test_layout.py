"""The shape of the house (README "Layout"), checked so it stays true.

- no import cycle between coso's modules at import time (function-level imports are the
  documented exceptions, and are not counted);
- every ``rules.py`` is pure: it imports neither Flask nor the database;
- no file in ``coso/`` is longer than 400 lines;
- every domain package keeps to the common rooms.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "coso"
ROOMS = {
    "__init__",
    "rules",
    "words",
    "schema",
    "queries",
    "service",
    "imports",
    "views",
}
#: Modules a package may hold beyond the common rooms, each for a reason named here.
EXTRA_ROOMS = {
    "admin": {"audit_log", "blueprint", "forms"},  # the index's own page and its filter form
    "dashboard": {"analysis", "flagged", "timeline"},  # the three reads the pages are built on
    "difficulties": {"categories"},  # the province's editor of its list of categories
    "evaluations": {"fastpath", "twins"},  # the checked fast loader; one meeting evaluated twice
    "feedback": {"actions", "alerts", "counts"},  # actions' views; alert reads; live counts
    "judging": {"flags", "scoring", "rejudge"},  # the pure rules by name; re-judging writes
    "notifications": {"channels", "worker"},  # in-app and email behind one interface; delivery
    "plans": {"progress"},  # plan against done and who goes next: the planners' pages
    "photos": {"docs", "storage"},  # the upload in the contract; where the bytes live
    "sessions": {"devices"},  # the signed known-device cookie the login throttle trusts
    "sync": {"docs"},  # the OpenAPI document
    "read_api": {"docs", "params"},  # its part of the OpenAPI document; the query reader
    "reports": {"document"},  # the Word document the report is written into
    "spreadsheets": {"cells", "reading", "writing"},  # plumbing: formula rule; reader; writer
}
NOT_DOMAIN = {"models", "translations", "demo", "__pycache__"}


def _modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        yield name, path


def _top_level_imports(name: str, path: Path) -> set[str]:
    """The coso modules ``name`` imports when it is imported (not inside functions)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.If):  # `if TYPE_CHECKING:` imports do not run
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {module for module in found if module == "coso" or module.startswith("coso.")}


def test_no_import_cycles() -> None:
    modules = dict(_modules())
    # A module's own parent packages are always imported before it: not an edge.
    graph = {
        name: {
            m
            for m in _top_level_imports(name, path)
            if m in modules and m != name and not name.startswith(m + ".")
        }
        for name, path in modules.items()
    }
    done: set[str] = set()

    def visit(name: str, trail: list[str]) -> None:
        if name in trail:
            cycle = [*trail[trail.index(name) :], name]
            pytest.fail("import cycle: " + " -> ".join(cycle))
        if name in done:
            return
        for target in sorted(graph[name]):
            visit(target, [*trail, name])
        done.add(name)

    for name in sorted(graph):
        visit(name, [])


@pytest.mark.parametrize("path", sorted(ROOT.rglob("rules.py")), ids=lambda p: p.parent.name)
def test_rules_are_pure(path: Path) -> None:
    imported = _top_level_imports("coso." + path.parent.name + ".rules", path)
    tree = ast.parse(path.read_text(encoding="utf-8"))
    external = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {
        (node.module or "").split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and not node.level
    }
    assert not external & {"flask", "flask_login", "sqlalchemy", "flask_sqlalchemy"}, external
    assert not {m for m in imported if m.startswith(("coso.models", "coso.extensions"))}


@pytest.mark.parametrize("path", sorted(ROOT.rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_file_over_400_lines(path: Path) -> None:
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 400


def test_every_domain_package_keeps_to_the_common_rooms() -> None:
    odd = {}
    for package in sorted(p for p in ROOT.iterdir() if p.is_dir() and p.name not in NOT_DOMAIN):
        rooms = {p.stem for p in package.glob("*.py")}
        extra = rooms - ROOMS - EXTRA_ROOMS.get(package.name, set())
        if extra:
            odd[package.name] = sorted(extra)
    assert not odd
