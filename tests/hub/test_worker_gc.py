"""A worker freezes what start-up and its first task leave alive into the collector's permanent
generation (issue #19: a quarter of a syncing worker's CPU went to full collections walking the
start-up heap)."""

import gc
from types import SimpleNamespace

import pytest

from hub import celery as hub_celery


@pytest.fixture
def unfrozen(monkeypatch):
    gc.unfreeze()
    monkeypatch.setattr(hub_celery, "_frozen_after_first_task", False)
    yield
    gc.unfreeze()


def task(eager: bool):
    return SimpleNamespace(request=SimpleNamespace(is_eager=eager))


def test_freezing_moves_the_live_objects_out_of_the_collected_generations(unfrozen):
    assert gc.get_freeze_count() == 0
    alive = [object() for _ in range(10)]
    hub_celery.freeze_startup_objects()
    assert gc.get_freeze_count() > 0
    assert not any(alive is o for o in gc.get_objects(generation=2))


def test_cyclic_garbage_made_before_the_freeze_is_collected_not_frozen(unfrozen):
    class Node:
        pass

    node = Node()
    node.self = node
    gc.disable()  # only the freeze's own collection may free it
    try:
        del node
        hub_celery.freeze_startup_objects()
        assert not any(type(o) is Node for o in gc.get_objects())
    finally:
        gc.enable()


def test_the_first_task_of_a_worker_freezes_once(unfrozen):
    hub_celery._freeze_after_first_task(task=task(eager=False))
    first = gc.get_freeze_count()
    assert first > 0
    keep = [[] for _ in range(100)]  # tracked objects made after the first task
    hub_celery._freeze_after_first_task(task=task(eager=False))
    assert gc.get_freeze_count() == first  # later tasks' objects are collected as before
    assert keep


def test_a_task_run_eagerly_in_another_program_freezes_nothing(unfrozen):
    hub_celery._freeze_after_first_task(task=task(eager=True))
    hub_celery._freeze_after_first_task(task=None)
    assert gc.get_freeze_count() == 0
    assert hub_celery._frozen_after_first_task is False


def test_a_ready_solo_worker_freezes_its_start_up_objects(unfrozen, monkeypatch):
    from extensions import services
    from integrations.engine import heartbeat

    monkeypatch.setattr(heartbeat, "start", lambda name: None)
    monkeypatch.setattr(services, "start_sandbox_if_used", lambda: None)
    hub_celery._start_heartbeat(sender=SimpleNamespace(hostname="w@h", pool=SimpleNamespace()))
    assert gc.get_freeze_count() > 0


def test_a_ready_worker_has_imported_the_connectors_before_its_first_task(unfrozen, monkeypatch):
    from connectors import registry
    from extensions import services
    from integrations.engine import heartbeat

    monkeypatch.setattr(heartbeat, "start", lambda name: None)
    monkeypatch.setattr(services, "start_sandbox_if_used", lambda: None)
    imported = []
    monkeypatch.setattr(registry, "_loaded", False)
    monkeypatch.setattr(registry.importlib, "import_module", imported.append)
    hub_celery._start_heartbeat(sender=SimpleNamespace(hostname="w@h", pool=SimpleNamespace()))
    assert registry._loaded
    assert imported == list(registry.BUILT_IN)
