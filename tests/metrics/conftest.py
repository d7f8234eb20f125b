from tests.hub.security_fixtures import isolated_security, issue, licensed, master_password, signing_key  # noqa: F401
from tests.integrations.factories import *  # noqa: F403
