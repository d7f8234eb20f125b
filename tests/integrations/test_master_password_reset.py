"""A master-password reset erases repository credentials and marks those repositories."""

from hub import vault
from integrations.models import Repository

NEW_PASSWORD = "a brand new master password"


def test_reset_marks_repositories_whose_credentials_were_erased(repositories):
    with_token = Repository.objects.create(
        label="Redmine", kind="redmine", url="http://127.0.0.1:1", token="redmine-api-key-123"
    )
    without_secret = repositories[0]
    vault.reset_master_password(NEW_PASSWORD)
    with_token.refresh_from_db()
    without_secret.refresh_from_db()
    assert with_token.needs_new_credentials
    assert not with_token.token
    assert not without_secret.needs_new_credentials
