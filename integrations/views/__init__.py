"""Views of the configuration screens, one module per screen family. Thin: forms validate,
``integrations.services`` and ``integrations.history`` do the work."""
