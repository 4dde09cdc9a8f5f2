"""The registry's tables (SQLAlchemy Core); migrations/versions creates exactly these."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    UniqueConstraint,
)

from yakuba.database import UtcDateTime

__all__ = [
    "METADATA",
    "card_bindings",
    "history",
    "honseki_use_registrations",
    "households",
    "koseki_events",
    "koseki_filings",
    "koseki_fuhyo",
    "koseki_members",
    "koseki_registers",
    "persons",
    "seal_registrations",
    "tax_assessments",
    "tax_snapshot_rows",
    "tax_snapshots",
]


METADATA = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def _address(prefix: str, *, nullable: bool) -> list[Column[Any]]:
    return [
        Column(f"{prefix}prefecture", String(8), nullable=nullable),
        Column(f"{prefix}city", String(32), nullable=nullable),
        Column(f"{prefix}town", String(32), nullable=nullable),
        Column(f"{prefix}chome", Integer, nullable=True),
        Column(f"{prefix}ban", Integer, nullable=nullable),
        Column(f"{prefix}go", Integer, nullable=True),
        Column(f"{prefix}building", String(64), nullable=True),
    ]


households = Table(
    "households",
    METADATA,
    Column("id", Integer, primary_key=True),
    *_address("", nullable=False),
    Column("head_person_id", Integer, nullable=True),  # no FK: persons refer to households
    Column("created_on", Date, nullable=False),
)

koseki_registers = Table(
    "koseki_registers",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("honseki", String(128), nullable=False),
    Column("hittosha", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_on", Date, nullable=False),
    Column("closed_on", Date, nullable=True),
)

persons = Table(
    "persons",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("juminhyo_code", String(11), nullable=False, unique=True),
    Column("my_number", String(12), nullable=False, unique=True),
    Column("family_name", String(128), nullable=False),
    Column("given_name", String(128), nullable=False),
    Column("family_name_kana", String(128), nullable=True),
    Column("given_name_kana", String(128), nullable=True),
    Column("former_surname", String(64), nullable=True),
    Column("former_surname_kana", String(64), nullable=True),
    Column("birth_date", Date, nullable=False),
    Column("sex", String(8), nullable=False),
    Column("nationality", String(2), nullable=False),
    Column("household_id", Integer, ForeignKey("households.id"), nullable=False, index=True),
    Column("relationship", String(16), nullable=False),
    Column("address_since", Date, nullable=False),
    *_address("prev_", nullable=True),
    Column("resident_since", Date, nullable=False),
    Column("honseki", String(128), nullable=True),
    Column("hittosha", String(64), nullable=True),
    Column("koseki_register_id", Integer, ForeignKey("koseki_registers.id"), nullable=True),
    Column("status", String(16), nullable=False),
    Column("move_out_planned_on", Date, nullable=True),
    Column("moved_out_on", Date, nullable=True),
    *_address("dest_", nullable=True),
    Column("died_on", Date, nullable=True),
    Column("support_measure", Boolean, nullable=False),
)

seal_registrations = Table(
    "seal_registrations",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("registration_number", String(16), nullable=False, unique=True),
    Column("person_id", Integer, ForeignKey("persons.id"), nullable=False, index=True),
    Column("impression_png", LargeBinary, nullable=False),
    Column("impression_sha256", String(64), nullable=False),
    Column("registered_at", UtcDateTime, nullable=False),
    Column("deregistered_at", UtcDateTime, nullable=True),
    Column("deregistration_reason", String(32), nullable=True),
    Column("status", String(16), nullable=False),
)

tax_assessments = Table(
    "tax_assessments",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("fiscal_year", Integer, nullable=False),
    Column("person_id", Integer, ForeignKey("persons.id"), nullable=False),
    Column("salary_revenue", Integer, nullable=False),
    Column("income_salary", Integer, nullable=False),
    Column("income_business", Integer, nullable=False),
    Column("income_real_estate", Integer, nullable=False),
    Column("income_pension", Integer, nullable=False),
    Column("income_misc", Integer, nullable=False),
    Column("income_dividend", Integer, nullable=False),
    Column("deduction_basic", Integer, nullable=False),
    Column("deduction_social_insurance", Integer, nullable=False),
    Column("deduction_spouse", Integer, nullable=False),
    Column("deduction_dependents", Integer, nullable=False),
    Column("deduction_other", Integer, nullable=False),
    Column("taxable_income", Integer, nullable=False),
    Column("per_capita_tax", Integer, nullable=False),
    Column("income_based_tax", Integer, nullable=False),
    Column("exempt", Boolean, nullable=False),
    UniqueConstraint("fiscal_year", "person_id"),
)

tax_snapshots = Table(
    "tax_snapshots",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("as_of", Date, nullable=False),
    Column("loaded_at", UtcDateTime, nullable=False),
)

tax_snapshot_rows = Table(
    "tax_snapshot_rows",
    METADATA,
    Column("snapshot_id", Integer, ForeignKey("tax_snapshots.id", ondelete="CASCADE"), primary_key=True),
    *(
        Column(c.name, c.type, nullable=c.nullable, primary_key=c.name in ("fiscal_year", "person_id"))
        for c in tax_assessments.columns
        if c.name != "id"
    ),
)

koseki_members = Table(
    "koseki_members",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("register_id", Integer, ForeignKey("koseki_registers.id"), nullable=False, index=True),
    Column("seq", Integer, nullable=False),
    Column("person_id", Integer, ForeignKey("persons.id"), nullable=True, index=True),
    Column("family_name", String(64), nullable=False),
    Column("given_name", String(64), nullable=False),
    Column("family_name_kana", String(64), nullable=True),
    Column("given_name_kana", String(64), nullable=True),
    Column("birth_date", Date, nullable=False),
    Column("sex", String(8), nullable=False),
    Column("father", String(64), nullable=True),
    Column("mother", String(64), nullable=True),
    Column("relationship", String(16), nullable=False),
    Column("removed_on", Date, nullable=True),
    UniqueConstraint("register_id", "seq"),
)

koseki_events = Table(
    "koseki_events",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("member_id", Integer, ForeignKey("koseki_members.id"), nullable=False, index=True),
    Column("kind", String(16), nullable=False),
    Column("event_date", Date, nullable=False),
    Column("filed_on", Date, nullable=False),
    Column("counterpart", String(64), nullable=True),
    Column("detail", String(128), nullable=True),
)

koseki_filings = Table(
    "koseki_filings",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("register_id", Integer, ForeignKey("koseki_registers.id"), nullable=False, index=True),
    Column("kind", String(16), nullable=False),
    Column("filed_on", Date, nullable=False),
    Column("completed_on", Date, nullable=True),
)

koseki_fuhyo = Table(
    "koseki_fuhyo",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("member_id", Integer, ForeignKey("koseki_members.id"), nullable=False, index=True),
    *_address("", nullable=False),
    Column("since", Date, nullable=False),
    Column("until", Date, nullable=True),
)

card_bindings = Table(
    "card_bindings",
    METADATA,
    Column("serial", String(64), primary_key=True),
    Column("person_id", Integer, ForeignKey("persons.id"), nullable=False, index=True),
    Column("fingerprint", String(128), nullable=False),
    Column("issued_at", UtcDateTime, nullable=False),
    Column("status", String(16), nullable=False),
    Column("revoked_at", UtcDateTime, nullable=True),
    Column("revoke_reason", String(32), nullable=True),
)

honseki_use_registrations = Table(
    "honseki_use_registrations",
    METADATA,
    Column("serial", String(64), primary_key=True),
    Column("koseki_member_id", Integer, ForeignKey("koseki_members.id"), nullable=False, index=True),
    Column("registered_at", UtcDateTime, nullable=False),
    Column("status", String(16), nullable=False),
    Column("revoked_at", UtcDateTime, nullable=True),
)

history = Table(
    "history",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("aggregate", String(16), nullable=False),
    Column("aggregate_id", String(64), nullable=False),
    Column("event", String(32), nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("effective_on", Date, nullable=True),
    Column("detail", JSON, nullable=False),
    Index("ix_history_aggregate", "aggregate", "aggregate_id"),
)
