"""Pay-per-use billing: the ledger of what X would charge, credits (402) and the monthly cap (429)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from x_emulator.problems import PROBLEMS, ProblemError

PRICE_LIST = Path(__file__).resolve().parent.parent / "x_price_list.yaml"


def load_prices() -> dict[str, Any]:
    prices: dict[str, Any] = yaml.safe_load(PRICE_LIST.read_text())
    return prices


@dataclass
class Ledger:
    """What X would bill, by operation and by the user each charge concerns (the customer replied
    to, DMed, read or retweeted), so a run can be priced per complaint from what was billed."""

    prices: dict[str, Any]
    spend_usd: float = 0.0
    by_operation: Counter[str] = field(default_factory=Counter)
    by_user: Counter[str] = field(default_factory=Counter)
    by_user_operation: Counter[tuple[str, str]] = field(default_factory=Counter)
    units: Counter[str] = field(default_factory=Counter)
    billed_reads: set[tuple[str, str]] = field(default_factory=set)
    post_reads_this_month: int = 0

    def charge(self, operation: str, units: int = 1, *, concerning: str | None = None) -> None:
        cost = float(self.prices[operation]) * units
        self.spend_usd += cost
        self.by_operation[operation] += cost  # type: ignore[assignment]
        self.units[operation] += units
        if concerning is not None:
            self.by_user[concerning] += cost  # type: ignore[assignment]
            self.by_user_operation[(concerning, operation)] += cost  # type: ignore[assignment]

    def charge_reads(self, operation: str, reads: list[tuple[str, str]], day: str) -> None:
        """`reads` is (resource id, the user it concerns) for each resource returned."""
        if self.prices.get("dedupe_reads_per_utc_day"):
            fresh = [(i, u) for i, u in reads if (day, i) not in self.billed_reads]
            self.billed_reads.update((day, i) for i, _ in fresh)
        else:
            fresh = reads
        if operation in ("owned_read", "post_read"):
            self.post_reads_this_month += len(reads)
        for user in dict.fromkeys(u for _, u in fresh):
            self.charge(operation, sum(1 for _, u in fresh if u == user), concerning=user)

    @property
    def post_reads_capped(self) -> bool:
        return self.post_reads_this_month >= int(self.prices["post_read_monthly_cap"])


def credits_depleted() -> ProblemError:
    return ProblemError(
        402,
        "Payment Required",
        "Your account does not have enough credits to fulfil this request.",
        PROBLEMS + "credits-depleted",
    )


def usage_capped() -> ProblemError:
    """As observed live (xdevplatform/xdk#25): no `status` in the body; the rate-limit headers are sent."""
    return ProblemError(
        429,
        "UsageCapExceeded",
        "Usage cap exceeded: Monthly product cap",
        PROBLEMS + "usage-capped",
        {"account_id": "1", "product_name": "pay-per-use", "period": "Monthly", "scope": "Product"},
        with_status=False,
    )
