"""Forms of the configuration screens, one module per screen family."""
