"""The SDK's own promises: settings never show their secrets, errors carry their code and say
whether to retry, and the codes are those of the catalog."""

from __future__ import annotations

import inspect

import pytest

from activity import catalog
from connectors import errors
from connectors.types import RepositorySettings


def test_settings_never_show_secrets():
    settings = RepositorySettings(
        kind="redmine", url="https://r.example.org", password="pw-1", token="tok-2", proxy_password="px-3"
    )
    for text in (repr(settings), str(settings), f"{settings!r}"):
        assert "pw-1" not in text and "tok-2" not in text and "px-3" not in text
        assert "https://r.example.org" in text


ERROR_CLASSES = [
    cls for _, cls in inspect.getmembers(errors, inspect.isclass) if issubclass(cls, errors.ConnectorError)
]


@pytest.mark.parametrize("cls", ERROR_CLASSES, ids=lambda cls: cls.__name__)
def test_every_error_code_is_in_the_catalog(cls):
    assert catalog.is_known(cls.code)


def test_transient_errors_are_the_ones_worth_retrying():
    transient = {cls.__name__ for cls in ERROR_CLASSES if cls.transient}
    assert transient == {
        "Transient",
        "Unreachable",
        "Overloaded",
        "RateLimited",
        "EventRateLimited",
        "ArtifactLocked",
        "RevisionConflict",
        "AuthenticationExpired",  # 1104W: authenticate again and retry
    }


def test_refused_values_are_named_in_the_message():
    error = errors.ValuesNotAccepted("Redmine refused the values", fields={"subject": "cannot be blank"})
    assert str(error) == "CCRRTT-17003E: Redmine refused the values (subject: cannot be blank)"
    assert error.fields == {"subject": "cannot be blank"}


def test_rate_limited_carries_the_wait():
    error = errors.RateLimited("slow down", retry_after=30)
    assert (error.code, error.transient, error.retry_after) == ("CCRRTT-61105I", True, 30)
    assert isinstance(error, errors.Overloaded)
