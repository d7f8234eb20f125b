"""Beat entries per running integration, cron validation and description."""

import pytest
from django_celery_beat.models import PeriodicTask

from integrations.engine import schedule
from integrations.models import ChangeDetectionSettings


def test_cron_expressions_are_validated_and_described():
    assert schedule.describe("*/30 9-17 * * 1-5").startswith("Every 30 minutes")
    for bad in ("* * *", "61 * * * *", "x * * * *"):
        with pytest.raises(schedule.InvalidCron):
            schedule.parse_cron(bad)


@pytest.mark.django_db
def test_running_integration_gets_detection_and_full_scan_entries(running):
    detect = PeriodicTask.objects.get(name=f"{schedule.PREFIX} detect {running.pk}")
    assert detect.task == schedule.DETECT_TASK and detect.interval.every == 60
    assert PeriodicTask.objects.filter(name=f"{schedule.PREFIX} full scan {running.pk}").exists()
    running.detection_cron = "*/5 * * * *"
    running.save()
    detect.refresh_from_db()
    assert detect.interval is None and detect.crontab.minute == "*/5"
    running.running = False
    running.save()
    assert not PeriodicTask.objects.filter(name__endswith=f" {running.pk}").exists()


@pytest.mark.django_db
def test_default_interval_from_settings_applies_to_integrations_without_their_own(running):
    defaults = ChangeDetectionSettings.get()
    defaults.interval = 15
    defaults.save()
    assert PeriodicTask.objects.get(name=f"{schedule.PREFIX} detect {running.pk}").interval.every == 15


@pytest.mark.django_db
def test_health_says_whether_activities_can_process(running, settings):
    from integrations.engine.health import activities_can_process

    assert activities_can_process().status == "pass"
    settings.SAFE_MODE = True
    result = activities_can_process()
    assert result.status == "fail" and "safe mode" in result.reason
