"""The live server keeps the contract of its own OpenAPI document: a bounded schemathesis run
(a few examples per operation, a few minutes at most) finds no server error, no status code the
document does not list and no answer that does not fit its schema."""

import os
import re
import subprocess
import sys
import time

import pytest

from tests.support.live import start_live_hub
from tests.support.server import REPO, ServerDatabase

MAX_EXAMPLES = 3
MAX_SECONDS = 120  # schemathesis stops itself here; 3 examples of every operation fit well within it
CHECKS = "not_a_server_error,status_code_conformance,response_schema_conformance"
SEED = """
from connectors.local import service
service.create_project(service.tracker("alpha"), "DEMO", "Demo")
service.create_project(service.tracker("beta"), "WEB", "Website")
"""


@pytest.fixture
def live(tmp_path):
    database = ServerDatabase(os.environ.get("HUB_TEST_DB", "sqlite"))
    database.create()
    hub = start_live_hub(tmp_path / "home", database)
    try:
        hub.manage("shell", "-c", SEED)
        yield hub
    finally:
        hub.stop()
        database.drop()


def seed_configuration(live) -> None:
    """Something for every operation to find: repositories, a model, collections, a mapping, and
    an integration."""
    for label, url in (("Alpha", "local://alpha"), ("Beta", "local://beta")):
        assert (
            live.api.post("/repositories/", json={"label": label, "kind": "local", "url": url}).status_code
            == 201
        )
    fields = [{"id": "title", "label": "Title", "type": "string"}]
    assert live.api.post("/models/", json={"name": "Defect", "model_fields": fields}).status_code == 201
    for name, repository, project in (("A", "Alpha", "DEMO"), ("B", "Beta", "WEB")):
        body = {"name": name, "repository": repository, "model": "Defect", "projects": [{"id": project}]}
        body["artifact_types"] = ["bug"]
        assert live.api.post("/collections/", json=body).status_code == 201
    mapping = {"repository_fields": ["summary"], "model_fields": ["title"], "transform": "copy"}
    for collection in live.api.get("/collections/").json():  # both mapped, or 1404E refuses the integration
        created = live.api.post(f"/collections/{collection['id']}/mappings/", json=mapping)
        assert created.status_code == 201, created.text
    body = {"name": "Sync", "collection_a": "A", "collection_b": "B"}
    assert live.api.post("/integrations/", json=body).status_code == 201
    # The Gateway and EDS elements, so that their actions (rotate-token, test-connection, table) run.
    assert live.api.post("/gateway-collections/", json={"name": "CI", "model": "Defect"}).status_code == 201
    body = {"name": "CI → B", "style": "gateway", "gateway_collection": "CI", "collection_b": "B"}
    assert live.api.post("/integrations/", json=body).status_code == 201
    reports = f"sqlite:///{live.home / 'reports.sqlite3'}"
    body = {"name": "Reports", "database_url": reports, "table": "defects", "model": "Defect"}
    assert live.api.post("/sql-collections/", json=body).status_code == 201
    body = {"name": "A → reports", "style": "enterprise_data_stream", "collection_a": "A"}
    assert live.api.post("/integrations/", json={**body, "sql_collection": "Reports"}).status_code == 201


def test_the_live_api_keeps_the_contract_of_its_openapi_document(live, tmp_path):
    seed_configuration(live)
    started = time.monotonic()
    done = subprocess.run(
        [
            sys.executable, "-m", "schemathesis.cli", "run", f"{live.server.url}/api/v1/schema/",
            "--checks", CHECKS,
            "--max-examples", str(MAX_EXAMPLES),
            "--max-time", str(MAX_SECONDS),
            "--seed", "20261201",
            "--workers", "1",
            "--tls-verify", "false",
            "--request-timeout", "30",
            "--header", f"Authorization: Bearer {live.token}",
            "--report", "junit", "--report-dir", str(tmp_path / "report"),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=MAX_SECONDS + 300,
    )  # fmt: skip
    output = done.stdout[-20000:] + done.stderr[-5000:]
    print(f"schemathesis ran {time.monotonic() - started:.0f} s:", output[-600:])
    assert done.returncode == 0, output
    summary = output[output.rindex("SUMMARY") :]
    assert "Tested:" in summary, summary
    assert re.search(r"\d+ generated, \d+ passed", summary) and "failed" not in summary, summary
