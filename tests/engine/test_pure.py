"""The engine's pure functions: mapping, comparison and conflicts, filters and routes, persons,
retry schedule."""

import datetime as dt

import pytest

from connectors.types import Person, WebLink
from integrations.engine import conflicts, mapping, persons, retry, routing
from integrations.engine.mapping import Line

TITLE = Line(["summary"], ["string"], ["title"], ["string"])
PRIORITY = Line(
    ["priority"],
    ["single_select"],
    ["priority"],
    ["single_select"],
    transform="value_map",
    params={
        "to_model": {"p1": "high", "p2": "low"},
        "to_model_default": "low",
        "to_repository": {"high": "p1", "low": "p2"},
    },
)
DUE = Line(["due_date"], ["date"], ["due"], ["date_time"], transform="date_datetime")
SPENT = Line(["time_spent"], ["duration"], ["minutes"], ["long"], transform="duration_number")
LINKS = Line(["web_links"], ["web_links"], ["links"], ["string"], transform="links_text")
READ_ONLY = Line(["created"], ["date_time"], ["opened"], ["date_time"], writes=False)


def test_repository_to_model_to_repository_round_trip():
    fields = {
        "summary": "Crash on save",
        "priority": "p1",
        "due_date": dt.date(2026, 3, 1),
        "time_spent": dt.timedelta(minutes=90),
        "web_links": [WebLink("https://a.example"), WebLink("https://b.example")],
        "created": dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
    }
    lines = [TITLE, PRIORITY, DUE, SPENT, LINKS, READ_ONLY]
    model = mapping.to_model(lines, fields)
    assert model == {
        "title": "Crash on save",
        "priority": "high",
        "due": "2026-03-01T00:00:00Z",
        "minutes": 90,
        "links": "https://a.example\nhttps://b.example",
        "opened": "2026-01-02T03:04:05Z",
    }
    back = mapping.to_repository(lines, model)
    assert back == {
        "summary": "Crash on save",
        "priority": "p1",
        "due_date": dt.date(2026, 3, 1),
        "time_spent": dt.timedelta(minutes=90),
        "web_links": [WebLink("https://a.example"), WebLink("https://b.example")],
    }
    assert "created" not in back  # read-only line is never written


def test_a_date_stays_the_same_calendar_day_whatever_the_time_zone():
    late_evening_in_tokyo = dt.datetime(2026, 3, 1, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=9)))
    line = Line(["due_date"], ["date"], ["due"], ["date"])
    assert mapping.to_model([line], {"due_date": dt.date(2026, 3, 1)}) == {"due": "2026-03-01"}
    assert mapping.to_model([line], {"due_date": late_evening_in_tokyo}) == {"due": "2026-03-01"}


def test_unmapped_option_takes_the_default_and_only_requested_fields_are_written():
    assert mapping.to_model([PRIORITY], {"priority": "p9"}) == {"priority": "low"}
    assert mapping.to_repository([TITLE, PRIORITY], {"title": "x", "priority": "low"}, only=["priority"]) == {
        "priority": "p2"
    }


def test_text_that_is_not_a_number_fails_naming_the_field():
    line = Line(["estimate"], ["string"], ["hours"], ["double"], transform="number_text")
    with pytest.raises(mapping.MappingFailed, match="hours"):
        mapping.to_model([line], {"estimate": "about three"})
    assert mapping.to_model([line], {"estimate": "2.5"}) == {"hours": 2.5}


def test_join_and_split_between_several_fields_and_one():
    join = Line(
        ["first", "second"],
        ["string", "string"],
        ["text"],
        ["string"],
        transform="join",
        params={"separator": " / "},
    )
    assert mapping.to_model([join], {"first": "a", "second": "b"}) == {"text": "a / b"}
    assert mapping.to_repository([join], {"text": "a / b"}) == {"first": "a", "second": "b"}


def test_the_compiled_reader_of_a_mapping_reads_what_to_model_reads():
    """``model_reader`` (the Enterprise Data Stream's) works out each line once; its values are
    ``to_model``'s, conversions included, a later line overriding an earlier one."""
    number = Line(["estimate"], ["string"], ["hours"], ["double"], transform="number_text")
    constant = Line([], [], ["source"], ["string"], transform="constant", params={"value": "alpha"})
    join = Line(["summary", "estimate"], ["string", "string"], ["text"], ["string"], transform="join")
    again = Line(["estimate"], ["string"], ["title"], ["string"])  # overrides TITLE's value
    skipped = Line(["summary"], ["string"], ["unread"], ["string"], reads=False)
    lines = [TITLE, PRIORITY, DUE, SPENT, LINKS, READ_ONLY, number, constant, join, again, skipped]
    read = mapping.model_reader(lines)
    for fields in (
        {
            "summary": "Crash", "priority": "p2", "due_date": dt.date(2026, 3, 1), "estimate": "2.5",
            "time_spent": dt.timedelta(minutes=5), "web_links": [WebLink("https://a.example")],
            "created": dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
        },
        {"summary": None, "estimate": None},
        {},
    ):  # fmt: skip
        assert read(fields) == mapping.to_model(lines, fields)
    assert read({"estimate": "2.5"})["title"] == "2.5" and "unread" not in read({"summary": "x"})
    with pytest.raises(mapping.MappingFailed):
        read({"estimate": "about three"})


