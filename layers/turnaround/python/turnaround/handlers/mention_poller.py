"""MentionPollerFunction's wiring: poll every monitored handle's mentions (logic/ingest/mentions)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from turnaround.adapters import x_http  # noqa: F401  every poll calls X: tweepy loads at init, at full CPU
from turnaround.adapters.bedrock_triage import BedrockClassifier
from turnaround.adapters.x_api import XApi
from turnaround.dal.repositories import Repositories
from turnaround.handlers import container
from turnaround.logic.ingest.mentions import poll_monitored_handles
from turnaround.logic.workflow.listener import CustomerPostListener
from turnaround.models.mention import HandlePollResult, Mention
from turnaround.settings import PollerSettings, get_settings


@dataclass(frozen=True)
class MentionPoller:
    settings: PollerSettings
    store: Repositories
    x_for: Callable[[str], XApi]
    on_stored: CustomerPostListener | Callable[[Mention], None]
    classifier: BedrockClassifier | None = None

    def poll(self, time_left: Callable[[], float]) -> list[HandlePollResult]:
        return poll_monitored_handles(
            self.settings,
            store=self.store,
            x_for=self.x_for,
            on_stored=self.on_stored,
            on_pass=getattr(self.on_stored, "begin_pass", None),
            time_left=time_left,
            classifier=self.classifier,
        )


def triage_model() -> None:
    """The triage weights (~50 ms to load) and VADER's lexicon, which every poll with news uses."""
    from turnaround.logic.triage_model import load_model, sentiment

    load_model()
    sentiment("")


@container.per_container
def mention_poller() -> MentionPoller:
    settings = get_settings(PollerSettings)
    store = container.store(settings.TABLE_NAME)
    model = settings.BEDROCK_TRIAGE_MODEL_ID
    return MentionPoller(
        settings=settings,
        store=store,
        x_for=container.x_for(settings),
        on_stored=CustomerPostListener(
            store, container.playbook(settings.PLAYBOOK_PATH), container.workflow_client()
        ),
        classifier=BedrockClassifier(model) if model else None,
    )
