"""Configuration history entries: who, what, from where, before and after, secrets redacted."""

import pytest

from hub import audit
from hub.fields import MASK, Secret
from hub.models import ConfigurationChange


@pytest.mark.django_db
def test_a_change_is_recorded_with_its_user_and_source(administrator):
    change = audit.record_change(
        administrator,
        "update",
        "Repository",
        "Jira",
        {"url": "a"},
        {"url": "b"},
        element_id=7,
        request_id="r1",
    )
    stored = ConfigurationChange.objects.get(pk=change.pk)
    assert (stored.user, stored.username, stored.source, stored.element_id) == (
        administrator,
        "ada",
        "console",
        "7",
    )
    assert (stored.before, stored.after, stored.request_id) == ({"url": "a"}, {"url": "b"}, "r1")


@pytest.mark.django_db
def test_secrets_are_redacted_in_the_record_and_the_log(caplog):
    secret = "do-not-keep-me"
    with caplog.at_level("INFO", logger="hub.configuration_changes"):
        change = audit.record_change(
            None,
            "update",
            "Repository",
            "Jira",
            {"password": secret, "nested": {"api_token": secret}, "url": "https://x"},
            {"credential": Secret("hubsecret:v1:k:abc", "x.Y.z"), "items": [{"secret": secret}]},
            source="command",
        )
    assert change.before == {"password": MASK, "nested": {"api_token": MASK}, "url": "https://x"}
    assert change.after == {"credential": MASK, "items": [{"secret": MASK}]}
    assert secret not in caplog.text and "hubsecret" not in caplog.text


@pytest.mark.django_db
def test_unknown_actions_and_sources_are_refused():
    with pytest.raises(ValueError):
        audit.record_change(None, "rename", "Repository", "Jira")
    with pytest.raises(ValueError):
        audit.record_change(None, "update", "Repository", "Jira", source="telepathy")
