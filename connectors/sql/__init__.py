"""The ``sql`` connector: the table an Enterprise Data Stream writes to (``table.py``). It knows
databases, not integrations: it takes a URL, a password, a table name and the columns a model
needs, and gives plain answers (columns present, DDL to propose, rows upserted)."""
