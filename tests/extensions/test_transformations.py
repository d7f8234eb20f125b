"""Custom data transformations in mapping lines: the documented examples, the value conventions
(select labels, rich text as HTML, web links), output checks (17024E) and the license (65001E)."""

from __future__ import annotations

import pytest

from extensions import transformations
from extensions.transformations import LineExtensions
from extensions.types import FieldInfo
from integrations.engine import mapping
from integrations.engine.mapping import Line, MappingFailed

pytestmark = pytest.mark.django_db

SPLIT_AND_TRIM = """
var inputTypes = 'String';
var outputTypes = ['String', 'String'];

function transform(context, input) {
  if (input) {
    var values = input.split('/');
    if (values.length != 2) {
      throw 'Unexpected value ' + input;
    }
    return values.map(function(s) {
      return s.trim();
    });
  }
}
"""
CONCATENATION = """
var inputTypes = ['String', 'String'];
var outputTypes = 'String';


function transform(context, input) {
  // returns the result of the transformation
  return 'ID: ' + input[0] + ' :: '+input[1];
}
"""
RICH_TEXT = """
var inputTypes = 'String';
var outputTypes = 'Rich Text';

function transform(context, input) {
  if (input) {
    return '<pre>' + html.escape(input) + '</pre>';
  }
}
"""
SELECT_LABEL = """
var inputTypes = 'Single Select';
var outputTypes = 'Single Select';

function transform(context, input) {
  if (input === 'Urgent') { return 'High'; }
  if (context.targetField.options.indexOf(input) >= 0) { return input; }
  return undefined;
}
"""
WEB_LINKS = """
var inputTypes = 'String';
var outputTypes = 'Web Links';

function transform(context, input) {
  return [
    {
      label: 'Tasktop',
      location: 'http://www.tasktop.com'
    },
    {
      location: 'http://www.alt-tasktop.com'
    }
  ];
}
"""


def line(extension, repo_fields, model_fields, *, to_model=True) -> Line:
    runner = LineExtensions(
        extension if to_model else None,
        None if to_model else extension,
        list(repo_fields),
        list(model_fields),
    )
    return Line(
        repository_fields=[f.id for f in repo_fields],
        repository_types=[f.type for f in repo_fields],
        model_fields=[f.id for f in model_fields],
        model_types=[f.type for f in model_fields],
        transform="extension",
        extension=runner,
    )


def text(id_, label=None):
    return FieldInfo(id_, label or id_.title(), "string")


PRIORITY_OPTIONS = [{"id": "1", "label": "Low"}, {"id": "2", "label": "High"}, {"id": "9", "label": "Urgent"}]
MODEL_PRIORITY = [{"id": "low", "label": "Low"}, {"id": "high", "label": "High"}]


def test_split_and_trim_gives_two_fields(extensions_licensed, make_extension):
    extension = make_extension("Split", SPLIT_AND_TRIM)
    lines = [line(extension, [text("component")], [text("area"), text("part")])]
    assert mapping.to_model(lines, {"component": " Web / Login "}) == {"area": "Web", "part": "Login"}


def test_split_and_trim_refuses_an_unexpected_value_with_17011E(extensions_licensed, make_extension):
    extension = make_extension("Split", SPLIT_AND_TRIM)
    lines = [line(extension, [text("component")], [text("area"), text("part")])]
    with pytest.raises(MappingFailed) as failure:
        mapping.to_model(lines, {"component": "a/b/c"})
    assert failure.value.code == "CCRRTT-17011E"
    assert "Unexpected value a/b/c" in str(failure.value)
    assert "Split" in str(failure.value)


def test_formatted_id_and_name_concatenate_into_summary(extensions_licensed, make_extension):
    extension = make_extension("Concatenate", CONCATENATION)
    lines = [line(extension, [text("formatted_id"), text("name")], [text("summary")])]
    model = mapping.to_model(lines, {"formatted_id": "US42", "name": "Login page"})
    assert model == {"summary": "ID: US42 :: Login page"}


def test_string_to_rich_text_escapes_html(extensions_licensed, make_extension):
    extension = make_extension("Pre", RICH_TEXT)
    lines = [line(extension, [text("log")], [FieldInfo("details", "Details", "rich_text")])]
    assert mapping.to_model(lines, {"log": "a < b & c"}) == {"details": "<pre>a &lt; b &amp; c</pre>"}


def test_single_select_arrives_and_leaves_by_label(extensions_licensed, make_extension):
    extension = make_extension("Priority", SELECT_LABEL)
    source = FieldInfo("priority", "Priority", "single_select", PRIORITY_OPTIONS)
    target = FieldInfo("priority", "Priority", "single_select", MODEL_PRIORITY)
    lines = [line(extension, [source], [target])]
    assert mapping.to_model(lines, {"priority": "9"}) == {"priority": "high"}  # Urgent → High
    assert mapping.to_model(lines, {"priority": "1"}) == {"priority": "low"}
    assert mapping.to_model(lines, {"priority": None}) == {"priority": None}  # undefined: empty


def test_a_label_that_is_no_option_is_17024E(extensions_licensed, make_extension):
    extension = make_extension(
        "Bad",
        "var inputTypes='String'; var outputTypes='Single Select';"
        "function transform(c, i) { return 'Critical'; }",
    )
    target = FieldInfo("priority", "Priority", "single_select", MODEL_PRIORITY)
    with pytest.raises(MappingFailed) as failure:
        mapping.to_model([line(extension, [text("x")], [target])], {"x": "y"})
    assert failure.value.code == "CCRRTT-17024E"
    assert "Critical" in str(failure.value) and "Priority" in str(failure.value)


def test_multi_select_is_an_array_of_labels(extensions_licensed, make_extension):
    extension = make_extension(
        "Upper",
        "var inputTypes='Multi Select'; var outputTypes='String';"
        "function transform(c, i) { return i.join('+'); }",
    )
    options = [{"id": "a", "label": "Alpha"}, {"id": "b", "label": "Beta"}]
    source = FieldInfo("labels", "Labels", "multi_select", options)
    model = mapping.to_model([line(extension, [source], [text("t")])], {"labels": ["b", "a"]})
    assert model == {"t": "Alpha+Beta"}


def test_web_links_leave_as_label_and_location(extensions_licensed, make_extension):
    extension = make_extension("Links", WEB_LINKS)
    target = FieldInfo("links", "Links", "web_links")
    model = mapping.to_model([line(extension, [text("x")], [target])], {"x": "y"})
    assert model == {
        "links": [
            {"url": "http://www.tasktop.com", "label": "Tasktop"},
            {"url": "http://www.alt-tasktop.com", "label": ""},
        ]
    }


def test_a_wrong_type_names_the_field_and_the_type(extensions_licensed, make_extension):
    extension = make_extension(
        "Number",
        "var inputTypes='String'; var outputTypes='Long';function transform(c, i) { return 'many'; }",
    )
    with pytest.raises(MappingFailed) as failure:
        mapping.to_model([line(extension, [text("x")], [FieldInfo("n", "Count", "long")])], {"x": "y"})
    assert failure.value.code == "CCRRTT-17024E"
    assert "Count" in str(failure.value) and "whole number" in str(failure.value)


def test_the_context_carries_artifacts_fields_and_direction(extensions_licensed, make_extension):
    script = """var inputTypes = 'String'; var outputTypes = 'String';
    function transform(context, input) {
      return [context.direction, context.sourceArtifact.other, context.sourceField.id,
              context.targetField.label,
              context.targetRepositoryArtifact === undefined ? 'no' : 'yes'].join('|');
    }"""
    extension = make_extension("Context", script)
    model = mapping.to_model([line(extension, [text("x")], [text("y", "Why")])], {"x": "1", "other": "o"})
    assert model == {"y": "repository-to-model|o|x|Why|yes"}


