"""Built-in transforms between repository field types and model field types.

A mapping names one transform. The screens and the API offer only those whose ``fits`` accepts the
mapped types, and the validator re-checks the choice when a model or schema changes. The engine
(a later issue) applies them; here they are declared, with the parameters each one takes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from integrations.models.modeling import SELECT_TYPES, FieldType

T = FieldType
TEXT = (T.STRING, T.RICH_TEXT)
NUMBERS = (T.LONG, T.DOUBLE)


@dataclass(frozen=True)
class Transform:
    name: str
    label: str
    fits: Callable[[Sequence[str], Sequence[str]], bool]  # (repository types, model types)
    params: tuple[str, ...] = ()


def _one_to_one(pairs) -> Callable[[Sequence[str], Sequence[str]], bool]:
    def fits(repo: Sequence[str], model: Sequence[str]) -> bool:
        return len(repo) == 1 and len(model) == 1 and (repo[0], model[0]) in pairs

    return fits


def _pairs(left, right, both_ways=True) -> set[tuple[str, str]]:
    pairs = {(a, b) for a in left for b in right}
    return pairs | {(b, a) for a, b in pairs} if both_ways else pairs


def _same_type(repo: Sequence[str], model: Sequence[str]) -> bool:
    return len(repo) == 1 and len(model) == 1 and repo[0] == model[0]


def _many_text_to_one_text(repo: Sequence[str], model: Sequence[str]) -> bool:
    return len(repo) > 1 and len(model) == 1 and model[0] in TEXT and all(t in TEXT for t in repo)


def _one_text_to_many_text(repo: Sequence[str], model: Sequence[str]) -> bool:
    return len(repo) == 1 and len(model) > 1 and repo[0] in TEXT and all(t in TEXT for t in model)


def _constant(repo: Sequence[str], model: Sequence[str]) -> bool:
    return len(model) == 1 and model[0] not in (T.COMMENTS, T.ATTACHMENTS) and len(repo) <= 1


BUILT_IN: tuple[Transform, ...] = (
    Transform("copy", "Copy the value", _same_type),
    Transform(
        "text_format",
        "Convert text format (plain ↔ rich text)",
        _one_to_one(_pairs([T.STRING], [T.RICH_TEXT])),
    ),
    Transform("number_text", "Number ↔ text", _one_to_one(_pairs(NUMBERS, TEXT))),
    Transform("number_precision", "Whole number ↔ decimal", _one_to_one(_pairs([T.LONG], [T.DOUBLE]))),
    Transform("date_datetime", "Date ↔ date time (UTC)", _one_to_one(_pairs([T.DATE], [T.DATE_TIME]))),
    Transform(
        "date_text", "Date or date time ↔ ISO 8601 text", _one_to_one(_pairs([T.DATE, T.DATE_TIME], TEXT))
    ),
    Transform("duration_number", "Duration ↔ minutes", _one_to_one(_pairs([T.DURATION], NUMBERS))),
    Transform("boolean_text", "Boolean ↔ yes/no text", _one_to_one(_pairs([T.BOOLEAN], TEXT))),
    Transform(
        "value_map",
        "Map option values (with a default for unmapped values)",
        _one_to_one(
            _pairs(SELECT_TYPES, SELECT_TYPES)
            | _pairs(SELECT_TYPES, [T.STRING])
            | _pairs([T.BOOLEAN], SELECT_TYPES)
        ),
        params=("to_model", "to_model_default", "to_repository", "to_repository_default"),
    ),
    Transform("person_persons", "Person ↔ persons (first one)", _one_to_one(_pairs([T.PERSON], [T.PERSONS]))),
    Transform("person_text", "Person ↔ user name text", _one_to_one(_pairs([T.PERSON], TEXT))),
    Transform(
        "relationship_links",
        "Relationship(s) ↔ one or many",
        _one_to_one(_pairs([T.RELATIONSHIP], [T.RELATIONSHIPS])),
    ),
    # A tool's field whose values are containers that are not artifacts (Redmine's Target version,
    # ``fixed_version``): the plain id ``7`` is the container ``version:7`` in the model
    # (``{"container_type": "version"}``), so the engine can pair it (docs/containers.md).
    Transform(
        "container_ref",
        "Select of containers ↔ container (e.g. a target version)",
        _one_to_one(_pairs([T.SINGLE_SELECT, T.RELATIONSHIP], [T.CONTAINER])),
        params=("container_type",),
    ),
    Transform("links_text", "Web links ↔ text (one per line)", _one_to_one(_pairs([T.WEB_LINKS], TEXT))),
    # Commit artifacts (Gateway): the formatted ids a commit message names (“Fix login (WEB-1)”) are
    # the work items it links to; the Gateway looks each one up in the target repository.
    Transform(
        "formatted_ids",
        "Formatted ids in the text ↔ relationship(s) (commit messages)",
        _one_to_one(_pairs([T.RELATIONSHIP, T.RELATIONSHIPS], TEXT)),
    ),
    # The test step mapping: which part of a repository's step is which part of the test step model
    # (``{"parts": {model part: repository part}}``); checked against both schemas (CCRRTT-17028E).
    Transform("test_steps", "Test steps by the test step mapping", _same_type, params=("parts",)),
    Transform("join", "Join several text fields into one", _many_text_to_one_text, params=("separator",)),
    Transform("split", "Split one text field into several", _one_text_to_many_text, params=("separator",)),
    Transform("constant", "A constant value", _constant, params=("value",)),
)
BY_NAME = {transform.name: transform for transform in BUILT_IN}


def label_of(name: str) -> str:
    """What the screens call a transform (its id, e.g. ``value_map``, stays internal)."""
    known = BY_NAME.get(name) or (EXTENSION if name == EXTENSION.name else None)
    return known.label if known else name


def fitting(repository_types: Sequence[str], model_types: Sequence[str]) -> list[Transform]:
    """The transforms offered for these types, the most natural first."""
    return [t for t in BUILT_IN if t.fits(list(repository_types), list(model_types))]


def fits(name: str, repository_types: Sequence[str], model_types: Sequence[str]) -> bool:
    transform = BY_NAME.get(name)
    return transform is not None and transform.fits(list(repository_types), list(model_types))


EXTENSION = Transform(
    "extension",
    "Custom data transformation (extension)",
    lambda repo, model: False,  # offered by ``offered`` when a transformation's declared types fit
)


def offered(repository_types: Sequence[str], model_types: Sequence[str]) -> list[Transform]:
    """What the mapping screen and the API offer: the fitting built-ins, then custom data
    transformations when one fits in either direction (types in order)."""
    from extensions import transformations

    found = fitting(repository_types, model_types)
    if transformations.fitting(repository_types, model_types) or transformations.fitting(
        model_types, repository_types
    ):
        found.append(EXTENSION)
    return found
