"""Test-wide settings: hypothesis is derandomized by default so that every run (and CI) sees the
same examples; ``HYPOTHESIS_PROFILE=explore`` draws fresh random examples for a bug hunt."""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("explore", derandomize=False, deadline=None)
# `make fuzz` (tests/fuzz/harness.py) hunts under this name; elsewhere it is "explore".
settings.register_profile("fuzz", derandomize=False, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
