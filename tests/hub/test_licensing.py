"""Licenses: signed documents, refused when malformed, altered, untrusted or expired; feature checks."""

import json
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.contrib.auth import get_user_model
from django.utils import timezone

from hub import licensing
from hub.licensing import Feature, LicenseError
from hub.models import AppliedLicense, ConfigurationChange


@pytest.mark.django_db
def test_a_signed_license_applies_with_every_field(issue):
    license = licensing.apply(issue())
    assert (license.type, license.licensee, license.issuer, license.max_users) == (
        "Subscription",
        "Example Corp",
        "Example Vendor",
        10,
    )
    assert license.edition == "advanced" and license.description == "Tests & <checks>"
    assert licensing.current().license == license and licensing.current().problem is None


@pytest.mark.django_db
def test_applying_a_license_is_recorded_in_configuration_history(issue):
    licensing.apply(issue())
    change = ConfigurationChange.objects.get(element_type="License")
    assert change.after["licensee"] == "Example Corp" and change.action == "settings"


def altered(text: str, **changes) -> str:
    document = json.loads(text)
    document["license"].update(changes)
    return json.dumps(document)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("make_text", "reason"),
    [
        (lambda issue: "not a license at all", "not a JSON document"),
        (lambda issue: json.dumps({"format": "something-else"}), "format"),
        (lambda issue: altered(issue(), max_users=10000), "altered or damaged"),
        (lambda issue: altered(issue(), expires="2999-01-01"), "altered or damaged"),
        (
            lambda issue: licensing.sign(json.loads(issue())["license"], Ed25519PrivateKey.generate()),
            "does not trust",
        ),
        (lambda issue: issue(created="2020-01-01", expires="2020-12-31"), "expired on 2020-12-31"),
        (lambda issue: issue(instance="another-instance"), "another Hub instance"),
    ],
    ids=[
        "malformed",
        "not-hub",
        "tampered-users",
        "tampered-expiry",
        "untrusted",
        "expired",
        "other-instance",
    ],
)
def test_a_bad_license_is_refused_with_a_clear_message_and_the_old_one_stays(issue, make_text, reason):
    old = licensing.apply(issue(licensee="Old Licensee"))
    with pytest.raises(LicenseError) as refused:
        licensing.apply(make_text(issue))
    assert reason in str(refused.value)
    assert licensing.current().license == old
    assert AppliedLicense.objects.count() == 1


def test_the_signing_tool_refuses_to_sign_a_license_hub_would_refuse():
    with pytest.raises(LicenseError, match="max_users"):
        licensing.sign({"type": "x", "max_users": 0}, Ed25519PrivateKey.generate())


@pytest.mark.django_db
def test_a_license_is_valid_through_its_expiration_date_and_expired_the_day_after(issue):
    licensing.apply(issue(expires=timezone.localdate().isoformat()))
    assert licensing.current().problem is None
    status = licensing.current(today=timezone.localdate() + timedelta(days=1))
    assert status.problem == licensing.Problem.EXPIRED and status.code == "CCRRTT-63001E"


@pytest.mark.django_db
def test_health_reports_the_license_truthfully(issue, client, signing_key):
    checks = client.get("/api/health").json()["checks"]
    assert checks["licenseConfigured"]["status"] == "fail"
    assert checks["licensesValid"]["status"] == "fail"
    assert checks["licenseExpired"]["status"] == "not-applicable"

    licensing.apply(issue())
    checks = client.get("/api/health").json()["checks"]
    assert [checks[n]["status"] for n in ("licenseConfigured", "licenseExpired", "licensesValid")] == [
        "pass"
    ] * 3

    expired_body = json.loads(issue())["license"]
    expired_body.update(created="2020-01-01", expires="2020-12-31")
    AppliedLicense.objects.create(text=licensing.sign(expired_body, signing_key), key_id="x")
    checks = client.get("/api/health").json()["checks"]
    assert checks["licenseConfigured"]["status"] == "pass"
    assert checks["licenseExpired"] == {"status": "fail", "reason": "The license expired on 2020-12-31."}
    assert checks["licensesValid"]["status"] == "fail"


