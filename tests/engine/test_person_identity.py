"""The data foundation of user counting, written with the sync: a generated identifier per person
and repository, one shared across repositories when reconciliation matched the person, and a count
of sightings per month and place."""

from metrics.models import PersonSeen, PersonSighting, RepositoryPerson
from tests.engine.sync import change, new_item, run
from tests.engine.test_sync import with_people_and_parents  # noqa: F401 - fixture


def test_a_reconciled_person_gets_one_person_identifier_in_both_repositories(with_people_and_parents):  # noqa: F811
    running, ann_alpha, ann_beta = with_people_and_parents
    new_item("alpha", "DEMO", "Assigned", assignee=str(ann_alpha.pk))
    run(running)
    alpha = RepositoryPerson.objects.get(repository_id=running.collection_a.repository_id)
    beta = RepositoryPerson.objects.get(repository_id=running.collection_b.repository_id)
    assert (alpha.person_id, beta.person_id) == (str(ann_alpha.pk), str(ann_beta.pk))
    assert alpha.uid != beta.uid
    assert alpha.person_uid is not None and alpha.person_uid == beta.person_uid
    assert (alpha.username, alpha.email) == ("ann", "ann@example.com")


def test_each_sighting_in_a_month_and_place_is_counted(with_people_and_parents):  # noqa: F811
    running, ann_alpha, _ = with_people_and_parents
    item = new_item("alpha", "DEMO", "Assigned", assignee=str(ann_alpha.pk))
    run(running)
    change(item, summary="Assigned, edited")
    run(running)
    sighting = PersonSighting.objects.get(person_id=str(ann_alpha.pk))
    assert sighting.count == 2
    # the cumulative tables' rollup: the person once for the integration, however often seen
    seen = PersonSeen.objects.get()
    assert (seen.integration_id, seen.repository_id, seen.person_id) == (
        running.pk,
        running.collection_a.repository_id,
        str(ann_alpha.pk),
    )


def test_a_batch_writes_each_sighting_once_with_the_sum_of_its_artifacts(db, django_assert_max_num_queries):
    """Three artifacts of one batch with the same assignee: one sighting row counting 3, one
    repository person, one PersonSeen, in a bounded number of queries; the next batch adds to it."""
    from types import SimpleNamespace as Row

    from connectors.types import Person
    from integrations.engine import counters

    side = Row(repository=Row(pk=7), collection=Row(pk=2, model_id=3))
    persons = Row(fields={("owner", "41")}, seen={"41": Person("41", "ann")}, matched=lambda _: None)
    processor = Row(
        integration=Row(pk=5), target=side, source=side, persons=persons, activity=Row(source_project="DEMO")
    )
    counters.record([(processor, False)])  # the rows exist from here on
    with django_assert_max_num_queries(5):  # the person, the sighting, day, month, total
        counters.record([(processor, True)] * 3)
    assert list(PersonSighting.objects.values_list("person_id", "username", "count")) == [("41", "ann", 4)]
    assert RepositoryPerson.objects.count() == PersonSeen.objects.count() == 1


def test_sightings_older_than_two_years_are_purged_with_people_no_longer_seen(db):
    from datetime import date

    from metrics import dashboard, usage

    for month, person in ((date(2024, 10, 1), "old"), (date(2026, 11, 1), "recent")):
        PersonSighting.objects.create(
            month=month, repository_id=1, person_id=person, integration_id=1, field="owner"
        )
        RepositoryPerson.objects.create(repository_id=1, person_id=person)
    dashboard.rebuild_people_seen()
    assert usage.purge(today=date(2026, 12, 1)) == 2
    assert list(PersonSeen.objects.values_list("person_id", flat=True)) == ["recent"]
    assert list(PersonSighting.objects.values_list("person_id", flat=True)) == ["recent"]
    assert list(RepositoryPerson.objects.values_list("person_id", flat=True)) == ["recent"]


def test_a_batch_of_many_people_costs_the_same_queries_as_one(db, django_assert_num_queries):
    """Forty artifacts of one batch, each with its own assignee that reconciliation matched on the
    other side: once the people and sightings exist, the batch reads the people with one query per
    repository and adds to every sighting with one locking read and one UPDATE (bench/sync.py
    --people measured a statement and a half per artifact when each was looked up and updated on
    its own). Each sighting gets its own artifacts' count, and a person read now whose details are
    a week old is refreshed."""
    from datetime import timedelta

    from django.db import transaction
    from django.utils import timezone

    from integrations.engine import counters
    from tests.engine.sync import matched_assignee

    def processor(n: int):
        return matched_assignee(f"p{n}")

    first = [(processor(n), True) for n in range(40)]
    # the people, the sightings and their rollup are made here: the savepoint and its release; the
    # people read, inserted and read back (two repositories); one UPDATE per matched pair sharing
    # its new person identifier; the sightings read, inserted with their rollup, read back and
    # updated; the day, month and total rows made (six statements each: the first of their keys)
    with django_assert_num_queries(2 + 2 + 1 + 2 + 40 + 5 + 3 * 6), transaction.atomic():
        counters.record(first)
    assert RepositoryPerson.objects.count() == 80 and PersonSeen.objects.count() == 40
    shared = dict(RepositoryPerson.objects.filter(repository_id=7).values_list("person_id", "person_uid"))
    assert shared["p3"] == RepositoryPerson.objects.get(repository_id=8, person_id="b-p3").person_uid
    RepositoryPerson.objects.filter(person_id="p9").update(refreshed=timezone.now() - timedelta(days=8))
    later = [(processor(n), False) for n in range(40)] + [(processor(n), True) for n in range(0, 40, 2)]
    # the savepoint and its release; the people (source, target); p9's refresh (its lookup and
    # UPDATE); the sightings' locking read and UPDATE; day, month and total of the created and of the
    # updated — however many people the batch has
    with django_assert_num_queries(2 + 2 + 2 + 2 + 6), transaction.atomic():
        counters.record(later)
    counts = dict(PersonSighting.objects.values_list("person_id", "count"))
    assert counts == {f"p{n}": 3 if n % 2 == 0 else 2 for n in range(40)}
    assert RepositoryPerson.objects.get(person_id="p9").refreshed > timezone.now() - timedelta(minutes=1)
    assert RepositoryPerson.objects.count() == 80 and PersonSeen.objects.count() == 40


