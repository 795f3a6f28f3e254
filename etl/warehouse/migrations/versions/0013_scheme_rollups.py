"""scheme rollups: values per indicator, month and district, and the package flags per centre and month

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 05:30:00.000000

The scheme page summed fact_scheme_value row by row: its indicator catalogue read some 280,000 index entries for two
months of the state demo (a distinct count of centres over them), the package grid pivoted 113,000 flag rows. Sums
per indicator, month and district (with each facility's previous month reported, which makes the centres of a period
a sum too) and the flags pivoted per centre and month answer them from a few thousand rows. Created empty and
unbuilt; the ETL's refresh fills them (`arogya db upgrade` calls it), the dashboard reads the facts until then.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

PACKAGES = [f"pkg_{k:02d}" for k in range(1, 13)]
ROLLUPS = ("scheme_district_month", "scheme_package_month")


def upgrade() -> None:
    # A table a loader of this code made on an older revision (tests do) is kept: the ETL's refresh fills it.
    present = set(sa.inspect(op.get_bind()).get_table_names())
    if "scheme_district_month" not in present:
        op.create_table(
            "scheme_district_month",
            sa.Column("indicator_code", sa.String(length=40), nullable=False),
            sa.Column("month", sa.Date(), nullable=False),
            sa.Column("district_lgd", sa.Integer(), autoincrement=False, nullable=False),
            sa.Column("prev_month", sa.Date(), nullable=False),
            sa.Column("facilities", sa.Integer(), nullable=False),
            sa.Column("value", sa.Float(), nullable=False),
            sa.Column("value_with_target", sa.Float(), nullable=False),
            sa.Column("target", sa.Float(), nullable=True),
            sa.PrimaryKeyConstraint("indicator_code", "month", "district_lgd", "prev_month",
                                    name=op.f("pk_scheme_district_month")),
            sqlite_with_rowid=False,
        )
    if "scheme_moved_facility" not in present:
        op.create_table(
            "scheme_moved_facility",
            sa.Column("facility_id", sa.String(length=40), nullable=False),
            sa.PrimaryKeyConstraint("facility_id", name=op.f("pk_scheme_moved_facility")),
        )
    if "scheme_package_month" not in present:
        op.create_table(
            "scheme_package_month",
            sa.Column("month", sa.Date(), nullable=False),
            sa.Column("facility_id", sa.String(length=40), nullable=False),
            sa.Column("district_lgd", sa.Integer(), nullable=False),
            sa.Column("block_lgd", sa.Integer(), nullable=True),
            *[sa.Column(name, sa.Integer(), nullable=True) for name in PACKAGES],
            sa.PrimaryKeyConstraint("month", "facility_id", name=op.f("pk_scheme_package_month")),
            sqlite_with_rowid=False,
        )
        op.create_index("ix_scheme_package_month_facility_month", "scheme_package_month",
                        ["facility_id", "month", "district_lgd", "block_lgd"])
    if "scheme_rollup_state" not in present:
        op.create_table(
            "scheme_rollup_state",
            sa.Column("table_name", sa.String(length=64), nullable=False),
            sa.Column("built_through", sa.Date(), nullable=True),
            sa.Column("dirty_from", sa.Date(), nullable=True),
            sa.Column("packages", sa.Text(), nullable=True),
            sa.PrimaryKeyConstraint("table_name", name=op.f("pk_scheme_rollup_state")),
        )
    known = {row[0] for row in op.get_bind().execute(sa.text("SELECT table_name FROM scheme_rollup_state"))}
    state = sa.table("scheme_rollup_state", sa.column("table_name", sa.String), sa.column("dirty_from", sa.Date))
    # Unbuilt: stale from before any month (etl.load.scheme_rollups.UNBUILT).
    rows = [{"table_name": name, "dirty_from": date(1900, 1, 1)} for name in ROLLUPS if name not in known]
    if rows:
        op.bulk_insert(state, rows)


def downgrade() -> None:
    op.drop_table("scheme_rollup_state")
    op.drop_index("ix_scheme_package_month_facility_month", table_name="scheme_package_month")
    op.drop_table("scheme_package_month")
    op.drop_table("scheme_moved_facility")
    op.drop_table("scheme_district_month")
