"""Every HUB_* variable and every configuration key the documentation names is one Hub reads —
a documented name Hub ignores (HUB_LICENSE_TRUSTED_KEYS for HUB_LICENSE_TRUSTEDKEYS) is a silent
misconfiguration waiting to happen."""

import importlib
import re
from pathlib import Path

import pytest

from hub import config

REPO = Path(__file__).resolve().parents[2]
DOCUMENTS = [
    REPO / "README.md",
    REPO / "hub.properties.default",
    REPO / "Makefile",
    *sorted((REPO / "docs").glob("*.md")),
    *sorted(p for p in (REPO / "deploy").rglob("*") if p.is_file()),
]
# Variables read by the tooling around Hub rather than by Hub, and the file that reads each.
TOOLING = {
    "HUB_ARGS": "Makefile",
    "HUB_SKIP_BROWSER": "deploy/system-packages.sh",
    "HUB_PEERS_ROOT": "deploy/ci/install-peers.sh",
    "HUB_PEERS_PYTHON": "deploy/ci/install-peers.sh",
    "HUB_ROUNDUP_VERSION": "deploy/ci/install-peers.sh",
    "HUB_SCREENSHOTS": "tests/support/screenshots.py",
    "HUB_ACCEPTANCE": "tests/acceptance/test_production_shape.py",
    "HUB_ACCEPTANCE_WORKDIR": "tests/acceptance/test_production_shape.py",
}
# Names of Hub's own files that look like keys: the configuration file, the database, logs, the
# console's style sheet.
FILE_NAMES = {"hub.properties", "hub.properties.default", "hub.sqlite3", "hub.log", "hub.default", "hub.css"}
VARIABLE = re.compile(r"\bHUB_[A-Z0-9_]*[A-Z0-9]\b")
QUOTED_NAME = re.compile(r"`((?:server|hub)\.[A-Za-z0-9._-]*[A-Za-z0-9])`")
PROPERTY_LINE = re.compile(r"^#?((?:server|hub)\.[A-Za-z0-9.-]+)=", re.MULTILINE)
SOURCE = "\n".join(
    p.read_text()
    for top in ("hub", "integrations", "activity", "connectors")
    for p in (REPO / top).rglob("*.py")
)


def named(pattern: re.Pattern) -> set[tuple[str, str]]:
    return {
        (match, str(path.relative_to(REPO)))
        for path in DOCUMENTS
        for match in pattern.findall(path.read_text())
    }


def hub_reads(variable: str) -> bool:
    known = {key.env_name for key in config.KEYS} | set(config.ENVIRONMENT_ONLY)
    return variable in known or variable.startswith(config.TEST_PREFIX)


@pytest.mark.parametrize(("variable", "where"), sorted(named(VARIABLE)))
def test_every_documented_variable_is_read(variable, where):
    if variable in TOOLING:
        assert variable in (REPO / TOOLING[variable]).read_text(), (
            f"{TOOLING[variable]} no longer reads {variable}"
        )
        return
    assert hub_reads(variable), f"{where} names {variable}, which Hub does not read"


def _is_code(name: str) -> bool:
    """A Python module or attribute (``hub.audit.record_change``) or a logger Hub writes to."""
    if f'"{name}"' in SOURCE:
        return True
    parts = name.split(".")
    for split in range(len(parts), 0, -1):
        try:
            found = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for attribute in parts[split:]:
            found = getattr(found, attribute, None)
        return found is not None
    return False


@pytest.mark.parametrize(("name", "where"), sorted(named(QUOTED_NAME) | named(PROPERTY_LINE)))
def test_every_documented_key_is_read(name, where):
    if name in config.KEYS_BY_NAME or name in FILE_NAMES or _is_code(name):
        return
    pytest.fail(f"{where} names `{name}`, which is neither a key Hub reads nor a part of Hub")


def test_the_documentation_names_the_license_keys_variable_as_hub_reads_it():
    assert "HUB_LICENSE_TRUSTEDKEYS" in (REPO / "docs" / "security.md").read_text()
    assert config.KEYS_BY_NAME["hub.license.trustedKeys"].env_name == "HUB_LICENSE_TRUSTEDKEYS"
