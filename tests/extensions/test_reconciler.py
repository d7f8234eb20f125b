"""The arguments person reconciliation extensions get (``extensions.engine.ExtensionReconciler``
between two local trackers): ``unresolvedPerson`` when the source person cannot be read, and the
``modelPerson`` keys ``id`` and ``display-name`` on the way to the target."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from connectors import registry
from connectors.local import service
from connectors.local.models import LocalUser
from extensions.engine import ExtensionReconciler
from extensions.errors import ExtensionFailed
from extensions.models import CollectionExtensions, Extension

pytestmark = pytest.mark.django_db

# The target's mapPersonToRepository finds beta's John only for the model person it expects.
TO_BETA = """function mapPersonToRepository(modelPerson, context) {
  return modelPerson.id === %s && modelPerson['display-name'] === %s ? 'john' : 'nobody';
}"""


@pytest.fixture
def sides(collections):
    alpha, beta = collections
    jsmith = LocalUser.objects.create(
        tracker=service.tracker("alpha"), username="jsmith", email="js@example.org", display_name="John S"
    )
    john = LocalUser.objects.create(tracker=service.tracker("beta"), username="john", display_name="John")
    a_settings, b_settings = alpha.repository.settings(), beta.repository.settings()
    with registry.connect(a_settings) as a, registry.connect(b_settings) as b:
        yield SimpleNamespace(
            source=SimpleNamespace(connector=a, collection=alpha),
            target=SimpleNamespace(connector=b, collection=beta),
            jsmith=str(jsmith.pk),
            john=str(john.pk),
        )


def reconcile(collection, script: str) -> None:
    extension = Extension.objects.create(
        name=f"Persons {collection.pk}", type="person_reconciliation", script=script
    )
    CollectionExtensions.objects.update_or_create(
        collection=collection, defaults={"person_reconciliation": extension}
    )


def test_the_model_person_carries_id_and_display_name_by_default(sides):
    """No extension on the source: the model person is the default one, its id the user name."""
    reconcile(sides.target.collection, TO_BETA % ("'jsmith'", "'John S'"))
    reconciler = ExtensionReconciler(sides.source, sides.target)
    assert reconciler.target_id(sides.jsmith, "assignee") == sides.john


def test_the_model_person_of_a_source_extension_keeps_the_display_name(sides):
    reconcile(
        sides.source.collection,
        "function mapPersonFromRepository(p, u, c) { return 'm-' + p['person-username']; }",
    )
    reconcile(sides.target.collection, TO_BETA % ("'m-jsmith'", "'John S'"))
    assert ExtensionReconciler(sides.source, sides.target).target_id(sides.jsmith, "assignee") == sides.john


def test_a_person_the_source_cannot_read_comes_as_unresolved_person(sides):
    """repositoryPerson is null and unresolvedPerson carries the id the artifact named; the model
    person made from it has no display name."""
    reconcile(
        sides.source.collection,
        """function mapPersonFromRepository(repositoryPerson, unresolvedPerson, context) {
          return repositoryPerson === null ? 'gone-' + unresolvedPerson['person-id'] : 'known';
        }""",
    )
    reconcile(sides.target.collection, TO_BETA % ("'gone-424242'", "''"))
    reconciler = ExtensionReconciler(sides.source, sides.target)
    assert reconciler.target_id("424242", "assignee") == sides.john


def test_the_repository_person_says_whether_the_account_is_active(sides):
    """The guide's repositoryPerson keys, ``active`` included: false for a deactivated user, whom a
    script may then map to someone else; ``unresolvedPerson`` is null when the person was read."""
    reconcile(
        sides.source.collection,
        """function mapPersonFromRepository(repositoryPerson, unresolvedPerson, context) {
          var keys = ['person-id', 'person-email', 'person-display-name', 'active'];
          var complete = keys.every(function (k) { return k in repositoryPerson; });
          if (!complete || unresolvedPerson !== null) { throw 'unexpected arguments'; }
          return repositoryPerson.active ? repositoryPerson['person-username'] : 'stand-in';
        }""",
    )
    reconcile(sides.target.collection, TO_BETA % ("'stand-in'", "'John S'"))
    LocalUser.objects.filter(pk=int(sides.jsmith)).update(active=False)
    assert ExtensionReconciler(sides.source, sides.target).target_id(sides.jsmith, "assignee") == sides.john
    LocalUser.objects.filter(pk=int(sides.jsmith)).update(active=True)
    with pytest.raises(ExtensionFailed, match="returned 'nobody'"):  # 'jsmith' now, not the stand-in
        ExtensionReconciler(sides.source, sides.target).target_id(sides.jsmith, "assignee")
