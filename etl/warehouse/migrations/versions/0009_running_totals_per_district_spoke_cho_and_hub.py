"""running totals per district, spoke, CHO and hub-district pair

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 03:00:00.000000

A period's totals came from one daily-rollup row per key and day: 30 days of the state demo are about 400,000
facility-rollup rows (per spoke, hub, mode and specialty) for the spoke table and the active-spoke counts, 20,000
district-rollup rows for the overview's sums. A running total per key (the totals from the key's first day through
each day, one row per key and day) answers any period with two rows per key: the row at its last day minus the row
at the day before it. The tables are created empty here and filled by the ETL's refresh (`arogya db upgrade` and
every ETL run call it); until then cumulative_state marks them unbuilt and the dashboard reads the daily rollups.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

MEASURES = ["consultations", "n_completed", "n_referred", "n_abandoned", "n_no_show", "n_sex_f", "n_sex_m",
            "n_sex_o", "n_age_0_4", "n_age_5_14", "n_age_15_29", "n_age_30_59", "n_age_60_plus", "n_video",
            "n_audio", "n_chat", "n_outside_hours", "wait_sum", "wait_n", "duration_sum", "duration_n",
            *[f"wait_b{i:02d}" for i in range(12)]]
FLOATS = {"wait_sum", "duration_sum"}
TABLES = ("cumulative_district_day", "cumulative_spoke_day", "cumulative_cho_day", "cumulative_hub_district_day")


def _measure(name: str) -> sa.Column:
    kind = sa.Float() if name in FLOATS else sa.Integer()
    return sa.Column(name, kind, server_default="0", nullable=False)


def _activity() -> list[sa.Column]:
    return [sa.Column("consultations", sa.Integer(), server_default="0", nullable=False),
            sa.Column("active_days", sa.Integer(), server_default="0", nullable=False),
            sa.Column("last_day", sa.Date(), nullable=True)]


def upgrade() -> None:
    op.create_table(
        "cumulative_district_day",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("district_lgd", sa.Integer(), nullable=False),
        sa.Column("specialty_code", sa.String(length=24), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        *[_measure(m) for m in MEASURES],
        sa.PrimaryKeyConstraint("day", "district_lgd", "specialty_code", "mode",
                                name=op.f("pk_cumulative_district_day")),
        sqlite_with_rowid=False,
    )
    for name, key in (("cumulative_spoke_day", "spoke_id"), ("cumulative_cho_day", "cho_id")):
        op.create_table(
            name,
            sa.Column("day", sa.Date(), nullable=False),
            sa.Column(key, sa.String(length=40), nullable=False),
            *_activity(),
            sa.PrimaryKeyConstraint("day", key, name=op.f(f"pk_{name}")),
            sqlite_with_rowid=False,
        )
    op.create_table(
        "cumulative_hub_district_day",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("hub_id", sa.String(length=40), nullable=False),
        sa.Column("district_lgd", sa.Integer(), nullable=False),
        sa.Column("consultations", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("day", "hub_id", "district_lgd", name=op.f("pk_cumulative_hub_district_day")),
        sqlite_with_rowid=False,
    )
    state = op.create_table(
        "cumulative_state",
        sa.Column("table_name", sa.String(length=64), nullable=False),
        sa.Column("built_through", sa.Date(), nullable=True),
        sa.Column("dirty_from", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("table_name", name=op.f("pk_cumulative_state")),
    )
    op.bulk_insert(state, [{"table_name": name, "built_through": None, "dirty_from": None} for name in TABLES])


def downgrade() -> None:
    op.drop_table("cumulative_state")
    for name in reversed(TABLES):
        op.drop_table(name)
