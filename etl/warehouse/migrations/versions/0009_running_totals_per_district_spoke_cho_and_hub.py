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


def _present() -> set[str]:
    return set(sa.inspect(op.get_bind()).get_table_names())


def _tables() -> dict[str, list[sa.Column | sa.PrimaryKeyConstraint]]:
    tables: dict[str, list[sa.Column | sa.PrimaryKeyConstraint]] = {
        "cumulative_district_day": [
            sa.Column("day", sa.Date(), nullable=False),
            sa.Column("district_lgd", sa.Integer(), nullable=False),
            sa.Column("specialty_code", sa.String(length=24), nullable=False),
            sa.Column("mode", sa.String(length=8), nullable=False),
            *[_measure(m) for m in MEASURES],
            sa.PrimaryKeyConstraint("day", "district_lgd", "specialty_code", "mode",
                                    name=op.f("pk_cumulative_district_day"))],
        "cumulative_hub_district_day": [
            sa.Column("day", sa.Date(), nullable=False),
            sa.Column("hub_id", sa.String(length=40), nullable=False),
            sa.Column("district_lgd", sa.Integer(), nullable=False),
            sa.Column("consultations", sa.Integer(), server_default="0", nullable=False),
            sa.PrimaryKeyConstraint("day", "hub_id", "district_lgd", name=op.f("pk_cumulative_hub_district_day"))],
    }
    for name, key in (("cumulative_spoke_day", "spoke_id"), ("cumulative_cho_day", "cho_id")):
        tables[name] = [sa.Column("day", sa.Date(), nullable=False),
                        sa.Column(key, sa.String(length=40), nullable=False),
                        *_activity(),
                        sa.PrimaryKeyConstraint("day", key, name=op.f(f"pk_{name}"))]
    return tables


def upgrade() -> None:
    # A table a loader of this code made on an older revision (tests do) is kept: the ETL's refresh fills it.
    present = _present()
    for name, parts in _tables().items():
        if name not in present:
            op.create_table(name, *parts, sqlite_with_rowid=False)
    if "cumulative_state" not in present:
        op.create_table(
            "cumulative_state",
            sa.Column("table_name", sa.String(length=64), nullable=False),
            sa.Column("built_through", sa.Date(), nullable=True),
            sa.Column("dirty_from", sa.Date(), nullable=True),
            sa.PrimaryKeyConstraint("table_name", name=op.f("pk_cumulative_state")),
        )
    known = {row[0] for row in op.get_bind().execute(sa.text("SELECT table_name FROM cumulative_state"))}
    state = sa.table("cumulative_state", sa.column("table_name", sa.String), sa.column("built_through", sa.Date),
                     sa.column("dirty_from", sa.Date))
    rows = [{"table_name": name, "built_through": None, "dirty_from": None} for name in TABLES if name not in known]
    if rows:
        op.bulk_insert(state, rows)


def downgrade() -> None:
    op.drop_table("cumulative_state")
    for name in reversed(TABLES):
        op.drop_table(name)
