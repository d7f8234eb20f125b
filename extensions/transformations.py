"""Custom data transformations in field mappings: which extensions fit a mapping line (types in
order), and running one for a line in the engine.

A mapping line that uses extensions has ``transform = "extension"`` and names them in its params
by name (so exports and imports carry them): ``to_model_extension`` for repository → model and
``to_repository_extension`` for model → repository, plus ``repository_fields_info`` — labels,
options and text formats of the repository fields as the live schema gave them when mapped.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import pickle
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from extensions import runtime, types
from extensions.errors import ExtensionError, ExtensionFailed, OutputInvalid
from extensions.models import Extension, ExtensionType

logger = logging.getLogger("hub.extensions")
TRANSFORM = "extension"
CONTAINER, TEST_STEPS = str(types.FieldType.CONTAINER), str(types.FieldType.TEST_STEPS)
TO_MODEL, TO_REPOSITORY = "to_model_extension", "to_repository_extension"
_declared: dict[str, tuple[list[str], list[str]] | None] = {}


def declared_types(script: str) -> tuple[list[str], list[str]] | None:
    """(input types, output types) a transformation declares; None when it cannot be read."""
    compiled = runtime.Compiled.of(script)
    if compiled.id not in _declared:
        try:
            _, found = runtime.compile_check(script, ("inputTypes", "outputTypes", "transform"))
            _declared[compiled.id] = (
                types.parse_declared(found.get("inputTypes"), "inputTypes"),
                types.parse_declared(found.get("outputTypes"), "outputTypes"),
            )
        except (ExtensionError, types.UnknownType):
            _declared[compiled.id] = None
    return _declared[compiled.id]


def transformations() -> list[Extension]:
    return list(Extension.objects.filter(type=ExtensionType.CUSTOM_DATA_TRANSFORMATION))


def fits(extension: Extension, source_types: Sequence[str], target_types: Sequence[str]) -> bool:
    declared = declared_types(extension.script)
    return declared is not None and declared == (
        [str(t) for t in source_types],
        [str(t) for t in target_types],
    )


def fitting(source_types: Sequence[str], target_types: Sequence[str]) -> list[Extension]:
    """The transformations whose declared input and output types are these, in this order."""
    if not source_types or not target_types:
        return []
    return [e for e in transformations() if fits(e, source_types, target_types)]


def is_lossy(extension: Extension) -> bool:
    """A transformation from collection to model that gives fewer values than it takes, or a single
    value for a list, loses information the model needs for change detection."""
    declared = declared_types(extension.script)
    if declared is None:
        return False
    inputs, outputs = declared
    lists = ("multi_select", "persons", "relationships", "web_links", "comments")
    narrowed = any(i in lists for i in inputs) and not any(o in lists for o in outputs)
    return len(outputs) < len(inputs) or narrowed


def line_problems(mapping, model_fields: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(code, message) for a mapping line's extensions that are gone or no longer fit (the
    validator turns them into blockers, like any mapping problem)."""
    params = mapping.params or {}
    repo_types = [(mapping.repository_field_types or {}).get(f, "") for f in mapping.repository_fields]
    model_types = [model_fields[k].type for k in mapping.model_fields if k in model_fields]
    wanted = []
    if mapping.reads:
        wanted.append((params.get(TO_MODEL), repo_types, model_types, "repository → model"))
    if mapping.writes:
        wanted.append((params.get(TO_REPOSITORY), model_types, repo_types, "model → repository"))
    problems = []
    for name, source, target, label in wanted:
        extension = Extension.objects.filter(
            name=name or "", type=ExtensionType.CUSTOM_DATA_TRANSFORMATION
        ).first()
        if extension is None:
            problems.append(("CCRRTT-17002E", f"no custom data transformation named “{name}” for {label}"))
        elif not fits(extension, source, target):
            problems.append(
                (
                    "CCRRTT-17002E",
                    f"the extension “{name}” does not declare {'/'.join(source)} → {'/'.join(target)} "
                    f"for {label}",
                )
            )
    return problems


