"""The Alembic revisions and the SQLModel tables describe the same schema; the Cassandra schema
files are numbered one each."""

from __future__ import annotations

from pathlib import Path

import pytest
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


def test_cassandra_schema_files_have_one_number_each(tmp_path: Path) -> None:
    from backend.adapters.cassandra.schema import schema_files  # (the driver loads slowly)

    numbers = [number for number, _ in schema_files()]
    assert numbers == sorted(set(numbers)) and numbers[0] == 1

    for name in ("001_messages.cql", "002_chats.cql", "002_other.cql"):
        (tmp_path / name).write_text("-- nothing\n")
    with pytest.raises(ValueError, match=r"002_chats\.cql and 002_other\.cql share a number"):
        schema_files(tmp_path)