def test_model_to_repository_uses_its_own_extension(extensions_licensed, make_extension):
    extension = make_extension(
        "Shout",
        "var inputTypes='String'; var outputTypes='String';"
        "function transform(c, i) { return i.toUpperCase(); }",
    )
    lines = [line(extension, [text("summary")], [text("title")], to_model=False)]
    assert mapping.to_repository(lines, {"title": "quiet"}) == {"summary": "QUIET"}


def test_an_unlicensed_extension_type_is_refused_with_65001E(licensed, make_extension):
    extension = make_extension(
        "Shout", "var inputTypes='String'; var outputTypes='String';function transform(c, i) { return i; }"
    )
    with pytest.raises(MappingFailed) as failure:
        mapping.to_model([line(extension, [text("a")], [text("b")])], {"a": "x"})
    assert failure.value.code == "CCRRTT-65001E"


def test_only_extensions_whose_types_fit_in_order_are_offered(make_extension):
    make_extension("Concatenate", CONCATENATION)
    make_extension("Split", SPLIT_AND_TRIM)
    make_extension("Pre", RICH_TEXT)
    names = lambda found: [e.name for e in found]  # noqa: E731
    assert names(transformations.fitting(["string", "string"], ["string"])) == ["Concatenate"]
    assert names(transformations.fitting(["string"], ["string", "string"])) == ["Split"]
    assert names(transformations.fitting(["string"], ["rich_text"])) == ["Pre"]
    assert names(transformations.fitting(["rich_text"], ["string"])) == []
    assert names(transformations.fitting(["long", "string"], ["string"])) == []


def test_a_lossy_transformation_is_recognised(make_extension):
    assert transformations.is_lossy(make_extension("Concatenate", CONCATENATION))
    assert not transformations.is_lossy(make_extension("Split", SPLIT_AND_TRIM))


def test_console_log_lines_go_to_the_extensions_log_naming_where_they_ran(
    extensions_licensed, make_extension, caplog
):
    import logging

    extension = make_extension(
        "Talk",
        "var inputTypes='String'; var outputTypes='String';"
        "function transform(c, i) { console.log('seen ' + i); return i; }",
    )
    transformations.enter("Alpha ↔ Beta", "42")
    with caplog.at_level(logging.INFO, logger="hub.extensions"):
        mapping.to_model([line(extension, [text("a")], [text("b")])], {"a": "x"})
    [record] = [r for r in caplog.records if r.name == "hub.extensions"]
    assert record.getMessage() == "[Talk] [Alpha ↔ Beta] [42] seen x"


TAGGED = """
var inputTypes = 'String';
var outputTypes = 'String';
var calls = 0;
function transform(context, input) {
  calls = calls + 1;
  return '[' + calls + '] ' + input + ' / ' + (context.targetArtifact.title || '-');
}
"""


def copy_line(repo_field, model_field) -> Line:
    return Line([repo_field], ["string"], [model_field], ["string"])


def test_the_extension_lines_of_an_artifact_run_in_one_round_trip_each_with_its_own_state(
    extensions_licensed, make_extension, monkeypatch
):
    from extensions import runtime

    extension = make_extension("Tagged", TAGGED)
    exchanges = []
    request = runtime.SANDBOX.request
    monkeypatch.setattr(runtime.SANDBOX, "request", lambda *a, **k: exchanges.append(1) or request(*a, **k))
    lines = [
        line(extension, [text("name")], [text("summary")]),
        copy_line("title", "title"),  # built-in: mapped before the extensions run, so they see it
        line(extension, [text("body")], [text("details")]),
    ]
    model = mapping.to_model(lines, {"name": "Login", "title": "T", "body": "Text"})
    assert model == {"summary": "[1] Login / T", "title": "T", "details": "[1] Text / T"}
    assert len(exchanges) == 1


def test_a_later_line_still_wins_over_an_earlier_extension_line_for_the_same_field(
    extensions_licensed, make_extension
):
    extension = make_extension("Tagged", TAGGED)
    lines = [line(extension, [text("name")], [text("summary")]), copy_line("title", "summary")]
    assert mapping.to_model(lines, {"name": "Login", "title": "Plain"}) == {"summary": "Plain"}


