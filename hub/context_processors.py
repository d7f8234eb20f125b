from django.conf import settings
from django.urls import reverse

from hub.roles import is_administrator

NAVIGATION = (
    (
        "Configuration",
        (
            ("Repositories", "repositories"),
            ("Collections", "collections"),
            ("Models", "models"),
            ("Integrations", "integrations"),
        ),
    ),
    # The built-in tracker, so a person can change an item and watch it sync without another tool.
    ("Local tracker", (("Local tracker", "local_tracker:index"),)),
    ("Activity", (("Activity", "activity"),)),
    ("Metrics", (("Metrics", "metrics"),)),
    ("Settings", (("Settings", "settings"),)),
    ("History", (("History", "history"),)),
    ("Help", (("Help", "help"),)),
)


def navigation_entries(path: str) -> list[dict]:
    """The header links, the one whose address is the longest prefix of ``path`` marked current,
    so a screen's sub-pages (``/activity/activities/failed/``) keep their entry highlighted."""
    entries = [
        {"label": label, "href": reverse(url_name), "current": False}
        for _group, group_entries in NAVIGATION
        for label, url_name in group_entries
    ]
    matching = [entry for entry in entries if path.startswith(entry["href"]) and entry["href"] != "/"]
    if matching:
        max(matching, key=lambda entry: len(entry["href"]))["current"] = True
    return entries


def console(request):
    from settings_app import environment

    user = getattr(request, "user", None)
    label = environment.current()
    return {
        "environment_name": label["name"],
        "environment_type": label["type"],
        "navigation": navigation_entries(request.path),
        "is_administrator": bool(user and is_administrator(user)),
        "safe_mode": settings.SAFE_MODE,
        "self_signed_certificate": not settings.HUB["server.ssl.certificate"],
    }
