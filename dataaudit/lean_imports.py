"""Lighter imports for processes dataaudit owns (the command line).

cleanlab's package ``__init__`` builds its ``Datalab`` class eagerly, and with Hugging Face
``datasets`` installed (common on an ML engineer's machine, and part of ``cleanlab[datalab]``) that
loads ``datasets`` and its own stack: about 0.3 s of a 10k-row ``inspect``, for a class dataaudit
never uses (it calls ``cleanlab.filter`` and ``cleanlab.rank`` only). In a process dataaudit owns,
``datasets`` is hidden while cleanlab loads, so ``cleanlab.Datalab`` is cleanlab's own "unavailable"
placeholder there; ``datasets`` itself imports normally afterwards. A library caller's process is
left alone: there cleanlab loads exactly as installed, Datalab included.
"""

from __future__ import annotations

import sys

_OWNED = False
_HIDDEN = "datasets"


def own_process() -> None:
    """Mark this process as dataaudit's own (called by the console entry point, ``cli.main``)."""
    global _OWNED
    _OWNED = True


def import_cleanlab() -> None:
    """Import ``cleanlab.filter`` (and so ``cleanlab``), without ``datasets`` in a process dataaudit owns."""
    if "cleanlab.filter" in sys.modules:
        return
    if not _OWNED or _HIDDEN in sys.modules:
        import cleanlab.filter  # noqa: F401
        return
    sys.modules[_HIDDEN] = None  # type: ignore[assignment]  # an import of it raises ImportError
    try:
        import cleanlab.filter  # noqa: F401
    finally:
        if _HIDDEN in sys.modules and sys.modules[_HIDDEN] is None:
            del sys.modules[_HIDDEN]
