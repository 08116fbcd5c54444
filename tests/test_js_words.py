"""Every word the scripts ask for with t("key") is on the page (templates/_i18n_js.html).

A missing one shows the bare key ("pagesNotKept") to a cadre in the field.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _camel(attribute: str) -> str:
    first, *rest = attribute.split("-")
    return first + "".join(part.capitalize() for part in rest)


def test_every_key_the_scripts_use_is_rendered() -> None:
    page = (ROOT / "templates" / "_i18n_js.html").read_text(encoding="utf-8")
    rendered = {_camel(name) for name in re.findall(r"data-([a-z0-9-]+)=", page)}
    used: dict[str, set[str]] = {}
    for script in sorted((ROOT / "static" / "js").glob("*.js")):
        keys = set(re.findall(r'\bt\("([A-Za-z0-9]+)"\)', script.read_text(encoding="utf-8")))
        if keys - rendered:
            used[script.name] = keys - rendered
    assert used == {}
    assert "pagesNotKept" in rendered and "prepareFailed" in rendered
