"""API tokens in the console: each user makes and revokes their own; a token is shown once."""

import re

from django.test import Client
from django.urls import reverse

from hub.models import ApiToken


def test_a_user_creates_a_token_shown_once_and_it_works(admin_client, administrator):
    html = admin_client.post(reverse("api-tokens"), {"name": "pipeline"}).content.decode()
    token = re.search(r'data-testid="new-token">([^<]+)<', html).group(1)
    assert token not in admin_client.get(reverse("api-tokens")).content.decode()
    response = Client().get("/api/v1/models/", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200


def test_revoking_a_token_stops_it(admin_client, administrator):
    html = admin_client.post(reverse("api-tokens"), {"name": "pipeline"}).content.decode()
    token = re.search(r'data-testid="new-token">([^<]+)<', html).group(1)
    record = ApiToken.objects.get(user=administrator, name="pipeline")
    admin_client.post(reverse("api-token-revoke", args=[record.pk]))
    assert Client().get("/api/v1/models/", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401


def test_a_viewer_may_make_a_token_which_only_reads(viewer_client, viewer):
    html = viewer_client.post(reverse("api-tokens"), {"name": "report"}).content.decode()
    token = re.search(r'data-testid="new-token">([^<]+)<', html).group(1)
    client = Client()
    assert client.get("/api/v1/models/", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200
    response = client.post(
        "/api/v1/models/",
        {"name": "M"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 403


def test_nobody_revokes_someone_elses_token(admin_client, viewer):
    from hub import api_tokens

    record, _ = api_tokens.create_token(viewer, "theirs")
    assert admin_client.post(reverse("api-token-revoke", args=[record.pk])).status_code == 404
    record.refresh_from_db()
    assert record.revoked is None


def test_a_duplicate_token_name_is_refused(admin_client):
    admin_client.post(reverse("api-tokens"), {"name": "pipeline"})
    assert (
        "already has a token named"
        in admin_client.post(reverse("api-tokens"), {"name": "pipeline"}).content.decode()
    )