FLOWS = {"title": "both", "priority": "a_to_b", "due": "b_to_a"}


def plan(
    source="A",
    source_model=None,
    source_snapshot=None,
    target_model=None,
    target_snapshot=None,
    strategy="a_wins",
):
    base = {"title": "t", "priority": "low", "due": None}
    return conflicts.plan_update(
        source=source,
        source_model={**base, **(source_model or {})},
        source_snapshot={**base, **(source_snapshot or {})},
        target_model={**base, **(target_model or {})},
        target_snapshot={**base, **(target_snapshot or {})},
        field_flows=FLOWS,
        strategy=strategy,
    )


def test_only_fields_changed_on_the_source_and_flowing_that_way_are_written():
    result = plan(source_model={"title": "new", "due": "2026-01-01"})
    assert result.write == {"title": "new"}  # due flows B → A only
    assert plan().empty


def test_a_change_hub_wrote_itself_writes_nothing_back():
    # Hub wrote "new" to B and stored it in B's snapshot; detection sees B changed.
    result = plan(
        source="B",
        source_model={"title": "new"},
        source_snapshot={"title": "new"},
        target_model={"title": "new"},
        target_snapshot={"title": "new"},
    )
    assert result.empty


def test_change_on_the_target_only_is_left_for_the_targets_own_activity():
    assert plan(target_model={"title": "theirs"}).empty


def test_a_write_back_carries_the_targets_other_changes_that_flow_back_in_the_same_write():
    # B's activity: both changed the title (A wins: written back to B) and A changed its priority,
    # which flows A → B. One write to B brings both; left for A's own activity, the priority cost a
    # second Hub journal on B for one change of A (issue #20, the bounded acceptance run's "1 extra
    # Hub journal": B0011).
    result = plan(
        source="B",
        source_model={"title": "mine"},
        target_model={"title": "theirs", "priority": "high", "due": "2026-01-01"},
    )
    assert (result.write, result.write_back) == ({}, {"title": "theirs", "priority": "high"})
    assert set(result.decided) == {"title"}  # the priority was no conflict


@pytest.mark.parametrize(
    ("strategy", "write", "write_back"),
    [("a_wins", {"title": "mine"}, {}), ("b_wins", {}, {"title": "theirs"})],
)
def test_conflict_is_decided_by_the_strategy(strategy, write, write_back):
    result = plan(source_model={"title": "mine"}, target_model={"title": "theirs"}, strategy=strategy)
    assert (result.write, result.write_back) == (write, write_back)


def test_conflict_with_error_strategy_fails_showing_both_values():
    with pytest.raises(conflicts.ConflictFailed) as failure:
        plan(source_model={"title": "mine"}, target_model={"title": "theirs"}, strategy="error")
    assert failure.value.code == "CCRRTT-50002E"
    assert "'mine'" in str(failure.value) and "'theirs'" in str(failure.value)


def test_same_change_on_both_sides_is_no_conflict():
    assert plan(source_model={"title": "same"}, target_model={"title": "same"}, strategy="error").empty


def test_conditional_flow_counts_only_when_its_condition_holds():
    flows = {
        "title": {"flow": "both", "condition": {"field": "priority", "operator": "equals", "value": "high"}}
    }
    assert conflicts.normalized_flows(flows, {"priority": "high"}) == {"title": "both"}
    assert conflicts.normalized_flows(flows, {"priority": "low"}) == {}


def test_filters_for_creation_and_updates():
    filters = {
        "combine": "and",
        "applies_to": "creation",
        "conditions": [
            {"field": "priority", "operator": "in", "value": ["high"]},
            {"field": "title", "operator": "contains", "value": "crash"},
        ],
    }
    assert routing.passes_filters(filters, {"priority": "high", "title": "Crash on save"}, creating=True)
    assert not routing.passes_filters(filters, {"priority": "low", "title": "Crash on save"}, creating=True)
    assert routing.passes_filters(filters, {"priority": "low", "title": "x"}, creating=False)
    either = {**filters, "combine": "or", "applies_to": "both"}
    assert routing.passes_filters(either, {"priority": "low", "title": "crash"}, creating=False)
    assert routing.condition_holds(
        {"field": "due", "operator": "before", "value": "2026-02-01"}, {"due": "2026-01-15"}
    )
    assert routing.condition_holds({"field": "due", "operator": "is_empty"}, {"due": None})