@pytest.mark.django_db
def test_a_license_altered_in_the_database_counts_as_invalid(issue):
    licensing.apply(issue())
    AppliedLicense.objects.update(text=altered(issue(), max_users=500))
    status = licensing.current()
    assert status.problem == licensing.Problem.INVALID and status.code == "CCRRTT-15002E"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("feature", "value", "code"),
    [
        (Feature.CONNECTOR_KIND, "servicenow", "CCRRTT-15005E"),
        (Feature.INTEGRATION_STYLE, "enterprise-data-stream", "CCRRTT-64001E"),
        (Feature.EXTENSION_TYPE, "state-transition", "CCRRTT-65001E"),
        (Feature.KEY_VALUE_STORES, None, "CCRRTT-65001E"),
        (Feature.GATEWAY_PAYLOAD_TRANSFORMATION, None, "CCRRTT-20006E"),
        (Feature.ARTIFACT_UNIONS, None, "CCRRTT-15013E"),
        (Feature.USERS, "11", "CCRRTT-30016E"),
    ],
)
def test_a_feature_the_license_does_not_grant_is_refused_with_its_code(licensed, feature, value, code):
    refusal = licensing.refusal(feature, value)
    assert refusal is not None and refusal.code == code and refusal.message


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("feature", "value"),
    [
        (Feature.CONNECTOR_KIND, "redmine"),
        (Feature.INTEGRATION_STYLE, "work-item-synchronization"),
        (Feature.CONDITIONAL_FIELD_FLOW, None),
        (Feature.TEST_STEPS, None),  # not named: the Advanced edition grants it
        (Feature.USERS, "10"),
    ],
)
def test_a_granted_feature_is_permitted(licensed, feature, value):
    assert licensing.refusal(feature, value) is None and licensing.permits(feature, value)


@pytest.mark.django_db
def test_conditional_field_flow_not_granted_is_refused_with_15012e(issue):
    features = json.loads(issue())["license"]["features"] | {"conditional_field_flow": False}
    licensing.apply(issue(features=features))
    assert licensing.refusal(Feature.CONDITIONAL_FIELD_FLOW).code == "CCRRTT-15012E"


@pytest.mark.django_db
def test_without_a_license_every_feature_is_refused_with_the_license_problem():
    assert licensing.refusal(Feature.CONNECTOR_KIND, "jira").code == "CCRRTT-30018E"


@pytest.mark.django_db
def test_more_active_users_than_the_license_allows_fails_licenses_valid(issue, client):
    licensing.apply(issue(max_users=1))
    User = get_user_model()
    User.objects.create_user("one", password="x" * 12)
    User.objects.create_user("two", password="x" * 12)
    check = client.get("/api/health").json()["checks"]["licensesValid"]
    assert check["status"] == "fail" and "CCRRTT-30016E" in check["reason"]


@pytest.mark.django_db
def test_first_start_issues_a_30_day_evaluation_license_once():
    license = licensing.ensure_evaluation_license()
    assert license.is_evaluation and license.days_left() == 30
    assert license.edition == "advanced" and license.grants(Feature.CONNECTOR_KIND, "anything")
    assert licensing.current().license == license
    AppliedLicense.objects.all().delete()
    assert licensing.ensure_evaluation_license() is None, "an evaluation must not renew itself"


@pytest.mark.django_db
def test_the_evaluation_key_signs_nothing_but_this_instances_evaluation(issue):
    licensing.ensure_evaluation_license()
    body = licensing.evaluation_body()
    forged = Ed25519PrivateKey.generate()
    # Even with the trusted evaluation key id in the document, another key's signature fails...
    document = json.loads(licensing.sign(body, forged))
    document["key"] = json.loads(AppliedLicense.objects.get().text)["key"]
    with pytest.raises(LicenseError, match="altered"):
        licensing.verify(json.dumps(document))
    # ... and the instance key, whose private half is gone, vouches only for the 30-day evaluation.
    stored = json.loads(AppliedLicense.objects.get().text)
    stored["license"]["type"] = "Perpetual"
    with pytest.raises(LicenseError):
        licensing.verify(json.dumps(stored))


@pytest.mark.django_db
def test_the_evaluation_license_does_not_replace_an_applied_license(licensed):
    assert licensing.ensure_evaluation_license() is None
    assert licensing.current().license == licensed
