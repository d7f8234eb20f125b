"""Test cases with steps between two local trackers: the steps arrive in order, an edit of one step
and a new order flow, and a test step mapping renames the parts of a step."""

import pytest

from activity.models import ArtifactPair
from connectors.local import service
from connectors.local.models import LocalItem
from integrations.models import FieldMapping, ModelField
from tests.engine.sync import new_item, run

STEPS = [
    {"step": "Open the login page", "expected_result": "The form shows", "actual_result": ""},
    {"step": "Enter a wrong password", "expected_result": "An error shows", "actual_result": "It does"},
    {"step": "Enter the right one", "expected_result": "The start page shows", "actual_result": ""},
]


def map_steps(collection, **options) -> None:
    FieldMapping.objects.create(
        collection=collection,
        repository_fields=["test_steps"],
        repository_field_types={"test_steps": "test_steps"},
        model_fields=["steps"],
        model_field_types={"steps": "test_steps"},
        **options,
    )


@pytest.fixture
def test_cases(running):
    ModelField.objects.create(
        model=running.collection_a.model, key="steps", label="Steps", type="test_steps", position=8
    )
    for collection in running.collections():
        collection.artifact_types = ["test_case"]
        collection.save()
        map_steps(collection)
    running.field_flows = {**running.field_flows, "steps": "both"}
    running.save()
    return running


def twin_of(item) -> LocalItem:
    pair = ArtifactPair.objects.get(a_artifact_id=str(item.pk))
    return LocalItem.objects.get(pk=int(pair.b_artifact_id))


def test_a_test_case_arrives_with_its_steps_in_order(test_cases):
    item = new_item("alpha", "DEMO", "Login", type="test_case", test_steps=STEPS)
    run(test_cases)
    assert twin_of(item).test_steps == STEPS


def test_an_edit_of_one_step_flows_and_only_that_step_changes(test_cases):
    item = new_item("alpha", "DEMO", "Login", type="test_case", test_steps=STEPS)
    run(test_cases)
    edited = [dict(step) for step in STEPS]
    edited[1]["actual_result"] = "No error: bug"
    service.set_test_steps(item.pk, edited)
    run(test_cases)
    assert twin_of(item).test_steps == edited


def test_a_new_order_of_the_steps_flows_back_from_the_twin(test_cases):
    item = new_item("alpha", "DEMO", "Login", type="test_case", test_steps=STEPS)
    run(test_cases)
    reordered = [STEPS[2], STEPS[0], STEPS[1]]
    service.set_test_steps(twin_of(item).pk, reordered)
    run(test_cases)
    assert LocalItem.objects.get(pk=item.pk).test_steps == reordered


def test_a_test_step_mapping_leaves_out_the_parts_it_does_not_map(test_cases):
    line = FieldMapping.objects.get(collection=test_cases.collection_b, model_fields=["steps"])
    line.transform = "test_steps"
    line.params = {"parts": {"step": "step", "expected_result": "expected_result"}}
    line.save()
    item = new_item("alpha", "DEMO", "Login", type="test_case", test_steps=STEPS)
    run(test_cases)
    assert [s["actual_result"] for s in twin_of(item).test_steps] == ["", "", ""]
    assert [s["step"] for s in twin_of(item).test_steps] == [s["step"] for s in STEPS]


# --- Test Step Flow: only the parts it names flow -------------------------------------------------


def step_flow(integration, flow: str, parts: list[str]):
    integration.field_flows = {**integration.field_flows, "steps": {"flow": flow, "parts": parts}}
    integration.save()
    return integration