def test_personal_details_are_taken_again_once_a_week_old(db):
    """A person read for a sync refreshes the details the reports show once they are a week old;
    younger ones are left as they are (no write per sighting)."""
    from datetime import timedelta

    from django.utils import timezone

    from connectors.types import Person
    from integrations.engine import counters

    now = timezone.now()
    for person_id, age in (("old", counters.REFRESH_AFTER + timedelta(hours=1)), ("new", timedelta(days=1))):
        RepositoryPerson.objects.create(
            repository_id=1, person_id=person_id, display_name="Ann Before", refreshed=now - age
        )
        counters.identify(1, person_id, Person(id=person_id, username="ann", display_name="Ann After"))
    names = dict(RepositoryPerson.objects.values_list("person_id", "display_name"))
    assert names == {"old": "Ann After", "new": "Ann Before"}
    assert RepositoryPerson.objects.get(person_id="old").refreshed > now


def test_the_periodic_refresh_reads_people_never_read_or_a_week_old_from_their_repository(repositories):
    """Beat's ``metrics.refresh_people``: a person seen only in a field that does not flow (never
    read) and one read over a week ago get the repository's current details; one read yesterday is
    not asked for; one the repository no longer has keeps their details; a disabled repository is
    left for the next run."""
    from datetime import timedelta

    from django.utils import timezone

    from connectors.local import service
    from connectors.local.models import LocalUser
    from metrics import tasks

    alpha, beta = repositories
    tracker = service.tracker("alpha")
    now = timezone.now()

    def user(username):
        return LocalUser.objects.create(
            tracker=tracker, username=username, email=f"{username}@example.com", display_name=username.title()
        )

    never, old, recent = user("never"), user("old"), user("recent")
    for local, refreshed in (
        (never, None),
        (old, now - timedelta(days=8)),
        (recent, now - timedelta(days=1)),
    ):
        RepositoryPerson.objects.create(repository_id=alpha.pk, person_id=str(local.pk), refreshed=refreshed)
    RepositoryPerson.objects.create(repository_id=alpha.pk, person_id="999999", username="gone")
    RepositoryPerson.objects.create(repository_id=beta.pk, person_id="beta-1", username="beta person")
    beta.enabled = False
    beta.save()

    assert tasks.refresh_people() == 2
    people = {p.person_id: p for p in RepositoryPerson.objects.all()}
    assert (people[str(never.pk)].display_name, people[str(never.pk)].email) == ("Never", "never@example.com")
    assert people[str(old.pk)].username == "old" and people[str(old.pk)].refreshed > now
    assert people[str(recent.pk)].username == "" and people[str(recent.pk)].refreshed < now
    assert people["999999"].username == "gone" and people["999999"].refreshed > now  # not asked again
    assert people["beta-1"].refreshed is None  # disabled: tried again at the next run
    assert tasks.refresh_people() == 0  # everything of alpha is fresh now
    from django_celery_beat.models import PeriodicTask

    assert PeriodicTask.objects.filter(task="metrics.refresh_people").exists()  # beat runs it hourly


def test_the_usage_report_names_the_repository_field_the_person_came_through(db, integration):
    from integrations.models import FieldMapping
    from metrics import usage

    collection = integration.collection_a
    FieldMapping.objects.create(
        collection=collection,
        repository_fields=["assignee"],
        repository_field_types={"assignee": "person"},
        model_fields=["owner"],
        model_field_types={"owner": "person"},
    )
    PersonSighting.objects.create(
        month=timezone_month(),
        repository_id=collection.repository_id,
        person_id="7",
        integration_id=integration.pk,
        collection_id=collection.pk,
        project="DEMO",
        field="owner",
    )
    [row] = usage.rows(personal=False)
    assert (row[usage.COLUMNS.index("Repository Fields")], row[usage.COLUMNS.index("Model Fields")]) == (
        "assignee",
        "owner",
    )


def timezone_month():
    from django.utils import timezone

    return timezone.localdate().replace(day=1)
