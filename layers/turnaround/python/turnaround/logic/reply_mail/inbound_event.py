"""The SES receipt event that invokes the inbound-mail function (Lambda action, Event invocation).

Powertools' SesModel has no DKIM verdict and requires headers that bounces may lack, so this model
reads only what the function uses, leniently: a missing verdict counts as GRAY (not passing).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from turnaround.logic.reply_mail.reply_desk import SesVerdicts


class _Verdict(BaseModel):
    model_config = ConfigDict(defer_build=True)

    status: str = "GRAY"


class SesReceipt(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="ignore")

    recipients: list[str] = Field(min_length=1)
    spamVerdict: _Verdict = Field(default_factory=_Verdict)
    virusVerdict: _Verdict = Field(default_factory=_Verdict)
    spfVerdict: _Verdict = Field(default_factory=_Verdict)
    dkimVerdict: _Verdict = Field(default_factory=_Verdict)
    dmarcVerdict: _Verdict = Field(default_factory=_Verdict)

    def verdicts(self) -> SesVerdicts:
        def status(verdict: _Verdict) -> Any:
            known = ("PASS", "FAIL", "GRAY", "PROCESSING_FAILED", "DISABLED")
            return verdict.status if verdict.status in known else "GRAY"

        return SesVerdicts(
            spf=status(self.spfVerdict),
            dkim=status(self.dkimVerdict),
            dmarc=status(self.dmarcVerdict),
            spam=status(self.spamVerdict),
            virus=status(self.virusVerdict),
        )


class SesMail(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="ignore")

    messageId: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._-]+$")
    source: str = ""


class SesMessage(BaseModel):
    model_config = ConfigDict(defer_build=True)

    mail: SesMail
    receipt: SesReceipt


class SesRecord(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="ignore")

    ses: SesMessage


class SesReceiptEvent(BaseModel):
    model_config = ConfigDict(defer_build=True)

    Records: list[SesRecord] = Field(min_length=1)
