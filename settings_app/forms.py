from django import forms

from hub import licensing, logconfig, vault
from settings_app.models import EnvironmentLabel, SmtpSettings


class LoggingLevelForm(forms.Form):
    level = forms.ChoiceField(
        choices=[
            (logconfig.NORMAL, "Normal"),
            (logconfig.TROUBLESHOOTING, "Troubleshooting (verbose, for two hours)"),
        ],
        widget=forms.RadioSelect,
    )


def _password(label: str, **kwargs) -> forms.CharField:
    return forms.CharField(
        label=label,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        **kwargs,
    )


class NewMasterPasswordForm(forms.Form):
    new_password = _password("New master password", help_text="At least 10 characters.")
    new_password_again = _password("New master password (again)")

    def clean(self):
        cleaned = super().clean()
        new, again = cleaned.get("new_password"), cleaned.get("new_password_again")
        if new and again and new != again:
            self.add_error("new_password_again", "The two passwords differ.")
        elif new:
            try:
                vault.validate_new_password(new)
            except vault.VaultError as error:
                self.add_error("new_password", str(error))
        return cleaned


class ChangeMasterPasswordForm(NewMasterPasswordForm):
    current_password = _password("Current master password")
    field_order = ["current_password", "new_password", "new_password_again"]


class ResetMasterPasswordForm(NewMasterPasswordForm):
    confirm = forms.BooleanField(
        label="I understand that every stored password and token is erased and must be entered again."
    )


class UnlockForm(forms.Form):
    password = _password("Master password")


class ApplyLicenseForm(forms.Form):
    text = forms.CharField(
        label="License text",
        required=False,
        widget=forms.Textarea(attrs={"rows": 10, "spellcheck": "false"}),
        help_text="Paste the license, or upload its file below.",
    )
    upload = forms.FileField(label="License file", required=False)

    def clean(self):
        cleaned = super().clean()
        text, upload = cleaned.get("text", "").strip(), cleaned.get("upload")
        if text and upload:
            raise forms.ValidationError("Paste the license or upload its file, not both.")
        if upload:
            if upload.size > licensing.MAX_DOCUMENT_BYTES:
                raise forms.ValidationError("This file is too large to be a Hub license.")
            try:
                text = upload.read().decode("utf-8").strip()
            except UnicodeDecodeError:
                raise forms.ValidationError("This file is not a Hub license: it is not text.") from None
        if not text:
            raise forms.ValidationError("Paste the license text or choose its file.")
        cleaned["license_text"] = text
        return cleaned


class NotificationSettingsForm(forms.ModelForm):
    """The email server and who gets notified; Test Connection and Send Test Email use what is typed
    without saving it."""

    class Meta:
        model = SmtpSettings
        fields = [
            "recipients",
            "sender",
            "subject_prefix",
            "server_url",
            "frequency",
            "username",
            "password",
            "host",
            "port",
            "timeout",
            "protocol",
        ]
        widgets = {"recipients": forms.TextInput(attrs={"size": 60})}
        help_texts = {
            "protocol": "SMTP_STARTTLS suits most providers, Google mail among them; SMTPS usually uses "
            "port 465, SMTP and SMTP_STARTTLS 25 or 587.",
        }

    def clean_recipients(self):
        from django.core.validators import validate_email

        from settings_app.notifications import recipients

        value = self.cleaned_data["recipients"]
        addresses = recipients(value)
        if not addresses:
            raise forms.ValidationError("Give at least one email address to notify.")
        for address in addresses:
            try:
                validate_email(address)
            except forms.ValidationError:
                raise forms.ValidationError(f"“{address}” is not an email address.") from None
        return ", ".join(addresses)

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("host"):
            self.add_error("host", "Give the SMTP server's host name.")
        if cleaned.get("timeout") == 0:
            self.add_error("timeout", "The connection timeout must be at least one second.")
        return cleaned


class EnvironmentLabelForm(forms.ModelForm):
    """Settings → General → Configuration: the label in the upper left of every screen."""

    class Meta:
        model = EnvironmentLabel
        fields = ["type", "name"]

    def clean_name(self) -> str:
        return " ".join(self.cleaned_data["name"].split())
