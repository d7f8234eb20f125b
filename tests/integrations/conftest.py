from tests.hub.security_fixtures import isolated_security, master_password  # noqa: F401
from tests.integrations.factories import *  # noqa: F403
