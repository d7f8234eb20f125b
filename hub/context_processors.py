from django.conf import settings

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
    ("Activity", (("Activity", "activity"),)),
    ("Metrics", (("Metrics", "metrics"),)),
    ("Settings", (("Settings", "settings"),)),
    ("History", (("History", "history"),)),
    ("Help", (("Help", "help"),)),
)


def console(request):
    user = getattr(request, "user", None)
    return {
        "environment_name": settings.HUB["hub.environment.name"],
        "environment_type": settings.HUB["hub.environment.type"],
        "navigation": NAVIGATION,
        "is_administrator": bool(user and is_administrator(user)),
        "safe_mode": settings.SAFE_MODE,
        "self_signed_certificate": not settings.HUB["server.ssl.certificate"],
    }
