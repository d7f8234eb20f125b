"""Starting, slow to start, stopped: while Hub starts every page and API call is a 503 with
CCRRTT-30019E (CCRRTT-16002W once the start takes too long) and health keeps answering; a process
that ends unexpectedly stops Hub with CCRRTT-30008E."""

import dataclasses
import io
import os
import time

import pytest

from hub import lifecycle
from hub.management.commands.runhub import Command


@pytest.fixture
def starting():
    lifecycle.write_state(lifecycle.STARTING)
    yield
    lifecycle.clear_state()


@pytest.mark.django_db
def test_while_starting_a_page_is_a_503_with_30019E(client, starting):
    response = client.get("/")
    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert "CCRRTT-30019E" in response.content.decode() and "starting up" in response.content.decode()


@pytest.mark.django_db
def test_while_starting_the_api_answers_30019E_in_its_error_shape(client, starting):
    response = client.get("/api/v1/models/")
    assert response.status_code == 503
    assert response.json()["code"] == "CCRRTT-30019E" and response.json()["errors"] == {}


@pytest.mark.django_db
def test_while_starting_health_still_answers_and_says_why(client, starting):
    response = client.get("/api/health")
    assert response.status_code == 503
    assert response.json()["checks"]["hubIsRunning"]["reason"] == "CCRRTT-30019E: Hub is starting."


@pytest.mark.django_db
def test_a_start_that_takes_too_long_says_16002W(client, starting):
    long_ago = time.time() - lifecycle.SLOW_START_SECONDS - 60
    os.utime(lifecycle._path(), (long_ago, long_ago))
    page = client.get("/").content.decode()
    assert "CCRRTT-16002W" in page and "longer than expected" in page


@pytest.mark.django_db
def test_once_running_pages_answer_as_usual(client):
    lifecycle.write_state(lifecycle.RUNNING)
    try:
        assert client.get("/api/v1/models/").status_code == 401
    finally:
        lifecycle.clear_state()


class Ended:
    returncode = 3

    def poll(self):
        return self.returncode


class Keeper:
    def tick(self, on_held):
        pass


def quiet_command() -> Command:
    return Command(stdout=io.StringIO(), stderr=io.StringIO())


def test_a_process_that_ends_stops_hub_with_30008E():
    command = quiet_command()
    assert command._supervise({"web": Ended()}, {"signal": None}, Keeper()) == 1
    said = command.stderr.getvalue()
    assert "CCRRTT-30008E" in said and "web process ended unexpectedly (exit code 3)" in said


def test_services_slow_to_answer_are_reported_with_16002W_and_waited_for(settings, monkeypatch):
    """The warning comes once, after the slow-start time; the wait goes on, and Hub counts as
    running only when the web server answers (a test or operator waiting for "Hub is running"
    then finds the console up)."""
    command = quiet_command()

    def answers_after_the_warning(url, **_):
        if "CCRRTT-16002W" not in command.stderr.getvalue():
            raise ConnectionRefusedError
        return None

    class Running:
        def poll(self):
            return None

    monkeypatch.setattr("urllib.request.urlopen", answers_after_the_warning)
    assert command._wait_until_serving({"web": Running()}, {"signal": None}, slow_after_seconds=0.3)
    assert command.stderr.getvalue().count("CCRRTT-16002W") == 1


def test_a_process_that_ends_while_starting_ends_the_wait_without_running(settings):
    said = io.StringIO()

    class EndsAfterTheWarning:
        def poll(self):
            return 3 if "CCRRTT-16002W" in said.getvalue() else None

    settings.HUB = dataclasses.replace(settings.HUB, values={**settings.HUB.values, "server.port": 1})
    command = Command(stdout=io.StringIO(), stderr=said)
    children = {"web": EndsAfterTheWarning()}
    assert not command._wait_until_serving(children, {"signal": None}, slow_after_seconds=0.3)
