"""User administration (Django's admin, administrators only): each user has one of Hub's two roles."""

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm

from hub.roles import ADMINISTRATORS, is_administrator, set_role

ROLE_CHOICES = [
    ("viewer", "Viewer — sees Activity and Metrics, changes nothing"),
    ("administrator", "Administrator — changes Hub and manages users"),
]


class RoleMixin(forms.Form):
    role = forms.ChoiceField(choices=ROLE_CHOICES, initial="viewer")


class HubUserCreationForm(UserCreationForm, RoleMixin):
    pass


class HubUserChangeForm(UserChangeForm, RoleMixin):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["role"].initial = "administrator" if is_administrator(self.instance) else "viewer"


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class HubUserAdmin(UserAdmin):
    """Roles replace Django's staff, superuser, group and permission switches, which Hub does not use."""

    form = HubUserChangeForm
    add_form = HubUserCreationForm
    list_display = ("username", "email", "first_name", "last_name", "role", "is_active", "last_login")
    list_filter = ("is_active",)
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Person", {"fields": ("first_name", "last_name", "email")}),
        ("Access", {"fields": ("role", "is_active")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "email", "role", "password1", "password2")}),
    )

    @admin.display(description="Role")
    def role(self, user):
        return (
            "administrator"
            if user.groups.filter(name=ADMINISTRATORS).exists() or user.is_superuser
            else "viewer"
        )

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        set_role(obj, form.cleaned_data["role"])
