"""README's layout section names every module and package of dataaudit/ (and nothing that is gone)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _layout_section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("Layout of `dataaudit/`")
    return text[start:text.index("Outside the package", start)]


def test_every_top_level_module_and_package_is_in_the_layout() -> None:
    section = _layout_section()
    package = ROOT / "dataaudit"
    names = [p.name for p in package.glob("*.py") if not p.name.startswith("__")]
    names += [f"{p.name}/" for p in package.iterdir() if p.is_dir() and (p / "__init__.py").exists()]
    missing = [name for name in sorted(names) if f"`{name}" not in section]
    assert not missing, f"README's layout section does not name {missing}"


def test_the_layout_names_no_module_that_is_gone() -> None:
    section = _layout_section()
    package = ROOT / "dataaudit"
    named = set(re.findall(r"`([a-z_]+\.py)`", section))
    existing = {p.name for p in package.rglob("*.py")}
    assert named - existing == set(), f"README's layout section names modules that do not exist: {named - existing}"
