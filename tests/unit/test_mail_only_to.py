"""A dev stack reading the live handle must email no real rep: with EMAIL_ONLY_TO every email goes to
that one address (SES's Destinations), its headers still saying whom it was for."""

from __future__ import annotations

from typing import Any

import pytest

from turnaround.adapters.mailer import Mailer, build_message
from turnaround.exceptions import ConfigurationError
from turnaround.settings import MailSettings, get_settings


class _Ses:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def send_raw_email(self, **kwargs: Any) -> dict[str, str]:
        self.calls.append(kwargs)
        return {"MessageId": "m-1"}


def _message() -> Any:
    return build_message(
        sender="care@acme.example", to=["alex@acme.example"], subject="[P1] @jane", text="t", html="<p>t</p>"
    )


def test_with_only_to_every_email_goes_there_and_still_says_whom_it_was_for() -> None:
    ses = _Ses()
    Mailer(client=ses, only_to="ops@acme.example").send(_message())
    [call] = ses.calls
    assert call["Destinations"] == ["ops@acme.example"]
    assert b"To: alex@acme.example" in call["RawMessage"]["Data"]


def test_without_it_each_email_goes_to_its_recipients() -> None:
    ses = _Ses()
    Mailer(client=ses).send(_message())
    assert "Destinations" not in ses.calls[0]  # SES reads To and Cc


@pytest.mark.parametrize(("value", "only_to"), [("", None), ("ops@acme.example", "ops@acme.example")])
def test_the_setting_is_read(monkeypatch: pytest.MonkeyPatch, value: str, only_to: str | None) -> None:
    get_settings.cache_clear()  # read once per container
    monkeypatch.setenv("EMAIL_ONLY_TO", value)
    assert only_to == get_settings(MailSettings).EMAIL_ONLY_TO
    get_settings.cache_clear()


def test_a_mistyped_address_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    get_settings.cache_clear()
    monkeypatch.setenv("EMAIL_ONLY_TO", "not an address")
    with pytest.raises(ConfigurationError, match="EMAIL_ONLY_TO"):
        get_settings(MailSettings)
    get_settings.cache_clear()
