"""The master password: secrets encrypted under it, its file, change and reset."""

import os
import stat

import pytest
from django import forms
from django.db import connection, transaction

from hub import vault
from hub.fields import MASK, Secret
from settings_app.models import SmtpSettings
from tests.hub.security_fixtures import MASTER_PASSWORD

SMTP_PASSWORD = "smtp-Pa55word-that-must-stay-hidden"


def stored_column(pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT password FROM {SmtpSettings._meta.db_table} WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_without_a_master_password_no_secret_can_be_saved():
    with pytest.raises(vault.MasterPasswordNotSet) as refused, transaction.atomic():
        SmtpSettings.objects.create(host="mail.example.com", password=SMTP_PASSWORD)
    assert refused.value.code == "CCRRTT-30005E"
    assert SMTP_PASSWORD not in str(refused.value)
    assert not SmtpSettings.objects.exists()


@pytest.mark.django_db
def test_a_saved_secret_is_stored_encrypted_and_reads_back(master_password):
    smtp = SmtpSettings.objects.create(host="mail.example.com", password=SMTP_PASSWORD)
    column = stored_column(smtp.pk)
    assert column.startswith(vault.TOKEN_PREFIX) and SMTP_PASSWORD not in column
    loaded = SmtpSettings.objects.get(pk=smtp.pk)
    assert isinstance(loaded.password, Secret)
    assert loaded.password.reveal() == SMTP_PASSWORD
    assert str(loaded.password) == MASK and SMTP_PASSWORD not in repr(loaded.password)


@pytest.mark.django_db
def test_saving_other_fields_keeps_the_secret(master_password):
    smtp = SmtpSettings.objects.create(host="mail.example.com", password=SMTP_PASSWORD)
    loaded = SmtpSettings.objects.get(pk=smtp.pk)
    loaded.host = "smtp.example.com"
    loaded.save()
    assert SmtpSettings.objects.get(pk=smtp.pk).password.reveal() == SMTP_PASSWORD


@pytest.mark.django_db
def test_a_ciphertext_moved_to_another_owner_does_not_decrypt(master_password):
    token = vault.encrypt(SMTP_PASSWORD, "settings_app.SmtpSettings.password")
    with pytest.raises(vault.SecretUnreadable):
        vault.decrypt(token, "integrations.Repository.password")


@pytest.mark.django_db
def test_the_master_password_file_is_owner_only_and_holds_no_clear_text(master_password, settings):
    path = settings.HUB_MASTER_KEY_FILE
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    assert MASTER_PASSWORD.encode() not in path.read_bytes()


@pytest.mark.django_db
def test_a_restarted_process_unlocks_itself_from_the_file(master_password):
    smtp = SmtpSettings.objects.create(host="mail.example.com", password=SMTP_PASSWORD)
    vault.forget_unlocked_keys()  # as a new process starts
    assert vault.state() == vault.SecurityState.UNLOCKED
    assert SmtpSettings.objects.get(pk=smtp.pk).password.reveal() == SMTP_PASSWORD


@pytest.mark.django_db
def test_without_its_file_hub_asks_for_the_master_password_again(master_password, settings, client):
    smtp = SmtpSettings.objects.create(host="mail.example.com", password=SMTP_PASSWORD)
    settings.HUB_MASTER_KEY_FILE.unlink()
    vault.forget_unlocked_keys()
    assert vault.state() == vault.SecurityState.LOCKED
    assert client.get("/api/health").json()["checks"]["securityIsSetUp"]["status"] == "fail"
    with pytest.raises(vault.MasterPasswordLocked):
        SmtpSettings.objects.get(pk=smtp.pk).password.reveal()
    with pytest.raises(vault.WrongMasterPassword):
        vault.unlock("not the master password")
    vault.unlock(MASTER_PASSWORD)
    vault.forget_unlocked_keys()
    assert vault.state() == vault.SecurityState.UNLOCKED
    assert SmtpSettings.objects.get(pk=smtp.pk).password.reveal() == SMTP_PASSWORD


@pytest.mark.django_db
def test_a_second_set_is_refused(master_password):
    with pytest.raises(vault.MasterPasswordAlreadySet):
        vault.set_master_password("another master password")


def test_a_short_master_password_is_refused():
    with pytest.raises(vault.UnacceptableMasterPassword):
        vault.validate_new_password("short")


@pytest.mark.django_db
def test_change_keeps_every_secret_readable_without_reencrypting_it(master_password):
    smtp = SmtpSettings.objects.create(host="mail.example.com", password=SMTP_PASSWORD)
    before = stored_column(smtp.pk)
    vault.change_master_password(MASTER_PASSWORD, "second master password")
    assert stored_column(smtp.pk) == before
    vault.forget_unlocked_keys()
    assert SmtpSettings.objects.get(pk=smtp.pk).password.reveal() == SMTP_PASSWORD
    with pytest.raises(vault.WrongMasterPassword):
        vault.change_master_password(MASTER_PASSWORD, "third master password")
    vault.unlock("second master password")


@pytest.mark.django_db
def test_change_needs_the_current_master_password(master_password):
    with pytest.raises(vault.WrongMasterPassword):
        vault.change_master_password("not the master password", "second master password")


@pytest.mark.django_db
def test_reset_erases_every_secret_and_marks_owners_as_needing_new_credentials(master_password):
    smtp = SmtpSettings.objects.create(host="mail.example.com", password=SMTP_PASSWORD)
    SmtpSettings.objects.create(host="other.example.com")  # holds no secret: untouched
    assert vault.stored_secrets_by_owner() == {"email server settings": 1}
    erased = vault.reset_master_password("a brand new master password")
    assert erased == {"email server settings": 1}
    smtp.refresh_from_db()
    assert smtp.password is None and smtp.needs_password
    assert not SmtpSettings.objects.get(host="other.example.com").needs_password
    smtp.password = "entered again after the reset"
    smtp.save()
    vault.forget_unlocked_keys()
    assert SmtpSettings.objects.get(pk=smtp.pk).password.reveal() == "entered again after the reset"


@pytest.mark.django_db
def test_secrets_of_a_discarded_data_key_read_as_unreadable_not_as_garbage(master_password):
    token = vault.encrypt(SMTP_PASSWORD, "settings_app.SmtpSettings.password")
    vault.reset_master_password("a brand new master password")
    vault.forget_unlocked_keys()
    with pytest.raises(vault.SecretUnreadable) as unreadable:
        vault.decrypt(token, "settings_app.SmtpSettings.password")
    assert SMTP_PASSWORD not in str(unreadable.value)


@pytest.mark.django_db
def test_a_reset_hook_is_called_with_the_affected_records(master_password):
    seen = []
    vault.on_reset("settings_app.SmtpSettings")(
        lambda queryset: seen.append(sorted(queryset.values_list("host", flat=True)))
    )
    try:
        SmtpSettings.objects.create(host="mail.example.com", password=SMTP_PASSWORD)
        vault.reset_master_password("a brand new master password")
    finally:
        vault._reset_hooks["settings_app.SmtpSettings"].pop()
    assert seen == [["mail.example.com"]]


class SmtpForm(forms.ModelForm):
    class Meta:
        model = SmtpSettings
        fields = ["host", "password"]


@pytest.mark.django_db
def test_a_form_refuses_a_secret_before_the_master_password_is_set():
    form = SmtpForm({"host": "mail.example.com", "password": SMTP_PASSWORD})
    assert not form.is_valid()
    assert "CCRRTT-30005E" in form.errors["password"][0]
    assert SMTP_PASSWORD not in str(form.errors)


def test_the_secret_form_field_never_renders_a_value():
    smtp = SmtpSettings(host="mail.example.com")
    smtp.password = Secret("hubsecret:v1:abc:Zm9v", "settings_app.SmtpSettings.password")
    html = str(SmtpForm(instance=smtp))
    assert 'type="password"' in html
    assert "hubsecret" not in html and "Zm9v" not in html


@pytest.mark.django_db
def test_an_empty_secret_input_keeps_the_stored_secret(master_password):
    smtp = SmtpSettings.objects.create(host="mail.example.com", password=SMTP_PASSWORD)
    form = SmtpForm(
        {"host": "smtp.example.com", "password": ""}, instance=SmtpSettings.objects.get(pk=smtp.pk)
    )
    assert form.is_valid(), form.errors
    form.save()
    assert SmtpSettings.objects.get(pk=smtp.pk).password.reveal() == SMTP_PASSWORD
