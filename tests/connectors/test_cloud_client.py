"""The cloud tools' shared client (``connectors/cloud.py``): what a tool's refusals become, per the
choices a tool makes, and ``Link`` paging — against a tiny server on the fakes' harness."""

from __future__ import annotations

import pytest

from connectors.cloud import CloudClient, NotPermitted
from connectors.errors import ArtifactNotFound, CredentialsRefused, ValuesNotAccepted
from connectors.types import RepositorySettings
from tests.fakes.harness import Answer, FakeServer, route


class Tool(FakeServer):
    @route("GET", "/answer/{status}")
    def answer(self, request, status):
        return Answer(int(status), {"message": f"status {status}"})

    @route("GET", "/rows")
    def rows(self, request):
        page = int(request.query.get("page", ["1"])[0])
        link = f'<{self.url}/rows?page={page + 1}>; rel="next"' if page < 3 else ""
        return Answer(200, [page], {"Link": link} if link else {})


@pytest.fixture(scope="module")
def tool():
    with Tool() as server:
        yield server


def client(tool, **attributes) -> CloudClient:
    kind = type("Client", (CloudClient,), {"tool": "Tool", **attributes})
    return kind(RepositorySettings(kind="fake", url=tool.url))


@pytest.mark.parametrize(
    ("forbidden", "error"),
    [("permission", NotPermitted), ("values", ValuesNotAccepted), ("", CredentialsRefused)],
)
def test_a_403_means_what_the_tool_says_it_means(tool, forbidden, error):
    with pytest.raises(error):
        client(tool, forbidden=forbidden).call("GET", "/answer/403")


def test_refused_statuses_name_the_values_and_404_is_the_missing_error(tool):
    api = client(tool, refused_statuses=(400, 413))
    for status in (400, 413):
        with pytest.raises(ValuesNotAccepted) as refused:
            api.call("GET", f"/answer/{status}")
        assert str(refused.value.message).startswith("Tool refused the values")
    with pytest.raises(ArtifactNotFound):
        api.call("GET", "/answer/404", missing=ArtifactNotFound("gone"))
    with pytest.raises(ArtifactNotFound):
        api.call("GET", "/answer/410", refused={410: lambda response: ArtifactNotFound("gone")})
    assert api.requests == 4


def test_link_pages_follow_rel_next_up_to_the_limit(tool):
    api = client(tool)
    assert list(api.link_pages("/rows", {}, per_page=1, limit=10)) == [1, 2, 3]
    assert list(api.link_pages("/rows", {}, per_page=1, limit=2)) == [1, 2]
