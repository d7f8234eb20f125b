"""Log files under HUB_HOME/logs and a level that every process follows at run time."""

import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings

from hub import logconfig


@pytest.fixture(autouse=True)
def normal_level():
    yield
    logconfig.set_level(logconfig.NORMAL)


def test_troubleshooting_lowers_the_level_for_two_hours():
    now = datetime.now(UTC)
    state = logconfig.set_level(logconfig.TROUBLESHOOTING, now=now)
    assert datetime.fromisoformat(state["until"]) == now + timedelta(hours=2)
    assert logging.getLogger().level == logging.DEBUG
    assert logconfig.read_level(now + timedelta(hours=1))["level"] == logconfig.TROUBLESHOOTING


def test_troubleshooting_falls_back_to_normal_by_itself():
    logconfig.set_level(logconfig.TROUBLESHOOTING)
    later = datetime.now(UTC) + timedelta(hours=2, seconds=1)
    assert logconfig.read_level(later) == {"level": logconfig.NORMAL, "until": None}


def test_a_change_written_by_another_process_is_followed_without_restart():
    logconfig.set_level(logconfig.NORMAL)
    assert logging.getLogger().level == logging.INFO
    state_file = Path(settings.HUB.run_dir) / "log-level"
    until = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    state_file.write_text(json.dumps({"level": "troubleshooting", "until": until}))
    import os

    os.utime(state_file, (0, 1))  # a different modification time, as another process's write gives
    logconfig.apply_current_level()
    assert logging.getLogger().level == logging.DEBUG


def test_an_unreadable_state_file_means_normal():
    (Path(settings.HUB.run_dir) / "log-level").write_text("{not json")
    assert logconfig.read_level()["level"] == logconfig.NORMAL


def test_unknown_level_is_refused():
    with pytest.raises(ValueError):
        logconfig.set_level("chatty")


@pytest.mark.parametrize(
    ("logger", "filename"),
    [
        ("hub", "hub.log"),
        ("hub.extensions", "extensions.log"),
        ("hub.configuration_changes", "configuration-changes.log"),
        ("hub.deleted_pairs", "deleted-pairs.log"),
    ],
)
def test_each_log_has_its_file(logger, filename):
    logging.getLogger(logger).warning("marker line for %s", filename)
    for handler in logging.getLogger(logger).handlers + logging.getLogger().handlers:
        handler.flush()
    assert f"marker line for {filename}" in (settings.HUB.logs_dir / filename).read_text()


def test_application_log_rotates_daily_and_keeps_fourteen_days():
    handler = logconfig.logging_dict(Path("/tmp"), "normal")["handlers"]["application"]
    assert (handler["when"], handler["backupCount"]) == ("midnight", 14)


def test_json_lines_when_hub_log_format_is_json(tmp_path):
    """Every log, the separate ones too, as one JSON object a line, credentials in URLs masked."""
    import json
    import logging.config

    dictionary = logconfig.logging_dict(tmp_path, "normal", "json")
    assert {h["formatter"] for name, h in dictionary["handlers"].items()} == {"json"}
    formatter = logging.config.dictConfigClass(dictionary).configure_custom(
        dict(dictionary["formatters"]["json"])
    )
    record = logging.LogRecord(
        "hub.engine", logging.WARNING, __file__, 1, "fetch %s", ("https://u:pw@x.example/",), None
    )
    line = json.loads(formatter.format(record))
    assert (line["level"], line["logger"]) == ("WARNING", "hub.engine")
    assert "pw@" not in line["message"] and line["message"].startswith("fetch https://")
