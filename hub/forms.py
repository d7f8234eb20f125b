from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from hub import setup


class FirstAdministratorForm(forms.Form):
    token = forms.CharField(
        label="Setup token",
        help_text="Printed in the console where Hub started, and stored in HUB_HOME/setup-token.",
        widget=forms.PasswordInput,
    )
    username = forms.CharField(max_length=150)
    email = forms.EmailField(required=False)
    password = forms.CharField(widget=forms.PasswordInput, strip=False)
    password_again = forms.CharField(widget=forms.PasswordInput, strip=False, label="Password (again)")

    def clean_token(self):
        token = self.cleaned_data["token"]
        if not setup.token_matches(token):
            raise forms.ValidationError("This is not the setup token of this Hub instance.")
        return token

    def clean_username(self):
        username = self.cleaned_data["username"]
        field = get_user_model()._meta.get_field("username")
        for validator in field.validators:
            validator(username)
        return username

    def clean(self):
        cleaned = super().clean()
        password, again = cleaned.get("password"), cleaned.get("password_again")
        if password and again and password != again:
            self.add_error("password_again", "The two passwords differ.")
        elif password:
            user = get_user_model()(username=cleaned.get("username", ""), email=cleaned.get("email", ""))
            try:
                password_validation.validate_password(password, user)
            except forms.ValidationError as error:
                self.add_error("password", error)
        return cleaned


class CleanModelForm(forms.ModelForm):
    """A model form whose model's ``clean()`` may refuse fields the form does not show (a model
    validates everything it stores, whichever path stores it): those errors are shown with the
    form field named in ``error_fields`` or, failing that, above the form."""

    error_fields: dict[str, str] = {}

    def _update_errors(self, errors: ValidationError) -> None:
        if hasattr(errors, "error_dict"):
            remapped: dict[str, list] = {}
            for name, messages in errors.error_dict.items():
                target = self.error_fields.get(name, name)
                if target not in self.fields:
                    target = NON_FIELD_ERRORS
                remapped.setdefault(target, []).extend(messages)
            errors = ValidationError(remapped)
        super()._update_errors(errors)
