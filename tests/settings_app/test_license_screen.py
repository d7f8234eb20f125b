"""Settings → License: every field, expiry warnings, Apply New License by text or file."""

import json
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from hub import licensing


@pytest.mark.django_db
def test_an_unlicensed_hub_says_so(admin_client):
    html = admin_client.get("/settings/license/").content.decode()
    assert "Hub is not licensed" in html and "Apply New License" in html
    assert "CCRRTT-30018E" in html


@pytest.mark.django_db
def test_the_license_screen_shows_every_field_escaped(admin_client, licensed):
    html = admin_client.get("/settings/license/").content.decode()
    for text in ("Subscription", "Example Corp", "Example Vendor", "10", licensed.expires.isoformat()):
        assert text in html
    for label in (
        "License Type",
        "Description",
        "Maximum Users",
        "Created Date",
        "Expiration Date",
        "Issuer",
        "Licensee",
    ):
        assert label in html
    assert "Tests &amp; &lt;checks&gt;" in html and "<checks>" not in html
    assert "advanced metrics" in html and "redmine, jira" in html
    assert 'data-testid="license-warning"' not in html


@pytest.mark.django_db
def test_a_license_expiring_within_30_days_is_warned_about(admin_client, issue):
    licensing.apply(issue(expires=(timezone.localdate() + timedelta(days=12)).isoformat()))
    assert "expires in 12 days" in admin_client.get("/settings/license/").content.decode()


@pytest.mark.django_db
def test_an_expired_license_is_warned_about(admin_client, issue, signing_key):
    from hub.models import AppliedLicense

    body = json.loads(issue())["license"] | {"created": "2020-01-01", "expires": "2020-12-31"}
    AppliedLicense.objects.create(text=licensing.sign(body, signing_key), key_id="k")
    html = admin_client.get("/settings/license/").content.decode()
    assert "the license expired on 2020-12-31" in html and "CCRRTT-63001E" in html


@pytest.mark.django_db
def test_the_evaluation_license_is_clearly_labelled(admin_client):
    licensing.ensure_evaluation_license()
    html = admin_client.get("/settings/license/").content.decode()
    assert "Evaluation license" in html and "expires in 30 days" in html


@pytest.mark.django_db
def test_apply_new_license_by_pasting(admin_client, issue):
    response = admin_client.post("/settings/license/apply/", {"text": issue(licensee="Pasted Corp")})
    assert response.status_code == 302
    assert licensing.current().license.licensee == "Pasted Corp"


@pytest.mark.django_db
def test_apply_new_license_by_uploading(admin_client, issue):
    upload = SimpleUploadedFile("hub.license", issue(licensee="Uploaded Corp").encode(), "application/json")
    assert admin_client.post("/settings/license/apply/", {"upload": upload}).status_code == 302
    assert licensing.current().license.licensee == "Uploaded Corp"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"text": "{not json"}, "not a JSON document"),
        ({"text": ""}, "Paste the license text or choose its file."),
        ({"upload": SimpleUploadedFile("x.bin", b"\xff\xfe\x00", "application/octet-stream")}, "not text"),
    ],
)
def test_a_bad_license_is_refused_and_the_old_one_stays(admin_client, licensed, data, message):
    response = admin_client.post("/settings/license/apply/", data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert licensing.current().license == licensed


@pytest.mark.django_db
def test_a_tampered_license_is_refused_on_the_screen(admin_client, licensed, issue):
    document = json.loads(issue())
    document["license"]["max_users"] = 5000
    response = admin_client.post("/settings/license/apply/", {"text": json.dumps(document)})
    html = response.content.decode()
    assert response.status_code == 400 and "altered or damaged" in html and "current license stays" in html
    assert licensing.current().license.max_users == 10


@pytest.mark.django_db
def test_a_viewer_cannot_apply_a_license(viewer_client, issue):
    assert viewer_client.post("/settings/license/apply/", {"text": issue()}).status_code == 403
    assert "Apply New License" not in viewer_client.get("/settings/license/").content.decode()
    assert licensing.current().license is None
