"""A column's converter parses each date text once, and still answers every row rightly."""

from __future__ import annotations

import datetime as dt

from connectors.sql import table


def test_a_repeated_date_time_text_is_parsed_once_per_column(monkeypatch):
    calls = []
    real = table.cell
    monkeypatch.setattr(table, "cell", lambda *args: calls.append(args) or real(*args))
    convert = table.converter("date_time", "mysql")
    stamp = "2026-12-02T21:00:00+01:00"
    assert [convert(stamp) for _ in range(500)] == [dt.datetime(2026, 12, 2, 20, 0)] * 500
    assert len(calls) == 1
    assert convert(None) is None and convert("2026-12-03T00:00:00Z") == dt.datetime(2026, 12, 3)


def test_the_remembered_dates_are_bounded(monkeypatch):
    calls = []
    real = table.cell
    monkeypatch.setattr(table, "cell", lambda *args: calls.append(args[0]) or real(*args))
    monkeypatch.setattr(table, "CONVERTED", 3)
    convert = table.converter("date", "postgresql")
    days = [f"2026-12-{n:02d}" for n in range(1, 11)]
    assert [convert(day) for day in days] == [dt.date(2026, 12, n) for n in range(1, 11)]
    assert convert("2026-12-10") == dt.date(2026, 12, 10) and len(calls) == 10  # still remembered
    assert convert("2026-12-01") == dt.date(2026, 12, 1) and len(calls) == 11  # forgotten: parsed again
