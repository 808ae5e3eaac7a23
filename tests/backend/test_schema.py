"""The Alembic revisions and the SQLModel tables describe the same schema, on the engine under
test (SQLite; PostgreSQL with ``--engines=scale``), and the search index's own tables are what
its adapters use; the Cassandra schema files are numbered one each."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import backend.adapters.sql.tables  # noqa: F401  (registers the tables)
from backend.adapters.sql.engine import create_sql_engine
from backend.adapters.sql.search import ENTRIES_TABLE, FTS_TABLE, not_search_table
from backend.adapters.sql.search_postgres import SEARCH_METADATA, SEARCH_TABLE


@pytest.fixture
def migrated(request: pytest.FixtureRequest, migrated_template: Path) -> sa.Engine:
    """A database with every migration applied, of the engine under test."""
    if request.config.getoption("--engines") == "scale":
        return create_sql_engine(str(request.getfixturevalue("scale_settings")["database_url"]))
    return sa.create_engine(f"sqlite:///{migrated_template}")


def test_migrations_produce_exactly_the_models(migrated: sa.Engine) -> None:
    with migrated.connect() as connection:
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


def test_migrations_make_the_search_index_tables_of_the_engine(migrated: sa.Engine) -> None:
    tables = set(sa.inspect(migrated).get_table_names())
    if migrated.dialect.name == "sqlite":
        assert {FTS_TABLE, ENTRIES_TABLE} <= tables
        columns = [c["name"] for c in sa.inspect(migrated).get_columns(ENTRIES_TABLE)]
        assert columns == ["rowid", "id", "chat_id", "sender_id", "created_at"]
        return

    def only_search_table(name: str | None, type_: str, _parents: object = None) -> bool:
        return type_ != "table" or name == SEARCH_TABLE.name

    with migrated.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_name": only_search_table})
        differences = compare_metadata(context, SEARCH_METADATA)
        [method] = connection.execute(
            sa.text(
                "SELECT am.amname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
                " JOIN pg_am am ON am.oid = c.relam WHERE c.relname = 'ix_message_search_words'"
            )
        ).scalars()
        [statistics] = connection.execute(
            sa.text(
                "SELECT attstattarget FROM pg_attribute"
                " WHERE attrelid = 'message_search'::regclass AND attname = 'words'"
            )
        ).scalars()
    assert differences == []
    assert method == "gin"
    assert statistics == 0  # (why: migration 0009)
