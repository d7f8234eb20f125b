from tests.hub.security_fixtures import (  # noqa: F401
    isolated_security,
    issue,
    licensed,
    master_password,
    signing_key,
)
from tests.integrations.factories import *  # noqa: F403
