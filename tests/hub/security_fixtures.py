"""Fixtures for the master password, licenses and leases; used by tests/hub and tests/settings_app."""

from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings as django_settings
from django.utils import timezone

from hub import licensing, vault

MASTER_PASSWORD = "first master password"


def _evaluation_key() -> Path:
    return Path(django_settings.HUB_HOME) / "license-evaluation.pub"


@pytest.fixture(autouse=True)
def isolated_security(settings, tmp_path):
    """Each test: its own master password file, a cheap scrypt, no data key held, no evaluation key."""
    settings.HUB_MASTER_KEY_FILE = tmp_path / "home" / ".hub" / "instance.key"
    settings.HUB_SCRYPT_N = 2**10
    settings.HUB_LICENSE_TRUSTED_KEYS = ()
    vault.forget_unlocked_keys()
    _evaluation_key().unlink(missing_ok=True)
    yield
    vault.forget_unlocked_keys()
    _evaluation_key().unlink(missing_ok=True)


@pytest.fixture
def signing_key(settings):
    """A vendor key pair whose public half this instance trusts."""
    key = Ed25519PrivateKey.generate()
    settings.HUB_LICENSE_TRUSTED_KEYS = (licensing.public_key_text(key.public_key()),)
    return key


def license_body(**overrides) -> dict:
    today = timezone.localdate()
    body = {
        "type": "Subscription",
        "description": "Tests & <checks>",
        "licensee": "Example Corp",
        "issuer": "Example Vendor",
        "max_users": 10,
        "created": today.isoformat(),
        "expires": (today + timedelta(days=365)).isoformat(),
        "edition": "advanced",
        "instance": None,
        "features": {
            "integration_styles": ["work-item-synchronization"],
            "connector_kinds": ["redmine", "jira"],
            "extension_types": [],
            "key_value_stores": False,
            "conditional_field_flow": True,
            "artifact_unions": False,
            "gateway_payload_transformation": False,
        },
    }
    body.update(overrides)
    return body


@pytest.fixture
def issue(signing_key):
    def make(**overrides) -> str:
        return licensing.sign(license_body(**overrides), signing_key)

    return make


@pytest.fixture
def licensed(db, issue):
    return licensing.apply(issue())


@pytest.fixture
def master_password(db):
    vault.set_master_password(MASTER_PASSWORD)
    return MASTER_PASSWORD
