"""running totals per hub, hour of day and mode, by weekday

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 03:00:00.000000

The hour x weekday heatmap summed the hourly hub rollup row by row over the period (about 240,000 rows for 30 days
of the state demo). Running totals per hub, hour and mode, with one column per weekday, answer it from two rows per
key. Created empty and unbuilt; the ETL's refresh fills it (`arogya db upgrade` calls it).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

WEEKDAYS = [f"weekday_{i}" for i in range(7)]


def upgrade() -> None:
    # A table a loader of this code made on an older revision (tests do) is kept: the ETL's refresh fills it.
    if "cumulative_hub_hour_day" in set(sa.inspect(op.get_bind()).get_table_names()):
        _register(["cumulative_hub_hour_day"])
        return
    op.create_table(
        "cumulative_hub_hour_day",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("hub_id", sa.String(length=40), nullable=False),
        sa.Column("hour", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        *[sa.Column(w, sa.Integer(), server_default="0", nullable=False) for w in WEEKDAYS],
        sa.PrimaryKeyConstraint("day", "hub_id", "hour", "mode", name=op.f("pk_cumulative_hub_hour_day")),
        sqlite_with_rowid=False,
    )
    _register(["cumulative_hub_hour_day"])


def _register(names: list[str]) -> None:
    known = {row[0] for row in op.get_bind().execute(sa.text("SELECT table_name FROM cumulative_state"))}
    state = sa.table("cumulative_state", sa.column("table_name", sa.String), sa.column("built_through", sa.Date),
                     sa.column("dirty_from", sa.Date))
    rows = [{"table_name": n, "built_through": None, "dirty_from": None} for n in names if n not in known]
    if rows:
        op.bulk_insert(state, rows)


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM cumulative_state WHERE table_name = 'cumulative_hub_hour_day'"))
    op.drop_table("cumulative_hub_hour_day")
