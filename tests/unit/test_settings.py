"""Environment is validated once into typed settings, with clear errors."""

from __future__ import annotations

import pytest

from turnaround.exceptions import ConfigurationError
from turnaround.settings import PollerSettings, get_settings

BASE = {"TABLE_NAME": "t", "MONITORED_HANDLES": "AcmeAir, @ShopCo ,", "X_CREDENTIALS_SECRET_PREFIX": "p/"}


def _with(monkeypatch: pytest.MonkeyPatch, **env: str) -> PollerSettings:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    return get_settings(PollerSettings)


def test_handles_are_normalised(monkeypatch):
    settings = _with(monkeypatch, **BASE)
    assert settings.MONITORED_HANDLES == ["acmeair", "shopco"]
    assert settings.X_API_BASE_URL is None and settings.X_MAX_RESULTS == 100


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("X_MAX_RESULTS", "101"),
        ("X_MAX_RESULTS", "4"),
        ("MONITORED_HANDLES", " , "),
        ("TABLE_NAME", ""),
        ("X_HTTP_TIMEOUT_SECONDS", "0"),
    ],
)
def test_bad_values_are_configuration_errors_naming_the_variable(monkeypatch, key, value):
    with pytest.raises(ConfigurationError, match=key):
        _with(monkeypatch, **{**BASE, key: value})
