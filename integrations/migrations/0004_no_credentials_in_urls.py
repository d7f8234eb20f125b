"""URLs stored before they were checked may carry a password (``http://user:secret@host/``).
Take it out of repository, proxy and SQL database URLs (the element then asks for its credentials
again) and mask it in configuration history."""

from django.db import migrations


def _split(url: str, keep_user: bool) -> tuple[str, str]:
    """The URL without its password (and without its user unless ``keep_user``), and the user."""
    from urllib.parse import unquote, urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return url, ""
    if "@" not in parts.netloc:
        return url, ""
    userinfo, host = parts.netloc.rsplit("@", 1)
    user = userinfo.split(":", 1)[0]
    netloc = f"{user}@{host}" if keep_user and user else host
    return urlunsplit(parts._replace(netloc=netloc)), unquote(user)


def _redacted(value):
    from hub.addresses import redact

    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: _redacted(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_redacted(item) for item in value]
    return value


def take_credentials_out(apps, schema_editor):
    db = schema_editor.connection.alias  # the database being migrated (a transfer's target too)
    Repository = apps.get_model("integrations", "Repository")
    for repository in Repository.objects.using(db).filter(url__contains="@") | Repository.objects.using(db).filter(
        proxy_url__contains="@"
    ):
        (url, user), (proxy, proxy_user) = _split(repository.url, False), _split(repository.proxy_url, False)
        repository.url, repository.proxy_url = url, proxy
        repository.username = repository.username or user
        repository.proxy_username = repository.proxy_username or proxy_user
        repository.needs_new_credentials = True
        repository.save(update_fields=["url", "proxy_url", "username", "proxy_username", "needs_new_credentials"])
    SqlCollection = apps.get_model("integrations", "SqlCollection")
    for collection in SqlCollection.objects.using(db).filter(database_url__contains="@"):
        cleaned, _ = _split(collection.database_url, True)
        if cleaned != collection.database_url:
            collection.database_url = cleaned
            collection.save(update_fields=["database_url"])
    ConfigurationChange = apps.get_model("hub", "ConfigurationChange")
    for change in ConfigurationChange.objects.using(db).all().iterator(chunk_size=500):
        before, after = _redacted(change.before), _redacted(change.after)
        if (before, after) != (change.before, change.after):
            change.before, change.after = before, after
            change.save(update_fields=["before", "after"])


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0003_route_conditions"),
        ("hub", "0002_hashed_sessions"),
    ]

    operations = [migrations.RunPython(take_credentials_out, migrations.RunPython.noop)]
