"""API tokens: each signed-in user creates and revokes their own; the token is shown once."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from hub import api_tokens
from hub.models import ApiToken
from hub.roles import any_signed_in_user_may_post


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What the token is for, e.g. “deployment pipeline”.")


@any_signed_in_user_may_post
def token_list(request):
    """Viewers may create tokens too: a viewer's token can only read."""
    form = TokenForm(request.POST or None)
    token = None
    if request.method == "POST" and form.is_valid():
        try:
            _, token = api_tokens.create_token(request.user, form.cleaned_data["name"])
        except ValueError as error:
            form.add_error("name", str(error))
        else:
            form = TokenForm()
    tokens = ApiToken.objects.filter(user=request.user)
    return render(request, "integrations/api_tokens.html", {"form": form, "tokens": tokens, "token": token})


@any_signed_in_user_may_post
@require_POST
def api_token_revoke(request, pk: int):
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    api_tokens.revoke(token)
    messages.success(request, f"Token “{token.name}” revoked.")
    return redirect("api-tokens")
