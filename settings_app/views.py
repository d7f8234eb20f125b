"""Settings screens. Troubleshooting switches every Hub process's logging level at run time."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from hub import logconfig
from settings_app.forms import LoggingLevelForm


def settings_index(request):
    """Settings opens on its first tab, General (the same page, at the address of the header link)."""
    from settings_app.general import general

    return general(request)


@require_http_methods(["GET", "POST"])
def troubleshooting(request):
    form = LoggingLevelForm(request.POST or None, initial={"level": logconfig.read_level()["level"]})
    if request.method == "POST" and form.is_valid():
        state = logconfig.set_level(form.cleaned_data["level"])
        logconfig.logging.getLogger("hub").info(
            "Logging level set to %s by %s", state["level"], request.user.get_username()
        )
        messages.success(request, f"Logging level is now {state['level']}.")
        return redirect("settings-troubleshooting")
    return render(
        request, "settings_app/troubleshooting.html", {"form": form, "state": logconfig.read_level()}
    )
