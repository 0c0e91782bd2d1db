"""Stores set back to an earlier schema step, as an older version of aggregator left them
(to test the steps that upgrade them), on SQLite and on PostgreSQL alike."""

from __future__ import annotations

import sqlite3

import psycopg

# The columns of ``sources`` the steps after 7 added, by step.
_SOURCE_COLUMNS_ADDED = {
    8: ("listed_at",),
    11: ("guids_unstable",),
    12: ("failing_since",),
    14: ("zoneless_date", "date_order", "ambiguous_date"),
}


def set_back(location: str, step: int, *statements: str) -> None:
    """The store at ``location`` as schema ``step`` had it: ``statements`` (SQL undoing
    what else later steps did) run, the columns of ``sources`` later steps added dropped,
    its version set to ``step``."""
    dropped = [
        f"ALTER TABLE sources DROP COLUMN {column}"
        for added, columns in _SOURCE_COLUMNS_ADDED.items()
        if added > step
        for column in columns
    ]
    if location.startswith("postgresql:"):
        with psycopg.connect(location) as db:
            for statement in (*statements, *dropped):
                db.execute(statement)
            db.execute("UPDATE aggregator_schema SET version = %s", (step,))
    else:
        with sqlite3.connect(location) as db:
            for statement in (*statements, *dropped):
                db.execute(statement)
            db.execute(f"PRAGMA user_version = {step}")
