"""0001: the registry's first schema: residents, households, seals, tax, family registers, cards, history.

Revision ID: 0001
Revises:
Create Date: 2025-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("aggregate", sa.String(length=16), nullable=False),
        sa.Column("aggregate_id", sa.String(length=64), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_history")),
    )
    op.create_index("ix_history_aggregate", "history", ["aggregate", "aggregate_id"], unique=False)
    op.create_table(
        "households",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("prefecture", sa.String(length=8), nullable=False),
        sa.Column("city", sa.String(length=32), nullable=False),
        sa.Column("town", sa.String(length=32), nullable=False),
        sa.Column("chome", sa.Integer(), nullable=True),
        sa.Column("ban", sa.Integer(), nullable=False),
        sa.Column("go", sa.Integer(), nullable=True),
        sa.Column("building", sa.String(length=64), nullable=True),
        sa.Column("head_person_id", sa.Integer(), nullable=True),
        sa.Column("created_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_households")),
    )
    op.create_table(
        "koseki_registers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("honseki", sa.String(length=128), nullable=False),
        sa.Column("hittosha", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_on", sa.Date(), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_koseki_registers")),
    )
    op.create_table(
        "tax_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tax_snapshots")),
    )
    op.create_table(
        "koseki_filings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("register_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("filed_on", sa.Date(), nullable=False),
        sa.Column("completed_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["register_id"], ["koseki_registers.id"], name=op.f("fk_koseki_filings_register_id_koseki_registers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_koseki_filings")),
    )
    op.create_index(op.f("ix_koseki_filings_register_id"), "koseki_filings", ["register_id"], unique=False)
    op.create_table(
        "persons",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("juminhyo_code", sa.String(length=11), nullable=False),
        sa.Column("my_number", sa.String(length=12), nullable=False),
        sa.Column("family_name", sa.String(length=128), nullable=False),
        sa.Column("given_name", sa.String(length=128), nullable=False),
        sa.Column("family_name_kana", sa.String(length=128), nullable=True),
        sa.Column("given_name_kana", sa.String(length=128), nullable=True),
        sa.Column("former_surname", sa.String(length=64), nullable=True),
        sa.Column("former_surname_kana", sa.String(length=64), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("sex", sa.String(length=8), nullable=False),
        sa.Column("nationality", sa.String(length=2), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("relationship", sa.String(length=16), nullable=False),
        sa.Column("address_since", sa.Date(), nullable=False),
        sa.Column("prev_prefecture", sa.String(length=8), nullable=True),
        sa.Column("prev_city", sa.String(length=32), nullable=True),
        sa.Column("prev_town", sa.String(length=32), nullable=True),
        sa.Column("prev_chome", sa.Integer(), nullable=True),
        sa.Column("prev_ban", sa.Integer(), nullable=True),
        sa.Column("prev_go", sa.Integer(), nullable=True),
        sa.Column("prev_building", sa.String(length=64), nullable=True),
        sa.Column("resident_since", sa.Date(), nullable=False),
        sa.Column("honseki", sa.String(length=128), nullable=True),
        sa.Column("hittosha", sa.String(length=64), nullable=True),
        sa.Column("koseki_register_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("move_out_planned_on", sa.Date(), nullable=True),
        sa.Column("moved_out_on", sa.Date(), nullable=True),
        sa.Column("dest_prefecture", sa.String(length=8), nullable=True),
        sa.Column("dest_city", sa.String(length=32), nullable=True),
        sa.Column("dest_town", sa.String(length=32), nullable=True),
        sa.Column("dest_chome", sa.Integer(), nullable=True),
        sa.Column("dest_ban", sa.Integer(), nullable=True),
        sa.Column("dest_go", sa.Integer(), nullable=True),
        sa.Column("dest_building", sa.String(length=64), nullable=True),
        sa.Column("died_on", sa.Date(), nullable=True),
        sa.Column("support_measure", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["household_id"], ["households.id"], name=op.f("fk_persons_household_id_households")),
        sa.ForeignKeyConstraint(
            ["koseki_register_id"], ["koseki_registers.id"], name=op.f("fk_persons_koseki_register_id_koseki_registers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_persons")),
        sa.UniqueConstraint("juminhyo_code", name=op.f("uq_persons_juminhyo_code")),
        sa.UniqueConstraint("my_number", name=op.f("uq_persons_my_number")),
    )
    op.create_index(op.f("ix_persons_household_id"), "persons", ["household_id"], unique=False)
    op.create_table(
        "tax_snapshot_rows",
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("salary_revenue", sa.Integer(), nullable=False),
        sa.Column("income_salary", sa.Integer(), nullable=False),
        sa.Column("income_business", sa.Integer(), nullable=False),
        sa.Column("income_real_estate", sa.Integer(), nullable=False),
        sa.Column("income_pension", sa.Integer(), nullable=False),
        sa.Column("income_misc", sa.Integer(), nullable=False),
        sa.Column("income_dividend", sa.Integer(), nullable=False),
        sa.Column("deduction_basic", sa.Integer(), nullable=False),
        sa.Column("deduction_social_insurance", sa.Integer(), nullable=False),
        sa.Column("deduction_spouse", sa.Integer(), nullable=False),
        sa.Column("deduction_dependents", sa.Integer(), nullable=False),
        sa.Column("deduction_other", sa.Integer(), nullable=False),
        sa.Column("taxable_income", sa.Integer(), nullable=False),
        sa.Column("per_capita_tax", sa.Integer(), nullable=False),
        sa.Column("income_based_tax", sa.Integer(), nullable=False),
        sa.Column("exempt", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["tax_snapshots.id"],
            name=op.f("fk_tax_snapshot_rows_snapshot_id_tax_snapshots"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("snapshot_id", "fiscal_year", "person_id", name=op.f("pk_tax_snapshot_rows")),
    )
    op.create_table(
        "card_bindings",
        sa.Column("serial", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=128), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoke_reason", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"], name=op.f("fk_card_bindings_person_id_persons")),
        sa.PrimaryKeyConstraint("serial", name=op.f("pk_card_bindings")),
    )
    op.create_index(op.f("ix_card_bindings_person_id"), "card_bindings", ["person_id"], unique=False)
    op.create_table(
        "koseki_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("register_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("family_name", sa.String(length=64), nullable=False),
        sa.Column("given_name", sa.String(length=64), nullable=False),
        sa.Column("family_name_kana", sa.String(length=64), nullable=True),
        sa.Column("given_name_kana", sa.String(length=64), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("sex", sa.String(length=8), nullable=False),
        sa.Column("father", sa.String(length=64), nullable=True),
        sa.Column("mother", sa.String(length=64), nullable=True),
        sa.Column("relationship", sa.String(length=16), nullable=False),
        sa.Column("removed_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"], name=op.f("fk_koseki_members_person_id_persons")),
        sa.ForeignKeyConstraint(
            ["register_id"], ["koseki_registers.id"], name=op.f("fk_koseki_members_register_id_koseki_registers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_koseki_members")),
        sa.UniqueConstraint("register_id", "seq", name=op.f("uq_koseki_members_register_id_seq")),
    )
    op.create_index(op.f("ix_koseki_members_person_id"), "koseki_members", ["person_id"], unique=False)
    op.create_index(op.f("ix_koseki_members_register_id"), "koseki_members", ["register_id"], unique=False)
    op.create_table(
        "seal_registrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("registration_number", sa.String(length=16), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("impression_png", sa.LargeBinary(), nullable=False),
        sa.Column("impression_sha256", sa.String(length=64), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deregistered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deregistration_reason", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"], name=op.f("fk_seal_registrations_person_id_persons")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seal_registrations")),
        sa.UniqueConstraint("registration_number", name=op.f("uq_seal_registrations_registration_number")),
    )
    op.create_index(op.f("ix_seal_registrations_person_id"), "seal_registrations", ["person_id"], unique=False)
    op.create_table(
        "tax_assessments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("salary_revenue", sa.Integer(), nullable=False),
        sa.Column("income_salary", sa.Integer(), nullable=False),
        sa.Column("income_business", sa.Integer(), nullable=False),
        sa.Column("income_real_estate", sa.Integer(), nullable=False),
        sa.Column("income_pension", sa.Integer(), nullable=False),
        sa.Column("income_misc", sa.Integer(), nullable=False),
        sa.Column("income_dividend", sa.Integer(), nullable=False),
        sa.Column("deduction_basic", sa.Integer(), nullable=False),
        sa.Column("deduction_social_insurance", sa.Integer(), nullable=False),
        sa.Column("deduction_spouse", sa.Integer(), nullable=False),
        sa.Column("deduction_dependents", sa.Integer(), nullable=False),
        sa.Column("deduction_other", sa.Integer(), nullable=False),
        sa.Column("taxable_income", sa.Integer(), nullable=False),
        sa.Column("per_capita_tax", sa.Integer(), nullable=False),
        sa.Column("income_based_tax", sa.Integer(), nullable=False),
        sa.Column("exempt", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"], name=op.f("fk_tax_assessments_person_id_persons")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tax_assessments")),
        sa.UniqueConstraint("fiscal_year", "person_id", name=op.f("uq_tax_assessments_fiscal_year_person_id")),
    )
    op.create_table(
        "honseki_use_registrations",
        sa.Column("serial", sa.String(length=64), nullable=False),
        sa.Column("koseki_member_id", sa.Integer(), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["koseki_member_id"],
            ["koseki_members.id"],
            name=op.f("fk_honseki_use_registrations_koseki_member_id_koseki_members"),
        ),
        sa.PrimaryKeyConstraint("serial", name=op.f("pk_honseki_use_registrations")),
    )
    op.create_index(
        op.f("ix_honseki_use_registrations_koseki_member_id"),
        "honseki_use_registrations",
        ["koseki_member_id"],
        unique=False,
    )
    op.create_table(
        "koseki_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("event_date", sa.Date(), nullable=False),
        sa.Column("filed_on", sa.Date(), nullable=False),
        sa.Column("counterpart", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.String(length=128), nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"], ["koseki_members.id"], name=op.f("fk_koseki_events_member_id_koseki_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_koseki_events")),
    )
    op.create_index(op.f("ix_koseki_events_member_id"), "koseki_events", ["member_id"], unique=False)
    op.create_table(
        "koseki_fuhyo",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("prefecture", sa.String(length=8), nullable=False),
        sa.Column("city", sa.String(length=32), nullable=False),
        sa.Column("town", sa.String(length=32), nullable=False),
        sa.Column("chome", sa.Integer(), nullable=True),
        sa.Column("ban", sa.Integer(), nullable=False),
        sa.Column("go", sa.Integer(), nullable=True),
        sa.Column("building", sa.String(length=64), nullable=True),
        sa.Column("since", sa.Date(), nullable=False),
        sa.Column("until", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"], ["koseki_members.id"], name=op.f("fk_koseki_fuhyo_member_id_koseki_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_koseki_fuhyo")),
    )
    op.create_index(op.f("ix_koseki_fuhyo_member_id"), "koseki_fuhyo", ["member_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_koseki_fuhyo_member_id"), table_name="koseki_fuhyo")
    op.drop_table("koseki_fuhyo")
    op.drop_index(op.f("ix_koseki_events_member_id"), table_name="koseki_events")
    op.drop_table("koseki_events")
    op.drop_index(op.f("ix_honseki_use_registrations_koseki_member_id"), table_name="honseki_use_registrations")
    op.drop_table("honseki_use_registrations")
    op.drop_table("tax_assessments")
    op.drop_index(op.f("ix_seal_registrations_person_id"), table_name="seal_registrations")
    op.drop_table("seal_registrations")
    op.drop_index(op.f("ix_koseki_members_register_id"), table_name="koseki_members")
    op.drop_index(op.f("ix_koseki_members_person_id"), table_name="koseki_members")
    op.drop_table("koseki_members")
    op.drop_index(op.f("ix_card_bindings_person_id"), table_name="card_bindings")
    op.drop_table("card_bindings")
    op.drop_table("tax_snapshot_rows")
    op.drop_index(op.f("ix_persons_household_id"), table_name="persons")
    op.drop_table("persons")
    op.drop_index(op.f("ix_koseki_filings_register_id"), table_name="koseki_filings")
    op.drop_table("koseki_filings")
    op.drop_table("tax_snapshots")
    op.drop_table("koseki_registers")
    op.drop_table("households")
    op.drop_index("ix_history_aggregate", table_name="history")
    op.drop_table("history")
