"""Ids from input are ASCII digits and fit a database key; nothing else reaches a query or raises."""

import re
from pathlib import Path

import pytest

from hub.ids import MAX_ID, is_digits, parse_id, parse_ids

REPO = Path(__file__).resolve().parents[2]
SOURCE_FOLDERS = (
    "hub", "integrations", "activity", "connectors", "metrics", "settings_app", "extensions", "tests"
)


@pytest.mark.parametrize("text", ["0", "7", "42", "000123", str(MAX_ID)])
def test_ascii_digits_are_ids(text):
    assert parse_id(text) == int(text)


@pytest.mark.parametrize(
    "text",
    ["", "²", "1²", "٣", "１", " 1", "1 ", "1_000", "-1", "+1", "1.0", "0x1", str(MAX_ID + 1), "9" * 40],
)
def test_anything_else_is_not_an_id(text):
    assert parse_id(text) is None


@pytest.mark.parametrize("value", [None, 1.0, True, [], {}, -1, MAX_ID + 1])
def test_values_that_are_not_strings_or_in_range_ints_are_not_ids(value):
    assert parse_id(value) is None


def test_a_list_of_ids_keeps_the_valid_ones_in_order_once():
    assert parse_ids(["3", "²", "1", "3", "x", "2"]) == [3, 1, 2]


def test_is_digits_is_ascii_only():
    assert is_digits("123") and not is_digits("²") and not is_digits("") and not is_digits(None)


def test_no_module_uses_the_unicode_digit_checks_of_str():
    """``str.isdigit`` says yes to ``²``, on which ``int`` then raises: every check goes through hub.ids."""
    pattern = re.compile(r"\.is(digit|numeric|decimal)\(")
    offenders = [
        f"{path.relative_to(REPO)}:{number}"
        for top in SOURCE_FOLDERS
        for path in (REPO / top).rglob("*.py")
        if path.name != "ids.py"
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if pattern.search(line) and "value.isascii() and value.isdigit()" not in line
    ]
    assert not offenders, offenders


@pytest.mark.django_db
def test_deleting_pairs_by_a_superscript_id_is_a_clear_refusal_not_an_error(admin_client):
    response = admin_client.post("/activity/pairs/action/delete/", {"ids": ["²"]}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert "Select at least one row." in response.content.decode()


@pytest.mark.django_db
def test_exporting_history_by_a_superscript_id_asks_for_a_selection(admin_client):
    response = admin_client.post("/history/export/", {"selected": "1", "change": ["²"]})
    assert response.status_code == 302
