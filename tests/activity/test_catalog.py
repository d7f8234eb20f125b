"""The error catalog against the product documentation's error message appendix (its codes and
titles, kept in ``appendix.txt`` beside this file), and against the code: every code the appendix
lists is in the catalog with the same title, and every code literal in Hub's apps is one the
catalog knows."""

import re
from pathlib import Path

import pytest

from activity.catalog import (
    CATALOG,
    CODE_PATTERN,
    ENTRIES,
    CatalogEntry,
    Severity,
    build_catalog,
    entry,
    is_known,
)

REPO = Path(__file__).resolve().parents[2]
# The appendix's codes and titles, kept in the repository (the documentation is not part of a
# checkout); tests/activity/make_appendix.py regenerates it from the documentation.
APPENDIX = Path(__file__).with_name("appendix.txt")
APP_FOLDERS = (
    "hub",
    "integrations",
    "connectors",
    "activity",
    "metrics",
    "settings_app",
    "extensions",
    "templates",
)
HEADING = re.compile(r"^(CCRRTT-\S+) – (.+)$")
# Deliberately looser than CODE_PATTERN, so a malformed code in the apps is reported too.
CODE_LITERAL = re.compile(r"CCRRTT-\d+[A-Za-z]?")


def appendix_titles() -> dict[str, str]:
    """Code -> title as the appendix headings give them, with the product renamed to Hub."""
    titles: dict[str, str] = {}
    for line in APPENDIX.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            continue
        match = HEADING.match(line)
        assert match, f"not a 'code – title' line in {APPENDIX.name}: {line!r}"
        code, title = match.groups()
        assert code not in titles, f"the appendix lists {code} twice"
        titles[code] = title
    return titles


def test_catalog_has_every_code_in_the_appendix_and_no_other():
    appendix_codes = set(appendix_titles())
    assert len(CATALOG) == len(appendix_codes)
    assert set(CATALOG) == appendix_codes
    assert len(ENTRIES) == len(CATALOG)


def test_every_appendix_heading_is_a_well_formed_code():
    titles = appendix_titles()
    assert len(titles) == len(CATALOG)
    assert all(CODE_PATTERN.fullmatch(code) for code in titles)


def test_titles_match_the_appendix():
    titles = appendix_titles()
    mismatched = {
        code: (item.title, titles.get(code))
        for code, item in CATALOG.items()
        if item.title != titles.get(code)
    }
    assert mismatched == {}


def test_entries_are_ordered_by_numeric_code():
    numbers = [int(item.number) for item in ENTRIES]
    assert numbers == sorted(numbers)


def test_severity_comes_from_the_suffix():
    expected = {"E": Severity.ERROR, "W": Severity.WARNING, "I": Severity.INFORMATION}
    for item in ENTRIES:
        assert item.severity is expected[item.code[-1]], item.code
    assert entry("CCRRTT-17011E").severity == "error"
    assert entry("CCRRTT-1104W").severity == "warning"
    assert entry("CCRRTT-1115I").severity == "information"


def test_number_is_the_digits_of_the_code():
    assert entry("CCRRTT-17011E").number == "17011"
    assert entry("CCRRTT-0006W").number == "0006"


def test_every_entry_has_text_in_hubs_own_name():
    for item in ENTRIES:
        assert item.title and item.description and item.action, item.code
        for text in (item.title, item.description, item.action):
            assert "tasktop" not in text.lower(), item.code


def test_building_with_a_duplicate_code_raises():
    duplicated = (ENTRIES[0], ENTRIES[1], ENTRIES[0])
    with pytest.raises(ValueError, match="duplicate error code 'CCRRTT-0001E'"):
        build_catalog(duplicated)


@pytest.mark.parametrize(
    "code", ["CCRRTT-17011", "CCRRTT-17011X", "CCRRTT-123E", "ccrrtt-17011E", "X-17011E"]
)
def test_building_with_a_malformed_code_raises(code):
    with pytest.raises(ValueError, match="malformed error code"):
        build_catalog((CatalogEntry(code, "Title.", "Description.", "Action."),))


def test_unknown_code_lookup_raises_key_error():
    with pytest.raises(KeyError, match="CCRRTT-99999E"):
        entry("CCRRTT-99999E")
    assert not is_known("CCRRTT-99999E")
    assert is_known("CCRRTT-17011E")
    assert entry("CCRRTT-17011E").title == "Extension completed with an error."


def test_every_code_literal_in_the_apps_is_in_the_catalog():
    catalog_module = REPO / "activity" / "catalog.py"
    unknown: dict[str, list[str]] = {}
    for folder in APP_FOLDERS:
        for path in sorted((REPO / folder).rglob("*")):
            if path.suffix not in (".py", ".html") or not path.is_file() or path == catalog_module:
                continue
            for code in CODE_LITERAL.findall(path.read_text(encoding="utf-8", errors="replace")):
                if not is_known(code):
                    unknown.setdefault(code, []).append(str(path.relative_to(REPO)))
    assert unknown == {}, f"codes used in the apps but missing from activity/catalog.py: {unknown}"
