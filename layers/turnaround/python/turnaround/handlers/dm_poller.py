"""DmPollerFunction's wiring: thread customers' DMs into their cases (logic/ingest/dms)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from turnaround.adapters import x_http  # noqa: F401  every poll calls X: tweepy loads at init, at full CPU
from turnaround.adapters.x_api import XApi
from turnaround.dal.repositories import Repositories
from turnaround.handlers import container
from turnaround.logic.ingest.dms import poll_dm_handles
from turnaround.models.playbook import Playbook
from turnaround.settings import DmPollerSettings, get_settings


@dataclass(frozen=True)
class DmPoller:
    settings: DmPollerSettings
    store: Repositories
    playbook: Playbook
    x_for: Callable[[str], XApi]

    def poll(self) -> dict[str, dict[str, int]]:
        return poll_dm_handles(self.settings, store=self.store, playbook=self.playbook, x_for=self.x_for)


@container.per_container
def dm_poller() -> DmPoller:
    settings = get_settings(DmPollerSettings)
    return DmPoller(
        settings=settings,
        store=container.store(settings.TABLE_NAME),
        playbook=container.playbook(settings.PLAYBOOK_PATH),
        x_for=container.x_for(settings),
    )
