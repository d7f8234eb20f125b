"""The header navigation of the console shell."""

from hub.context_processors import navigation_entries


def test_sub_pages_keep_their_navigation_entry_current():
    current = [
        entry["label"] for entry in navigation_entries("/activity/activities/failed/") if entry["current"]
    ]
    assert current == ["Activity"]
    assert not any(entry["current"] for entry in navigation_entries("/"))
