"""Alembic environment of the recorder's migrations: run on the connection `yakuba.database.migrate` passes."""

from yakuba.database import run_migrations_env

run_migrations_env()
