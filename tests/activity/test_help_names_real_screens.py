"""The help pages send a person to screens and options Hub has. Every "A → B" path in the catalog's
descriptions and actions starts at an entry of the main navigation, and the screen names the
product documentation used for screens Hub does not have are gone."""

import re

from activity.catalog import CATALOG
from hub.context_processors import NAVIGATION

NAVIGATION_LABELS = {label for _group, entries in NAVIGATION for label, _url in entries}
NOT_HUB_SCREENS = (
    "Secure Password Storage",
    "Conditional Artifact Routing page",
    "Errors screen",
    "Field Mapping screen",
    "Repository Connection page",
    "Shared Container Mirroring page",
    "Configure State Transition",
    "Configure state transition",
    "Artifact Pairs tab",
)


def texts():
    for entry in CATALOG.values():
        yield entry.code, f"{entry.description} {entry.action}"


def test_every_screen_path_starts_in_the_main_navigation():
    for code, text in texts():
        for chain in re.findall(r"\b((?:[A-Z][\w ]*? → )+)", text):
            first = chain.split(" → ")[0].removeprefix("Under ")
            assert first in NAVIGATION_LABELS, f"{code} names “{first} → …”, which is not in the navigation"


def test_no_help_text_names_a_screen_hub_does_not_have():
    for code, text in texts():
        for name in NOT_HUB_SCREENS:
            assert name not in text, f"{code} sends the reader to “{name}”"
