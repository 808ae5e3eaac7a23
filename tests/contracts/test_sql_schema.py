"""The Alembic revisions build exactly the models on PostgreSQL too, from an empty database."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import backend.adapters.sql.tables  # noqa: F401  (registers the tables)
from backend.adapters.sql.search import not_search_table


def test_migrations_on_an_empty_postgres_database_produce_exactly_the_models(
    postgres_engine: sa.Engine,
) -> None:
    with postgres_engine.connect() as connection:
        # (The search index's table is checked in tests/backend/test_schema.py.)
        context = MigrationContext.configure(connection, opts={"include_name": not_search_table})
        differences = compare_metadata(context, SQLModel.metadata)
        version = connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    assert differences == []
    assert version is not None
