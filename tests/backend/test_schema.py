"""The Alembic revisions and the SQLModel tables describe the same schema."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import backend.adapters.sql.tables  # noqa: F401  (registers the tables)
from backend.adapters.sql.search import not_search_table


def test_migrations_produce_exactly_the_models(migrated_template: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{migrated_template}")
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_name": not_search_table})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == []
