"""DmPollerFunction's wiring: thread customers' DMs into their cases (logic/ingest/dms)."""

from __future__ import annotations

from turnaround.adapters import x_http  # noqa: F401  every poll calls X: tweepy loads at init, at full CPU
from turnaround.handlers import container
from turnaround.logic.ingest.dms import poll_dm_handles
from turnaround.settings import DmPollerSettings, get_settings


def poll_dms() -> dict[str, dict[str, int]]:
    settings = get_settings(DmPollerSettings)
    return poll_dm_handles(
        settings,
        store=container.store(settings.TABLE_NAME),
        playbook=container.playbook(settings.PLAYBOOK_PATH),
        x_for=container.x_for(settings),
    )
