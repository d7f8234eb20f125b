"""JavaScript extensions run by Hub (custom data transformations, payload transformations, person
reconciliation, state transitions), key-value stores, and the runtime and host APIs they use."""
from django.apps import AppConfig


class ExtensionsConfig(AppConfig):
    """JavaScript extensions run by Hub (custom data transformations, payload transformations, person
    reconciliation, state transitions), key-value stores, and the runtime and host APIs they use."""

    name = "extensions"
    verbose_name = "Extensions"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from extensions import licensing
        from hub.models import AppliedLicense

        # The license answers are cached for a few seconds (extensions.licensing); a license
        # applied in this process takes effect at once.
        post_save.connect(lambda **kwargs: licensing.forget(), sender=AppliedLicense, weak=False)
