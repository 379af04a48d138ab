"""The scheduled functions read EventBridge's schedule event without Powertools' parser (issue 17)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from turnaround.exceptions import NotAScheduledEvent
from turnaround.handlers.schedule import scheduled_time

EVENT = json.loads((Path(__file__).parents[1] / "events" / "scheduled_poll.json").read_text())


def test_the_schedule_events_time_is_read() -> None:
    assert scheduled_time(EVENT) == datetime(2026, 11, 22, 9, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("event", "message"),
    [
        (None, "got NoneType"),
        ({"hello": "world"}, "no version, id, detail-type"),
        ({**EVENT, "time": "yesterday"}, "unreadable time: 'yesterday'"),
    ],
)
def test_anything_else_is_refused_by_name(event: object, message: str) -> None:
    with pytest.raises(NotAScheduledEvent, match=message):
        scheduled_time(event)
