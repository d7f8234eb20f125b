"""API tokens: each signed-in user creates and revokes their own; the token is shown once."""

from __future__ import annotations

import secrets

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from hub.roles import any_signed_in_user_may_post
from integrations.api.authentication import token_digest


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What the token is for, e.g. “deployment pipeline”.")


@any_signed_in_user_may_post
def api_tokens(request):
    """Viewers may create tokens too: a viewer's token can only read."""
    from hub.models import ApiToken

    form = TokenForm(request.POST or None)
    token = None
    if request.method == "POST" and form.is_valid():
        name = form.cleaned_data["name"]
        if ApiToken.objects.filter(user=request.user, name=name).exists():
            form.add_error("name", "You already have a token with this name.")
        else:
            token = "hub_" + secrets.token_urlsafe(32)
            ApiToken.objects.create(user=request.user, name=name, token_hash=token_digest(token), prefix=token[:8])
            form = TokenForm()
    tokens = ApiToken.objects.filter(user=request.user)
    return render(request, "integrations/api_tokens.html", {"form": form, "tokens": tokens, "token": token})


@any_signed_in_user_may_post
@require_POST
def api_token_revoke(request, pk: int):
    from hub.models import ApiToken

    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    if token.revoked is None:
        token.revoked = timezone.now()
        token.save(update_fields=["revoked"])
    messages.success(request, f"Token “{token.name}” revoked.")
    return redirect("api-tokens")
