from django.apps import AppConfig


class ConnectorsConfig(AppConfig):
    """The connector SDK — one interface per connector kind, plain data in and out, errors that carry a
    catalog code and say whether they are transient — and one package per tool (`local`, `redmine`,
    `roundup`, …). Connectors know nothing of integrations: they take a repository's settings and
    return plain data."""

    name = "connectors"
    verbose_name = "Connectors"