def test_a_test_step_flow_keeps_the_parts_it_does_not_name_as_each_side_has_them(test_cases):
    step_flow(test_cases, "both", ["step", "expected_result"])
    item = new_item("alpha", "DEMO", "Login", type="test_case", test_steps=STEPS)
    run(test_cases)
    twin = twin_of(item)
    assert [s["actual_result"] for s in twin.test_steps] == ["", "", ""]  # not copied on creation
    results = [dict(step, actual_result=f"run 1: {n}") for n, step in enumerate(twin.test_steps)]
    service.set_test_steps(twin.pk, results)
    run(test_cases)  # the twin's actual results do not flow back
    assert LocalItem.objects.get(pk=item.pk).test_steps == STEPS

    edited = [dict(step) for step in STEPS]
    edited[0]["step"] = "Open the sign-in page"
    service.set_test_steps(item.pk, edited)
    run(test_cases)  # the new text flows; the twin keeps its actual results, step by step
    after = twin_of(item).test_steps
    assert [s["step"] for s in after] == [s["step"] for s in edited]
    assert [s["actual_result"] for s in after] == ["run 1: 0", "run 1: 1", "run 1: 2"]


def test_steps_added_and_removed_flow_with_the_step_text(test_cases):
    step_flow(test_cases, "a_to_b", ["step", "expected_result"])
    item = new_item("alpha", "DEMO", "Login", type="test_case", test_steps=STEPS)
    run(test_cases)
    fewer = [STEPS[0], STEPS[2], {"step": "Sign out", "expected_result": "The login page shows"}]
    service.set_test_steps(item.pk, fewer)
    run(test_cases)
    assert [s["step"] for s in twin_of(item).test_steps] == [
        "Open the login page",
        "Enter the right one",
        "Sign out",
    ]


def test_actual_results_alone_fill_the_other_sides_steps_and_never_add_or_remove_one(test_cases):
    test_cases.field_flows = {**test_cases.field_flows, "steps": "a_to_b"}
    test_cases.save()
    item = new_item("alpha", "DEMO", "Login", type="test_case", test_steps=STEPS)
    run(test_cases)  # the definition reaches the twin first (a plain flow A → B) ...
    step_flow(test_cases, "b_to_a", ["actual_result"])  # ... then only the results come back
    twin = twin_of(item)
    ran = [
        dict(step, actual_result=result)
        for step, result in zip(twin.test_steps, ["ok", "failed", "ok"], strict=True)
    ]
    service.set_test_steps(twin.pk, ran + [{"step": "A step the run added", "actual_result": "ok"}])
    run(test_cases)
    assert LocalItem.objects.get(pk=item.pk).test_steps == [
        dict(step, actual_result=result) for step, result in zip(STEPS, ["ok", "failed", "ok"], strict=True)
    ]


# --- a test step extension on the way: context.sourceTestStep / targetTestStep --------------------

NUMBERED = """var inputTypes = 'Test Steps'; var outputTypes = 'Test Steps';
function transform(context, input) {
  return {step: (context.testStepIndex + 1) + '. ' + context.sourceTestStep.step,
          expected_result: context.sourceTestStep.expected_result,
          actual_result: context.targetTestStep.actual_result || ''};
}"""


def test_a_test_step_extension_numbers_each_step_on_its_way_to_the_twin(test_cases, issue):
    from extensions.models import Extension
    from hub import licensing
    from tests.engine.test_extensions_sync import ALL

    licensing.apply(issue(features=ALL))
    Extension.objects.create(name="Number steps", type="custom_data_transformation", script=NUMBERED)
    line = FieldMapping.objects.get(collection=test_cases.collection_b, model_fields=["steps"])
    line.transform, line.params = "extension", {"to_repository_extension": "Number steps"}
    line.direction = "to_repository"
    line.save()
    test_cases.field_flows = {**test_cases.field_flows, "steps": "a_to_b"}
    test_cases.save()
    item = new_item("alpha", "DEMO", "Login", type="test_case", test_steps=STEPS)
    run(test_cases)
    assert [s["step"] for s in twin_of(item).test_steps] == [
        "1. Open the login page",
        "2. Enter a wrong password",
        "3. Enter the right one",
    ]