def test_model_to_repository_runs_its_extension_lines_together_too(extensions_licensed, make_extension):
    extension = make_extension("Tagged", TAGGED)
    lines = [
        line(extension, [text("name")], [text("summary")], to_model=False),
        line(extension, [text("body")], [text("details")], to_model=False),
    ]
    fields = mapping.to_repository(lines, {"summary": "Login", "details": "Text"})
    assert fields == {"name": "[1] Login / -", "body": "[1] Text / -"}


# --- test steps: the guide's context.sourceTestStep / context.targetTestStep (5455-5464) ---------

STEP_BY_STEP = """
var inputTypes = 'Test Steps';
var outputTypes = 'Test Steps';

function transform(context, input) {
  if (context.sourceTestStep.step === 'skip me') { return undefined; }
  return {
    step: (context.testStepIndex + 1) + '. ' + context.sourceTestStep.step,
    expected_result: input.expected_result,
    actual_result: context.targetTestStep.actual_result || 'not run'
  };
}
"""


def steps_field(id_):
    return FieldInfo(id_, id_.title(), "test_steps")


def test_a_test_step_extension_runs_per_step_with_the_source_and_target_test_step(
    extensions_licensed, make_extension
):
    extension = make_extension("Steps", STEP_BY_STEP)
    steps_line = line(extension, [steps_field("test_steps")], [steps_field("steps")])
    source = [
        {"step": "Open", "expected_result": "It opens", "actual_result": ""},
        {"step": "skip me", "expected_result": "", "actual_result": ""},
        {"step": "Close", "expected_result": "It closes", "actual_result": ""},
    ]
    target = {"steps": [{"actual_result": "passed"}]}  # step 1 as the lines before mapped it
    run = (steps_line.extension, [source], True, {"test_steps": source}, target)
    [outcome] = transformations.run_lines([run])
    assert outcome == [
        [
            {"step": "1. Open", "expected_result": "It opens", "actual_result": "passed"},
            {"step": "3. Close", "expected_result": "It closes", "actual_result": "not run"},
        ]
    ]


def test_a_test_step_extension_that_returns_no_step_object_is_17024E(extensions_licensed, make_extension):
    extension = make_extension(
        "Bad steps",
        "var inputTypes='Test Steps'; var outputTypes='Test Steps';"
        "function transform(context, input) { return 'a string'; }",
    )
    steps_line = line(extension, [steps_field("test_steps")], [steps_field("steps")])
    with pytest.raises(MappingFailed) as failure:
        mapping.to_model([steps_line], {"test_steps": [{"step": "Open"}]})
    assert failure.value.code == "CCRRTT-17024E"
    assert "step 1" in str(failure.value) and "Steps" in str(failure.value)


STORE_LOOKUP = """
var inputTypes = 'String';
var outputTypes = 'String';
function transform(context, input) {
  return store.retrieveValue('Project to Product mapping', input);
}
"""


def test_a_mapping_line_s_extension_reads_a_key_value_store(extensions_licensed, make_extension):
    """The guide's use of stores: a lookup table in a custom data transformation of a mapping."""
    from extensions import kvstores
    from extensions.models import KeyValueStore

    store = KeyValueStore.objects.create(name="Project to Product mapping")
    kvstores.replace_pairs(store, [("WEB", "Website")])
    lines = [line(make_extension("Product", STORE_LOOKUP), [text("project")], [text("product")])]
    assert mapping.to_model(lines, {"project": "WEB"}) == {"product": "Website"}


CONTAINER_ECHO = """
var inputTypes = 'Container';
var outputTypes = 'Container';

function transform(context, input) {
  if (!input) { return null; }
  if (input.summary !== null) { throw 'a container value arrives without its summary'; }
  if (input.id === '7') { return {id: '8', summary: 'Renamed'}; }  // a container object
  if (input.id === '9') { return {id: '10'}; }                      // a relationship
  return true;                                                      // neither: 17024E
}
"""


