"""One instance per operational database: the lease, its loss, and overriding database access."""

import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from hub import lease
from hub.instance import instance_id
from hub.models import ConfigurationChange, InstanceLease


def other_instance_holds(heartbeat_age: float = 0) -> InstanceLease:
    now = timezone.now()
    return InstanceLease.objects.create(
        instance_id="other-instance",
        host="other-host",
        started=now,
        heartbeat=now - timedelta(seconds=heartbeat_age),
    )


@pytest.mark.django_db
def test_a_free_lease_is_taken_and_kept():
    assert lease.acquire()
    assert lease.holder().instance_id == instance_id()
    assert lease.heartbeat() and lease.lost() is None
    lease.release()
    assert lease.holder() is None


@pytest.mark.django_db
def test_a_live_lease_of_another_instance_is_not_taken_without_an_override():
    other_instance_holds()
    assert not lease.acquire()
    assert not lease.heartbeat()
    assert lease.lost().host == "other-host"
    assert lease.acquire(override=True)
    assert lease.lost() is None and lease.holder().instance_id == instance_id()


@pytest.mark.django_db
def test_an_abandoned_lease_is_taken_without_asking(settings):
    other_instance_holds(heartbeat_age=settings.HUB_LEASE_STALE_SECONDS + 1)
    assert lease.acquire()


@pytest.mark.django_db
def test_the_keeper_notices_the_loss_and_does_not_take_the_lease_back(settings):
    settings.HUB_LEASE_HEARTBEAT_SECONDS = 0
    said = []
    keeper = lease.LeaseKeeper(lambda message, level=logging.INFO: said.append(message))
    keeper.start()
    assert keeper.held
    InstanceLease.objects.update(instance_id="other-instance", host="other-host")  # the override elsewhere
    keeper.tick()
    assert not keeper.held and keeper.lost and "CCRRTT-30012E" in said[-1]
    keeper.tick()
    assert lease.holder().instance_id == "other-instance"
    lease.acquire(override=True)  # an administrator overrides back on this instance
    keeper.tick()
    assert keeper.held and not keeper.lost


@pytest.mark.django_db
def test_the_console_of_an_instance_without_the_lease_shows_30012e_with_the_override(admin_client):
    other_instance_holds()
    response = admin_client.get("/settings/")
    assert response.status_code == 503
    html = response.content.decode()
    assert "CCRRTT-30012E" in html and "other-host" in html and "Override database access" in html
    assert admin_client.get("/api/health").status_code in (200, 503)  # health still answers


@pytest.mark.django_db
def test_the_api_of_an_instance_without_the_lease_answers_30012e_as_json(admin_client):
    other_instance_holds()
    response = admin_client.get("/api/v1/models/")
    assert response.status_code == 503
    assert response.json()["code"] == "CCRRTT-30012E" and "other-host" in response.json()["message"]


@pytest.mark.django_db
def test_a_viewer_sees_the_error_but_cannot_override(viewer_client):
    other_instance_holds()
    html = viewer_client.get("/").content.decode()
    assert "CCRRTT-30012E" in html and "Override database access</button>" not in html
    assert viewer_client.post("/database-in-use/override/").status_code == 403
    assert lease.holder().instance_id == "other-instance"


@pytest.mark.django_db
def test_an_administrator_overrides_database_access(admin_client):
    other_instance_holds()
    response = admin_client.post("/database-in-use/override/")
    assert response.status_code == 302
    assert lease.holder().instance_id == instance_id()
    assert admin_client.get("/settings/").status_code == 200
    change = ConfigurationChange.objects.get(element_type="Operational database")
    assert change.before["host"] == "other-host" and change.username == "ada"


@pytest.mark.django_db
def test_no_lease_row_means_nobody_else_owns_the_database(admin_client):
    assert lease.lost() is None
    assert admin_client.get("/settings/").status_code == 200
