from tests.hub.live_fixtures import planted_hub  # noqa: F401
from tests.hub.security_fixtures import isolated_security, issue, licensed, master_password, signing_key  # noqa: F401
