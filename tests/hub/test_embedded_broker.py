"""The embedded broker (hub/embedded_broker.py): a worker polling the folder never sees a message
file before its content, so it never reads an empty payload and exits (30008E)."""

from pathlib import Path

import pytest
from kombu import Connection
from kombu.transport import filesystem, virtual

from hub import embedded_broker


def folders(tmp_path: Path) -> dict:
    """The embedded default's options (hub/settings.py), every folder in this test's own."""
    return embedded_broker.transport_options(tmp_path)


@pytest.fixture(autouse=True)
def own_broker_state(monkeypatch):
    """kombu keeps the filesystem transport's bindings in one state per process, not per folder: once
    any earlier test of this process has bound the queue ``celery``, a connection to new folders
    never writes their exchange table, and what it sends is routed nowhere."""
    monkeypatch.setattr(filesystem.Transport, "global_state", virtual.BrokerState())


WAIT = 30  # seconds a message may take to arrive on a loaded machine (the get returns as it does)


def empty_messages_while_writing(module, monkeypatch, tmp_path: Path, transport) -> list[str]:
    """Put one message; while its payload is being serialized, list the ``*.msg`` files a
    polling worker could take then, with what they hold."""
    options = folders(tmp_path)
    seen: list[str] = []
    serialize = module.dumps

    def looking(payload):
        for name in Path(options["data_folder_out"]).iterdir():
            if name.name.endswith(".msg") and name.stat().st_size == 0:
                seen.append(name.name)
        return serialize(payload)

    monkeypatch.setattr(module, "dumps", looking)
    with Connection("filesystem://", transport=transport, transport_options=options) as connection:
        queue = connection.SimpleQueue("celery")
        queue.put({"task": "integrations.engine.process"})
        assert queue.get(timeout=WAIT).payload == {"task": "integrations.engine.process"}
        queue.close()
    return seen


def test_a_message_file_appears_only_with_its_content(monkeypatch, tmp_path):
    transport = embedded_broker.Transport
    assert empty_messages_while_writing(embedded_broker, monkeypatch, tmp_path, transport) == []


def test_kombus_own_transport_shows_the_empty_file_this_guards_against(monkeypatch, tmp_path):
    """The reason for the subclass: if kombu ever writes atomically itself, this fails and the
    subclass can go."""
    assert empty_messages_while_writing(filesystem, monkeypatch, tmp_path, filesystem.Transport) != []


def test_many_messages_arrive_whole_and_leave_no_partial_file(tmp_path):
    options = folders(tmp_path)
    with Connection(
        "filesystem://", transport=embedded_broker.Transport, transport_options=options
    ) as connection:
        queue = connection.SimpleQueue("celery")
        for n in range(50):
            queue.put({"n": n})
        received = [queue.get(timeout=WAIT).payload["n"] for _ in range(50)]
        queue.close()
    assert sorted(received) == list(range(50))
    assert not [p for p in Path(options["data_folder_out"]).iterdir() if p.name.startswith("partial_")]


def test_the_embedded_default_uses_it(settings):
    assert settings.CELERY_BROKER_URL == "filesystem://"
    assert settings.CELERY_BROKER_TRANSPORT == "hub.embedded_broker:Transport"
