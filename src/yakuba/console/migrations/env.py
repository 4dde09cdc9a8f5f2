"""Alembic environment of the city console: run on the connection `yakuba.database.migrate` passes."""

from yakuba.database import run_migrations_env

run_migrations_env()
