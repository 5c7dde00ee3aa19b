"""In a process dataaudit owns, cleanlab loads without Hugging Face ``datasets``; elsewhere as installed.

Each case runs in a fresh interpreter with a stand-in ``datasets`` package first on the path that
records when it is imported.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SCRIPT = textwrap.dedent("""
    import sys
    sys.path.insert(0, {fake!r})
    from dataaudit import lean_imports
    if {owned}:
        lean_imports.own_process()
    lean_imports.import_cleanlab()
    import cleanlab.filter, cleanlab.rank
    print("after cleanlab:", "datasets" in sys.modules)
    import datasets
    print("datasets usable:", datasets.MARK)
""")


def _run(tmp_path: Path, owned: bool) -> str:
    fake = tmp_path / "fake"
    (fake / "datasets").mkdir(parents=True, exist_ok=True)
    (fake / "datasets" / "__init__.py").write_text("MARK = 'stand-in'\n")
    done = subprocess.run([sys.executable, "-c", SCRIPT.format(fake=str(fake), owned=owned)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_an_owned_process_loads_cleanlab_without_datasets_and_datasets_still_imports_after(tmp_path):
    plain = _run(tmp_path, owned=False)
    if "after cleanlab: True" not in plain:
        pytest.skip("this cleanlab version does not import datasets on its own")
    owned = _run(tmp_path, owned=True)
    assert "after cleanlab: False" in owned
    assert "datasets usable: stand-in" in owned


def test_the_console_entry_point_marks_its_process_as_owned(monkeypatch):
    from dataaudit import cli, lean_imports

    monkeypatch.setattr(lean_imports, "_OWNED", False)
    monkeypatch.setattr(cli.gc, "freeze", lambda: None)  # not in the test process
    monkeypatch.setattr(sys, "argv", ["dataaudit", "--help"])
    with pytest.raises(SystemExit):
        cli.main()
    assert lean_imports._OWNED
