"""Global problems stop all integrations, say why as blockers, and clear themselves when fixed."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from activity.blockers import blocks_all, raise_blocker
from activity.models import Blocker
from hub import gates, licensing, vault
from hub.gates import integration_work_allowed, refresh_global_blockers
from hub.models import AppliedLicense, InstanceLease


def codes_of_global_blockers() -> set[str]:
    return set(Blocker.objects.filter(impact=Blocker.Impact.ALL).values_list("code", flat=True))


@pytest.mark.django_db
def test_a_fresh_instance_may_not_work_until_master_password_and_license_are_there(issue):
    allowed, reason = integration_work_allowed()
    assert not allowed and reason.startswith("CCRRTT-16001E")
    refresh_global_blockers()
    assert codes_of_global_blockers() == {"CCRRTT-16001E", "CCRRTT-30018E"}

    vault.set_master_password("first master password")
    allowed, reason = integration_work_allowed()
    assert not allowed and reason.startswith("CCRRTT-30018E")

    licensing.apply(issue())  # applying refreshes the blockers itself
    assert integration_work_allowed() == (True, "")
    refresh_global_blockers()
    assert codes_of_global_blockers() == set()
    assert not blocks_all()


@pytest.mark.django_db
def test_an_expired_license_blocks_all_and_a_new_one_lets_work_resume_by_itself(
    master_password, issue, signing_key
):
    expired = json.loads(issue())["license"] | {"created": "2020-01-01", "expires": "2020-12-31"}
    AppliedLicense.objects.create(text=licensing.sign(expired, signing_key), key_id="k")
    allowed, reason = integration_work_allowed()
    assert not allowed and reason.startswith("CCRRTT-63001E")
    refresh_global_blockers()
    blocker = Blocker.objects.get(key=gates.LICENSE_BLOCKER)
    assert blocker.impact == Blocker.Impact.ALL and blocker.code == "CCRRTT-63001E"
    assert blocker.related == [{"label": "Settings → License", "url": "/settings/license/"}]

    licensing.apply(issue(expires=(timezone.localdate() + timedelta(days=90)).isoformat()))
    assert integration_work_allowed() == (True, "")
    assert not Blocker.objects.filter(key=gates.LICENSE_BLOCKER).exists()


@pytest.mark.django_db
def test_an_invalid_license_blocks_all_with_15002e(master_password, issue):
    licensing.apply(issue())
    document = json.loads(AppliedLicense.objects.get().text)
    document["license"]["max_users"] = 999
    AppliedLicense.objects.update(text=json.dumps(document))
    assert integration_work_allowed()[1].startswith("CCRRTT-15002E")


@pytest.mark.django_db
def test_a_missing_master_password_file_blocks_all_until_re_entered(master_password, licensed, settings):
    settings.HUB_MASTER_KEY_FILE.unlink()
    vault.forget_unlocked_keys()
    allowed, reason = integration_work_allowed()
    assert not allowed and "re-entered" in reason
    refresh_global_blockers()
    assert codes_of_global_blockers() == {"CCRRTT-16001E"}
    vault.unlock(master_password)
    refresh_global_blockers()
    assert integration_work_allowed() == (True, "") and codes_of_global_blockers() == set()


@pytest.mark.django_db
def test_safe_mode_allows_no_work(master_password, licensed, settings):
    settings.SAFE_MODE = True
    allowed, reason = integration_work_allowed()
    assert not allowed and "safe mode" in reason


@pytest.mark.django_db
def test_a_lost_lease_allows_no_work(master_password, licensed):
    now = timezone.now()
    InstanceLease.objects.create(instance_id="other", host="elsewhere", started=now, heartbeat=now)
    allowed, reason = integration_work_allowed()
    assert not allowed and reason.startswith("CCRRTT-30012E") and "elsewhere" in reason


@pytest.mark.django_db
def test_other_global_blockers_are_respected_too(master_password, licensed):
    raise_blocker(
        "database:storage", "CCRRTT-30015E", "Deployment configuration error.", impact=Blocker.Impact.ALL
    )
    assert integration_work_allowed() == (False, "CCRRTT-30015E: Deployment configuration error.")


@pytest.mark.django_db
def test_refreshing_unchanged_blockers_writes_nothing(django_assert_max_num_queries):
    refresh_global_blockers()
    # state reads only: master key, license, two blockers, database transfers still running
    with django_assert_max_num_queries(5):
        refresh_global_blockers()
