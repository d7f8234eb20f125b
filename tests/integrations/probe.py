"""Two connector kinds that exist only in tests: ``probe`` talks HTTP through the SDK's HTTP layer to
a loopback server (so the Repositories screen meets real refusals, proxies and TLS), and
``needs_library`` stands for a connector whose third-party library is not installed."""

from connectors.base import Connector
from connectors.http import HttpSession
from connectors.registry import register
from connectors.types import ConnectionInfo, SettingField


class _Minimal(Connector):
    def list_projects(self):
        return []

    def artifact_types(self, project):
        return []

    def field_schema(self, project, artifact_type):
        return []

    def changed_since(self, project, since, **kwargs):
        raise NotImplementedError

    def read_artifact(self, artifact_id):
        raise NotImplementedError

    def update_artifact(self, artifact_id, fields, *, expected_revision=None):
        raise NotImplementedError


@register
class ProbeConnector(_Minimal):
    kind = "probe"
    label = "Probe (tests)"
    settings_fields = (
        SettingField("url", "Server URL", "url", required=True),
        SettingField(
            "auth_method",
            "Authentication",
            "choice",
            choices=(("basic", "User and password"),),
            default="basic",
        ),
        SettingField("username", "User", required=True),
        SettingField("password", "Password", "password", secret=True),
        SettingField("space", "Space", help="A setting of this kind only, kept in extra."),
    )

    def test_connection(self):
        with HttpSession(self.settings, auth=(self.settings.username, self.settings.password)) as session:
            body = session.get_json("whoami")
        return ConnectionInfo(server="Probe 1.0", user=body["user"])


@register
class NeedsLibraryConnector(_Minimal):
    kind = "needs_library"
    label = "Needs a library (tests)"
    network = False
    settings_fields = (SettingField("url", "URL", required=True),)

    def test_connection(self):
        import hub_missing_client_library  # noqa: F401 - stands for an uninstalled tool client

        return ConnectionInfo(server="never", user="never")
