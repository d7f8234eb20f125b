"""JSON from outside is read through hub.jsonload: nesting beyond 64 levels, NaN and the like are a
refusal with a reason, never a RecursionError on its way to a 500 — and no module reads outside JSON
any other way."""

import re
from pathlib import Path

import pytest

from hub import jsonload

REPO = Path(__file__).resolve().parents[2]
SOURCE_FOLDERS = ("hub", "integrations", "activity", "connectors", "metrics", "settings_app", "extensions")
# Modules that parse only JSON Hub wrote itself, so json.loads is fine there: the extension
# runtime's protocol with its own child process, Hub's state and key files, and the paging cursors
# Hub hands to itself.
# A module maps to "" (all of it) or to the one call that is allowed there.
OWN_JSON = {
    "extensions/runtime/__init__.py": "",
    "extensions/runtime/sandbox.py": "",
    "extensions/bench.py": "",
    "hub/jsonload.py": "",
    "hub/logconfig.py": "",
    "hub/vault.py": "",
    "connectors/gitlab/connector.py": "json.loads(cursor)",
    "connectors/azure_devops/connector.py": "json.loads(cursor)",
    "connectors/redmine/keyset.py": "",
}


@pytest.mark.parametrize("text", ["[" * 100_000 + "]" * 100_000, '{"a": ' * 65 + "1" + "}" * 65])
def test_nesting_too_deep_is_a_refusal(text):
    with pytest.raises(jsonload.JsonRefused, match="nested deeper than 64 levels"):
        jsonload.loads(text)


def test_repeated_keys_can_be_kept_and_are_counted_in_the_depth():
    assert jsonload.loads('{"k": "1", "k": "2"}', object_pairs_hook=list) == [("k", "1"), ("k", "2")]
    with pytest.raises(jsonload.JsonRefused):
        jsonload.loads('{"k": ' * 40 + "1" + "}" * 40, object_pairs_hook=list)


def test_no_module_parses_json_from_outside_with_the_json_module():
    pattern = re.compile(r"\bjson\.loads?\(")
    offenders = []
    for top in SOURCE_FOLDERS:
        for path in (REPO / top).rglob("*.py"):
            name = str(path.relative_to(REPO))
            for number, line in enumerate(path.read_text().splitlines(), start=1):
                allowed = OWN_JSON.get(name)
                if pattern.search(line) and (allowed is None or allowed not in line):
                    offenders.append(f"{name}:{number}")
    assert not offenders, f"read outside JSON with hub.jsonload.loads: {offenders}"
