"""Stable identity (issue 12): each committed stack's resources keep their URNs. A URN that changes
is a delete and a create for the engine: a replaced database, a new realm. The golden lists are
written by tests/golden/update.py; a change to them shows in review which resources come and go."""
from pathlib import Path

import pytest

from golden.update import STACKS, urns

GOLDEN = Path(__file__).resolve().parent / "golden"


@pytest.mark.parametrize("stack", STACKS)
def test_every_resource_keeps_its_urn(stack):
    want = set((GOLDEN / f"{stack}.urns").read_text().split())
    have = set(urns(stack))
    gone, new = sorted(want - have), sorted(have - want)
    assert not gone and not new, (
        f"{stack}: URNs changed. Gone (the engine would delete them): {gone[:20]}; new: {new[:20]}. "
        "If a resource only moved (a new name or parent), give it `aliases` so it is not replaced; "
        "if the change is meant, run .venv/bin/python tests/golden/update.py and commit the lists.")
