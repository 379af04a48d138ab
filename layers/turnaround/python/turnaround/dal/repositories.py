"""All repositories on one table: what the logic is handed (``store.cases.get(...)``).

``Repositories(table_name, table=...)`` shares one table (created on first use unless injected)
between the per-aggregate repositories, so a container holds one DynamoDB resource.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from turnaround.clock import utc_now
from turnaround.dal.cases import CaseRepository
from turnaround.dal.checkpoints import CheckpointRepository
from turnaround.dal.conversation_store import ConversationStore
from turnaround.dal.dms import DmRepository
from turnaround.dal.escalations import EscalationRepository
from turnaround.dal.incidents import IncidentRepository
from turnaround.dal.mentions import MentionRepository
from turnaround.dal.outbox import OutboxRepository
from turnaround.dal.table import TableRef

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

    from turnaround.models.playbook import Retention


class Repositories:
    def __init__(
        self,
        table_name: str,
        *,
        table: Table | None = None,
        client: Any = None,
        retention: Retention | None = None,
        clock: Callable[[], datetime] = utc_now,
    ):
        self.ref = TableRef(table_name, table=table, client=client, retention=retention, clock=clock)
        self.checkpoints = CheckpointRepository(self.ref)
        self.cases = CaseRepository(self.ref)
        self.mentions = MentionRepository(self.ref, cases=self.cases)
        self.dms = DmRepository(self.ref)
        self.escalations = EscalationRepository(self.ref)
        self.outbox = OutboxRepository(self.ref)
        self.conversation = ConversationStore(self.ref)
        self.incidents = IncidentRepository(self.ref)

    @property
    def table_name(self) -> str:
        return self.ref.table_name

    @property
    def table(self) -> Table:
        return self.ref.table
