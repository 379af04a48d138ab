"""The EventBridge schedule event that starts the pollers and the digest, checked without a model.

The functions read one field of it. Powertools' parser (``parse`` with ``EventBridgeModel``) would
bring its pydantic event models and importlib.metadata into INIT for that: about 45 ms of a cold
start, a quarter of ``import boto3`` (issue 17, measured with tests/bench/coldstart.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from turnaround.exceptions import NotAScheduledEvent

# What EventBridge puts in every event (EventBridgeModel's required fields).
_FIELDS = ("version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail")


def scheduled_time(event: Any) -> datetime:
    """When the schedule fired; a clear error for anything that is not an EventBridge event."""
    if not isinstance(event, dict):
        raise NotAScheduledEvent(f"expected EventBridge's schedule event, got {type(event).__name__}")
    missing = [name for name in _FIELDS if name not in event]
    if missing:
        raise NotAScheduledEvent(f"not an EventBridge event: no {', '.join(missing)}")
    try:
        return datetime.fromisoformat(str(event["time"]))
    except ValueError as exc:
        raise NotAScheduledEvent(f"EventBridge event with an unreadable time: {event['time']!r}") from exc
