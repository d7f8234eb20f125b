import pytest

from extensions.models import Extension
from tests.hub.security_fixtures import (  # noqa: F401
    isolated_security,
    issue,
    licensed,
    master_password,
    signing_key,
)
from tests.integrations.factories import *  # noqa: F403

ALL_FEATURES = {
    "integration_styles": ["*"],
    "connector_kinds": ["*"],
    "extension_types": ["*"],
    "key_value_stores": True,
    "conditional_field_flow": True,
    "artifact_unions": True,
    "gateway_payload_transformation": True,
}


@pytest.fixture
def extensions_licensed(db, issue):  # noqa: F811 - the imported fixture, requested
    """A license granting every extension type and key-value stores."""
    from hub import licensing

    return licensing.apply(issue(features=ALL_FEATURES))


@pytest.fixture
def make_extension(db):
    def make(name: str, script: str, type: str = "custom_data_transformation", **extra) -> Extension:
        return Extension.objects.create(name=name, script=script, type=type, **extra)

    return make