_PLAIN = frozenset((str, int, float, bool, type(None)))  # JSON as they are: most values


def _jsonable(value: Any) -> Any:
    """Connector values (dates, durations, web links) as the JSON an extension can read."""
    import datetime as dt

    plain = _PLAIN
    if isinstance(value, dict):
        return {str(k): v if type(v) in plain else _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [v if type(v) in plain else _jsonable(v) for v in value]
    if isinstance(value, dt.timedelta):
        return int(value.total_seconds())
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        data = dataclasses.asdict(value)
        if "url" in data and "label" in data:
            return {"label": data["label"], "location": data["url"]}
        return _jsonable(data)
    return value


# --- the engine side ---------------------------------------------------------------------------


@dataclass
class LineExtensions:
    """What one mapping line needs to run its extension(s); ``mapping._apply`` calls it."""

    to_model: Extension | None
    to_repository: Extension | None
    repository_fields: list[types.FieldInfo]
    model_fields: list[types.FieldInfo]
    collection_id: int | None = None  # whose repository ``artifacts.*`` serve in the engine
    _contexts: dict = field(default_factory=dict, repr=False, compare=False)  # see ``context``

    def __call__(
        self,
        values: list[Any],
        to_model: bool,
        source_artifact: Mapping[str, Any],
        target_artifact: Mapping[str, Any],
    ) -> list[Any]:
        (outcome,) = run_lines([(self, values, to_model, source_artifact, target_artifact)])
        if isinstance(outcome, ExtensionError):
            raise outcome
        return outcome

    def call(
        self,
        values: list[Any],
        to_model: bool,
        source_artifact: Mapping[str, Any],
        target_artifact: Mapping[str, Any],
        artifacts: tuple[dict, dict] | None = None,
    ) -> tuple[Extension, list[runtime.Call], list[types.FieldInfo], bool]:
        """The runtime calls of this line for these values, with the extension, the target fields
        its output is checked against, and whether it runs per test step (``step_calls``: one call
        per step, the outputs forming the target's steps). The two artifacts go with every call as
        ``runtime.Call.shared``: encoded once for the batch, not once per line or step. The
        license of the extension's type is checked here (once per batch inside
        ``licensing.per_batch``)."""
        extension = self.to_model if to_model else self.to_repository
        sources = self.repository_fields if to_model else self.model_fields
        targets = self.model_fields if to_model else self.repository_fields
        if extension is None:
            raise ExtensionFailed(
                "This mapping line has no extension for the "
                f"{'repository → model' if to_model else 'model → repository'} direction."
            )
        from extensions.licensing import require_type

        require_type(extension.type)
        inputs = [types.to_extension(v, info) for v, info in zip(values, sources, strict=False)]
        for value, info in zip(inputs, sources, strict=False):
            if info.type == CONTAINER and isinstance(value, dict) and value.get("summary") is None:
                value["summary"] = container_summary(value["id"], self.collection_id, to_model)
        context = self.context(to_model)
        source, target = artifacts or artifacts_json(source_artifact, target_artifact)
        shared = {"sourceArtifact": source, "targetArtifact": target, "targetRepositoryArtifact": target}
        if is_step_line(sources, targets):
            calls = step_calls(
                extension, context, values[0], target_artifact.get(targets[0].id), shared, self.collection_id
            )
            return extension, calls, targets, True
        args = [context, inputs[0] if len(inputs) == 1 else inputs]
        call = runtime.Call(
            extension.script, "transform", args, host=line_host(self.collection_id), shared=shared
        )
        return extension, [call], targets, False

    def context(self, to_model: bool) -> dict:
        """The ``context`` of this line's calls in one direction without the artifacts (those go
        once per batch as ``runtime.Call.shared``): the same for every artifact, so made once per
        line and direction. Calls only encode it; nobody changes it."""
        made = self._contexts
        if to_model not in made:
            sources = self.repository_fields if to_model else self.model_fields
            targets = self.model_fields if to_model else self.repository_fields
            context = transformation_context(None, None, sources, targets, to_model=to_model)
            for key in ARTIFACT_KEYS:
                del context[key]
            made[to_model] = context
        return made[to_model]


# --- test steps: one call per step, with context.sourceTestStep / targetTestStep ------------------


def line_host(collection_id: int | None = None):
    """The host APIs of a mapping line's extension: the key-value stores (``store.*``), which need
    no repository, and in a synchronization ``artifacts.*`` over the repository of the line's
    collection (the sides ``serve`` named); ``persons`` serve person reconciliation. The side is
    taken now; the APIs are made at the call's first host call (most calls make none)."""
    return LineHost(Scope.sides.get(collection_id) if collection_id is not None else None)


class LineHost:
    """``line_host``'s answer: a host (``runtime.Host``) that makes its HostApis when first asked."""

    __slots__ = ("side", "apis")

    def __init__(self, side):
        self.side, self.apis = side, None

    def __call__(self, api: str, args: list) -> Any:
        if self.apis is None:
            from extensions.hosts import HostApis
            from extensions.hosts.artifacts import ArtifactsApi

            if self.side is None:
                self.apis = HostApis()
            else:
                connector, collection, integration_id = self.side
                self.apis = HostApis(artifacts=ArtifactsApi(connector, collection, integration_id))
        return self.apis(api, args)


def is_step_line(sources: Sequence[types.FieldInfo], targets: Sequence[types.FieldInfo]) -> bool:
    """A line from one Test Steps field to one: its extension transforms step by step (the guide's
    custom data transformation for test steps, with ``context.sourceTestStep``/``targetTestStep``)."""
    return len(sources) == len(targets) == 1 and sources[0].type == targets[0].type == TEST_STEPS


def step_calls(
    extension: Extension,
    context: dict,
    steps: Any,
    target_steps: Any,
    shared: Mapping[str, Any] | None = None,
    collection_id: int | None = None,
) -> list[runtime.Call]:
    """One call of ``transform(context, step)`` per source step, in step order. The step is also
    ``context.sourceTestStep``; ``context.targetTestStep`` is the target's step at that position as
    the lines before mapped it (``{}`` when there is none), with ``context.testStepIndex`` (from 0).
    The call returns the target step: an object of its parts."""
    target_steps = target_steps if isinstance(target_steps, list) else []
    calls = []
    for index, step in enumerate(steps if isinstance(steps, list) else []):
        source_step = _jsonable(dict(step or {}))
        target_step = _jsonable(dict(target_steps[index] or {})) if index < len(target_steps) else {}
        own = {
            **context,
            "sourceTestStep": source_step,
            "targetTestStep": target_step,
            "testStepIndex": index,
        }
        calls.append(
            runtime.Call(
                extension.script,
                "transform",
                [own, source_step],
                host=line_host(collection_id),
                shared=shared,
            )
        )
    return calls


def step_outputs(results: Sequence[runtime.Result], target: types.FieldInfo) -> list[Any]:
    """The target's steps from the per-step results: each an object of text parts (CCRRTT-17024E
    otherwise); a step whose call returned undefined is left out (the way to drop a step)."""
    steps = []
    for number, result in enumerate(results, start=1):
        if result.undefined or result.value is None:
            continue
        value = result.value
        if not isinstance(value, dict) or not all(isinstance(v, str | type(None)) for v in value.values()):
            raise OutputInvalid(
                f"The extension must return a test step (an object of texts) for step {number} of "
                f"“{target.label}”; it returned {str(value)[:80]!s}."
            )
        steps.append({str(part): text or "" for part, text in value.items()})
    return [steps]


@dataclass
class Prepared:
    """One mapping line's calls for one artifact and direction, ready to run: the extension, its
    runtime calls, the target fields its output is checked against, whether it runs per test
    step, and, when ``ahead`` computed them already, the calls' results."""

    extension: Extension
    calls: list[runtime.Call]
    targets: list[types.FieldInfo]
    per_step: bool
    results: list[runtime.Result] | None = None


def run_lines(items) -> list[list[Any] | ExtensionError]:
    """The outputs of several mapping lines of one artifact and direction, each a list of target
    values or the ExtensionError of that line: one sandbox round trip for all of them
    (``runtime.invoke_many``), each call still with state of its own. ``items`` are tuples
    (LineExtensions, values, to_model, source artifact, target artifact).

    Inside ``ahead`` a line whose inputs the collecting pass saw takes what that pass prepared
    and computed — its calls, the two artifacts converted, the results — without converting,
    encoding or checking anything again."""
    outcomes: list[list[Any] | ExtensionError | None] = [None] * len(items)
    prepared: list[tuple[int, Prepared]] = []  # (item index, its calls)
    collecting, known = Ahead.collecting, Ahead.results
    noted = []
    # The lines of one artifact get the same two artifacts: converted (and sent, see
    # runtime.Call.shared) once, not once per line.
    converted: dict[tuple[int, int], tuple[dict, dict]] = {}
    snapshots: dict[tuple[int, int], bytes | None] = {}  # the same two artifacts, pickled once
    for index, (line, values, to_model, source, target) in enumerate(items):
        mark = None
        key = (id(source), id(target))
        if collecting is not None or known:
            if key not in snapshots:
                snapshots[key] = pickled(source, target)
            mark = fingerprint(line, values, to_model, snapshots[key])
            found = known.get(mark) if known and mark is not None else None
            if found is not None:
                prepared.append((index, found))
                continue
        if key not in converted:
            converted[key] = artifacts_json(source, target)
        try:
            entry = Prepared(*line.call(values, to_model, source, target, converted[key]))
        except ExtensionError as error:
            outcomes[index] = error
            continue
        prepared.append((index, entry))
        if mark is not None:
            noted.append((mark, entry))
    if collecting is not None:  # inside ``ahead``: note the calls, stop the caller here
        collecting.extend(noted)
        raise Deferred()
    open_calls = [call for _, entry in prepared if entry.results is None for call in entry.calls]
    results = iter(runtime.invoke_many(open_calls) if open_calls else [])
    for index, entry in prepared:
        extension, targets = entry.extension, entry.targets
        own = entry.results if entry.results is not None else [next(results) for _ in entry.calls]
        failed = next((r for r in own if isinstance(r, ExtensionError)), None)
        if failed is not None:
            failed.message = f"Extension “{extension.name}”: {failed.message}"
            outcomes[index] = failed
            continue
        for result in own:
            runtime.log_lines(
                result, extension=extension.name, integration=Scope.integration, artifact=Scope.artifact
            )
        try:
            if entry.per_step:
                outcomes[index] = step_outputs(own, targets[0])
            else:
                (result,) = own
                outcomes[index] = types.outputs(result.value, result.undefined, targets)
        except ExtensionError as error:
            outcomes[index] = error
    return outcomes


def fingerprint(line, values, to_model: bool, artifacts: bytes | None) -> tuple | None:
    """What a line's calls are made of, as a key that is cheap to build: the line and direction,
    the values and both artifacts pickled (``artifacts``: ``pickled(source, target)``, made once
    for all the lines of an artifact) — about 5 µs for a 20-field artifact, against 40 µs to
    convert and encode them. Equal bytes mean equal inputs of the same types, so the same calls;
    inputs that pickle differently though equal only miss (a round trip of their own). None when
    they cannot be pickled. The bytes are a snapshot: a later change of the objects cannot make a
    stale entry match."""
    data = pickled(values) if artifacts is not None else None
    return None if data is None else (id(line), to_model, data, artifacts)


def pickled(*values) -> bytes | None:
    try:
        return pickle.dumps(values, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001 - anything unpicklable: no key, the line runs the long way
        return None


class Deferred(Exception):  # noqa: N818 - not an error: the control flow of ``ahead``
    """Raised by ``run_lines`` while ``ahead`` collects: the caller's work stops there."""


class _Ahead(threading.local):
    # While ``ahead`` collects: the (fingerprint, Prepared) of every line the jobs reach.
    collecting: list[tuple[tuple, Prepared]] | None = None
    # In its block: fingerprint → Prepared with its results (lines with no host call only).
    results: dict[tuple, Prepared] | None = None


Ahead = _Ahead()


@contextlib.contextmanager
def ahead(jobs: Iterable[Callable[[], Any]]):
    """Within the block, the extension lines that ``jobs`` would run — pure mappings of several
    artifacts, say the read-back of each twin a batch created — are answered from one sandbox
    round trip made on entry instead of one round trip per artifact.
    Each job is run once first up to its extension lines (``run_lines`` prepares their calls,
    notes them by ``fingerprint`` and stops it with ``Deferred``), so a job must have no effect
    before its mapping's extension lines; what it computes then is thrown away and computed
    again, for real, in the block, where each line finds its calls and results by fingerprint:
    the artifacts are converted, the calls built and the license checked once, in the collecting
    pass. Best effort: a line whose calls failed or asked a host is not kept, and runs on its own
    in the block (with its own outcome and host answers)."""
    if Ahead.collecting is not None or Ahead.results is not None:
        yield  # inside another ``ahead``: its results serve this block too
        return
    collected: list[tuple[tuple, Prepared]] = []
    Ahead.collecting = collected
    try:
        for job in jobs:
            try:
                job()
            except Deferred:
                pass
            except Exception:  # noqa: BLE001 - the job's real run in the block reports it
                logger.debug("A job failed while its extension calls were collected", exc_info=True)
    finally:
        Ahead.collecting = None
    Ahead.results = computed(collected)
    try:
        yield
    finally:
        Ahead.results = None


def computed(collected: Sequence[tuple[tuple, Prepared]]) -> dict[tuple, Prepared]:
    """The collected lines' calls in one sandbox round trip (each call with state of its own),
    each distinct fingerprint once; the lines whose calls all succeeded without a host call, by
    fingerprint, with their results."""
    unique: dict[tuple, Prepared] = {}
    for mark, entry in collected:
        unique.setdefault(mark, entry)
    calls = [call for entry in unique.values() for call in entry.calls]
    if not calls:
        return {}
    limit, _ = runtime.limits()
    results = iter(runtime.invoke_many(calls, alone_on_failure=False, batch_limit=limit))
    kept = {}
    for mark, entry in unique.items():
        own = [next(results) for _ in entry.calls]
        if all(isinstance(r, runtime.Result) and not r.host_calls for r in own):
            entry.results = own
            kept[mark] = entry
    return kept


ARTIFACT_KEYS = ("sourceArtifact", "targetArtifact", "targetRepositoryArtifact")


def artifacts_json(source_artifact, target_artifact) -> tuple[dict, dict]:
    """The two artifacts as an extension reads them."""
    return _jsonable(dict(source_artifact or {})), _jsonable(dict(target_artifact or {}))


def transformation_context(source_artifact, target_artifact, sources, targets, *, to_model: bool) -> dict:
    context = {
        "sourceArtifact": _jsonable(dict(source_artifact or {})),
        "targetArtifact": _jsonable(dict(target_artifact or {})),
        "direction": "repository-to-model" if to_model else "model-to-repository",
        "sourceFields": [f.as_context() for f in sources],
        "targetFields": [f.as_context() for f in targets],
    }
    context["targetRepositoryArtifact"] = context["targetArtifact"]
    context["sourceField"] = context["sourceFields"][0] if len(sources) == 1 else None
    context["targetField"] = context["targetFields"][0] if len(targets) == 1 else None
    return context


class Scope:
    """Where an engine call runs (integration, artifact) for the lines of logs/extensions.log;
    set by the processor of each activity."""

    integration = ""
    artifact = ""
    # collection id → (connector, collection, integration id) of the integration being processed
    sides: dict = {}  # noqa: RUF012 - replaced as a whole by ``serve``
    # (connector, container id) → its summary, read once while the same connectors serve
    summaries: dict = {}  # noqa: RUF012 - replaced as a whole by ``serve``


def enter(integration: str, artifact: str) -> None:
    Scope.integration, Scope.artifact = integration, artifact


def serve(sides, integration_id: int) -> None:
    """The processor's sides (``SideContext``: collection and open connector): mapping lines'
    extensions of these collections get ``artifacts.*`` over their own repository."""
    served = {side.collection.pk: (side.connector, side.collection, integration_id) for side in sides}
    if {id(c) for c, _, _ in served.values()} != {id(c) for c, _, _ in Scope.sides.values()}:
        Scope.summaries = {}  # other connectors (the next batch): containers are read afresh
    Scope.sides = served


def container_summary(container_id: str, collection_id: int | None, to_model: bool) -> str | None:
    """The summary of the container a mapping line's input names, as the guide promises every
    container object (“All container objects provide a summary property”): read through
    ``artifacts.toContainer`` from the tool that holds it — the line's own repository towards the
    model; towards the repository the model's value is the other side's container. Once per
    container while the same connectors serve (a batch), so children of one epic cost one read.
    None outside a synchronization, or when the container cannot be read (the input then says
    ``summary: null`` and the script may still call ``toContainer`` itself)."""
    from extensions.hosts.artifacts import ArtifactsApi
    from extensions.runtime import HostError

    if to_model:
        side = Scope.sides.get(collection_id)
    else:
        others = [side for key, side in Scope.sides.items() if key != collection_id]
        side = others[0] if len(others) == 1 else None
    if side is None:
        return None
    connector, collection, integration_id = side
    key = (connector, str(container_id))
    if key not in Scope.summaries:
        try:
            found = ArtifactsApi(connector, collection, integration_id).to_container(container_id, None)
            Scope.summaries[key] = found["summary"]
        except HostError:
            logger.debug("The summary of container %s could not be read", container_id, exc_info=True)
            Scope.summaries[key] = None
    return Scope.summaries[key]


def run(extension: Extension, entry: str, args: list, host=None) -> runtime.Result:
    """Invoke an extension for the engine, logging its console output with where it ran."""
    result = None
    try:
        result = runtime.invoke(extension.script, entry, args, host)
        return result
    except ExtensionError as error:
        error.message = f"Extension “{extension.name}”: {error.message}"
        raise
    finally:
        if result is not None:
            runtime.log_lines(
                result, extension=extension.name, integration=Scope.integration, artifact=Scope.artifact
            )


def line_extensions(mapping, model_fields: Mapping[str, Any]) -> LineExtensions | None:
    """For ``mapping.lines_of``: the extensions of a line whose transform is ``extension``."""
    if mapping.transform != TRANSFORM:
        return None
    params = mapping.params or {}
    names = [params.get(TO_MODEL) or "", params.get(TO_REPOSITORY) or ""]
    found = {e.name: e for e in Extension.objects.filter(name__in=[n for n in names if n])}
    info = params.get("repository_fields_info") or {}
    repository = [
        types.FieldInfo(
            id=f,
            label=(info.get(f) or {}).get("label", f),
            type=(mapping.repository_field_types or {}).get(f, "string"),
            options=(info.get(f) or {}).get("options", ()),
            text_format=(info.get(f) or {}).get("text_format") or "html",
        )
        for f in mapping.repository_fields
    ]
    model = []
    for key in mapping.model_fields:
        field = model_fields.get(key)
        model.append(
            types.FieldInfo(
                id=key,
                label=field.label if field else key,
                type=field.type if field else (mapping.model_field_types or {}).get(key, "string"),
                options=list(field.options or []) if field else (),
            )
        )
    return LineExtensions(found.get(names[0]), found.get(names[1]), repository, model, mapping.collection_id)


def schema_info(schema_fields: Sequence[Any]) -> dict[str, dict]:
    """``repository_fields_info`` for the params, from the connector's FieldSchema objects."""
    return {
        f.id: {
            "label": f.label,
            "options": [{"id": o.id, "label": o.label} for o in f.options],
            "text_format": f.text_format or "html",
        }
        for f in schema_fields
    }
