"""The bounded form of the acceptance test (tests/acceptance/run.py): 30 + 15 issues, updates and
comments on both sides, two worker kills, a pool child killed, a Redis restart, within four minutes
of load — and every invariant of issue 20 holds afterwards, checked from Redmine's REST API and the
ledger API. It needs PostgreSQL, so only the PostgreSQL stage selects it (``production_shape``
marker, tests/conftest.py; ``PRODUCTION_SHAPE_IN_CI`` there, or ``HUB_ACCEPTANCE=1`` by hand)."""

import pytest

from tests.acceptance.run import broken_invariants, run


@pytest.mark.production_shape
@pytest.mark.slow
def test_the_invariants_hold_in_the_production_shape_under_faults(tmp_path):
    import json
    import os
    from pathlib import Path

    # HUB_ACCEPTANCE_WORKDIR keeps the run's Redmine databases, logs and ledger.sql for reading a
    # failure afterwards (pytest's temporary directory is gone by then)
    figures = run("bounded", Path(os.environ.get("HUB_ACCEPTANCE_WORKDIR") or tmp_path))
    print(json.dumps(figures, indent=1, default=str))  # noqa: T201 - whole, where the assertion cuts it short
    assert broken_invariants(figures) == [], figures
