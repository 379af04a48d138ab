"""`make bench` prices DM reads over the 30-day window; this runs that code path on 3 days."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tests.bench.bench import dm_window_rows


def test_dm_window_pricing_runs_and_the_old_poller_costs_more():
    customer = "mei"
    result = SimpleNamespace(
        cases=[{"customer_id": customer, "route": "offline", "outcome": "resolved", "mention_count": 1}],
        emulator_state={"spend_by_user": {}, "spend_by_user_operation": {}, "dms_sent": []},
    )
    rows, figures = dm_window_rows(result, days=3)
    now = sum(figures["dm_reads_30_days_by_customer"].values())
    before = sum(figures["dm_reads_30_days_by_customer_before"].values())
    # The demo's two customer DMs: read once each now; before, once each every UTC day.
    assert now == pytest.approx(2 * 0.01)
    assert before >= 2 * 3 * 0.01 - 1e-9
    assert figures["dm_reads_baseline_per_day"] <= 0.01
    assert rows and rows[0][0].startswith("X spend per complaint over the 30-day DM window")