def test_routes_choose_the_target_project_or_fail_with_17019E():
    routes = [routing.RouteRow("DEMO", "WEB", "both"), routing.RouteRow("OPS", "SUP", "a_to_b")]
    assert routing.target_project(routes, "A", "DEMO", {}) == "WEB"
    assert routing.target_project(routes, "B", "WEB", {}) == "DEMO"
    assert routing.target_project(routes, "A", "OPS", {}) == "SUP"
    with pytest.raises(routing.RouteMissing) as failure:
        routing.target_project(routes, "B", "SUP", {})  # that route flows A → B only
    assert failure.value.code == "CCRRTT-17019E"


HIGH = {"field": "priority", "operator": "equals", "value": "high"}
SOON = {"field": "due", "operator": "before", "value": "2026-03-01"}


def test_the_first_route_whose_condition_holds_decides_the_target_project():
    routes = [
        routing.RouteRow("DEMO", "URGENT", "a_to_b", HIGH),
        routing.RouteRow("DEMO", "SOON", "a_to_b", SOON),
        routing.RouteRow("DEMO", "WEB", "both"),  # the default route, tried last
    ]
    high_and_soon = {"priority": "high", "due": "2026-02-01"}
    assert routing.target_project(routes, "A", "DEMO", high_and_soon) == "URGENT"
    assert routing.target_project(routes, "A", "DEMO", {"priority": "low", "due": "2026-02-01"}) == "SOON"
    assert routing.target_project(routes, "A", "DEMO", {"priority": "low", "due": None}) == "WEB"
    assert routing.target_project(list(reversed(routes)), "A", "DEMO", high_and_soon) == "WEB"
    # B → A: only the two-way route leaves WEB, whatever the artifact holds.
    assert routing.target_project(routes, "B", "WEB", high_and_soon) == "DEMO"


def test_no_route_whose_condition_holds_fails_with_17008E_naming_the_artifact_and_the_routes_tried():
    routes = [
        routing.RouteRow("DEMO", "URGENT", "a_to_b", HIGH),
        routing.RouteRow("DEMO", "SOON", "both", SOON),
        routing.RouteRow("OPS", "WEB", "a_to_b"),  # leaves another project: not tried
    ]
    with pytest.raises(routing.NoRouteMatches) as failure:
        routing.target_project(routes, "A", "DEMO", {"priority": "low", "due": None}, "DEMO-7")
    assert failure.value.code == "CCRRTT-17008E"
    assert str(failure.value) == (
        "Artifact DEMO-7 of project “DEMO” (side A) meets the condition of none of the routes leaving that "
        "project; tried in order: DEMO → URGENT when priority equals high; "
        "DEMO → SOON when due before 2026-03-01."
    )
    with pytest.raises(routing.RouteMissing):
        routing.target_project(routes, "B", "URGENT", {"priority": "high"})  # A → B only


def test_a_route_after_an_unconditional_route_from_the_same_project_is_never_chosen():
    routes = [
        routing.RouteRow("DEMO", "WEB", "a_to_b"),
        routing.RouteRow("DEMO", "URGENT", "a_to_b", HIGH),  # shadowed by the first
        routing.RouteRow("DEMO", "SOON", "both", SOON),  # shadowed A → B, but reachable from SOON
        routing.RouteRow("OPS", "WEB", "a_to_b", HIGH),
    ]
    assert routing.unreachable(routes) == [(1, 0)]


def finder(people):
    def find(field, value):
        return [p for p in people if getattr(p, field) == value]

    return find


@pytest.mark.parametrize(
    ("source", "target", "fields"),
    [
        (Person("1", "ann", "ann@x"), Person("9", "ann", ""), ["username"]),  # username ↔ username
        (Person("1", "42", ""), Person("42", "other", ""), ["id"]),  # username ↔ id
        (Person("ann", "", ""), Person("9", "ann", ""), ["username"]),  # id ↔ username
        (Person("7", "", ""), Person("7", "x", ""), ["id"]),  # id ↔ id
        (Person("1", "ann", "Ann@X"), Person("9", "anne", "Ann@X"), ["username", "email"]),  # email ↔ email
    ],
)
def test_default_person_reconciliation_steps(source, target, fields):
    assert persons.match(source, fields, finder([target])) == target


def test_person_reconciliation_skips_steps_the_target_cannot_search_and_finds_nobody():
    ann = Person("1", "ann", "ann@x")
    assert persons.match(ann, ["email"], finder([Person("9", "ann", "")])) is None


def test_retry_schedule_starts_at_30_seconds_grows_and_is_capped():
    delays = [retry.delay(n).total_seconds() for n in range(1, 10)]
    assert delays[0] == 30
    assert all(later > earlier for earlier, later in zip(delays, delays[1:5], strict=False))
    assert max(delays) == retry.CAP.total_seconds()
    assert retry.delay(1, server_wait=120).total_seconds() == 120