def test_container_values_arrive_as_containers_and_leave_as_the_container_id(
    extensions_licensed, make_extension
):
    extension = make_extension("Parent", CONTAINER_ECHO)
    parent = [FieldInfo("parent", "Parent", "container")]
    lines = [line(extension, parent, [FieldInfo("parent", "Parent", "container")])]
    assert mapping.to_model(lines, {"parent": "7"}) == {"parent": "8"}
    assert mapping.to_model(lines, {"parent": "9"}) == {"parent": "10"}
    assert mapping.to_model(lines, {"parent": None}) == {"parent": None}  # the top level
    with pytest.raises(MappingFailed) as failure:
        mapping.to_model(lines, {"parent": "1"})
    assert failure.value.code == "CCRRTT-17024E" and "a container {id, summary}" in str(failure.value)


COUNTING = """var inputTypes = 'String';
var outputTypes = 'String';
var seen = [];
function transform(context, input) {
  if (input === 'boom') { throw 'no ' + input; }
  seen.push(input);
  return input + ':' + seen.length + ':' + context.sourceArtifact.summary;
}
"""


def test_lines_collected_ahead_are_prepared_and_run_once_for_the_block(
    extensions_licensed, make_extension, monkeypatch
):
    """``transformations.ahead``: the lines of four artifacts in one round trip, each call with
    state of its own. In the block each artifact's mapping takes its prepared calls and results
    by fingerprint: no round trip, no second conversion of the artifacts, no call built again. A
    failed line is not kept (its own run fails by itself), and an artifact changed after it was
    collected misses, so it never gets a stale answer."""
    import functools

    from extensions import runtime

    extension = make_extension("Counting", COUNTING)
    lines = [line(extension, [text("summary")], [text("title")])]
    exchanges, conversions, built = [], [], []
    request, convert, build = runtime.SANDBOX.request, transformations.artifacts_json, LineExtensions.call
    monkeypatch.setattr(runtime.SANDBOX, "request", lambda *a, **k: exchanges.append(1) or request(*a, **k))
    monkeypatch.setattr(transformations, "artifacts_json", lambda *a: conversions.append(1) or convert(*a))
    monkeypatch.setattr(LineExtensions, "call", lambda *a, **k: built.append(1) or build(*a, **k))
    artifacts = [{"summary": n} for n in ("a", "b", "c", "boom")]
    changing = {"summary": "d"}
    jobs = [functools.partial(mapping.to_model, lines, fields) for fields in [*artifacts, changing]]
    with transformations.ahead(jobs):
        assert (len(exchanges), len(conversions), len(built)) == (1, 5, 5)
        models = [mapping.to_model(lines, fields) for fields in artifacts[:3]]
        assert models == [{"title": "a:1:a"}, {"title": "b:1:b"}, {"title": "c:1:c"}]
        assert mapping.to_model(lines, artifacts[0]) == {"title": "a:1:a"}  # mapped twice: kept
        assert (len(exchanges), len(conversions), len(built)) == (1, 5, 5)
        with pytest.raises(MappingFailed, match="no boom"):
            mapping.to_model(lines, artifacts[3])
        assert len(exchanges) == 2
        changing["summary"] = "e"
        assert mapping.to_model(lines, changing) == {"title": "e:1:e"}
        assert (len(exchanges), len(conversions), len(built)) == (3, 7, 7)


def test_the_license_of_an_extension_type_is_checked_once_per_batch(
    extensions_licensed, make_extension, monkeypatch
):
    """Inside ``licensing.per_batch`` (the engine's batch) each extension type's license is read
    once, however many lines and artifacts use it; outside it, per line as before."""
    from extensions import licensing

    extension = make_extension("Counting", COUNTING)
    lines = [line(extension, [text("summary")], [text("title")])] * 2
    checks = []
    cached = licensing._cached
    monkeypatch.setattr(licensing, "_cached", lambda *a: checks.append(a[0]) or cached(*a))
    with licensing.per_batch():
        for n in range(3):
            mapping.to_model(lines, {"summary": str(n)})
    assert [value for _, value in checks] == ["custom_data_transformation"]
    mapping.to_model(lines, {"summary": "x"})
    assert len(checks) == 3
