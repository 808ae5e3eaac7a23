"""SQL storage via SQLModel: SQLite file by default, PostgreSQL with the same models."""
