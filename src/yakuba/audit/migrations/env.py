"""Alembic environment of the audit log's migrations."""

from yakuba.database import run_migrations_env

run_migrations_env()
