"""running totals per hub and mode, and per hub, mode and specialty

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 02:45:00.000000

The hubs page summed a day's row per hub and mode (hub load) and per hub, mode and specialty (specialty mix) over the
period: running totals of the same measures answer any period with two rows per key. Created empty and unbuilt;
the ETL's refresh fills them (`arogya db upgrade` calls it), the dashboard reads the daily rollups until then.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

MEASURES = ["consultations", "n_completed", "n_referred", "n_abandoned", "n_no_show", "n_video", "n_audio", "n_chat",
            "n_outside_hours", *[f"wait_b{i:02d}" for i in range(12)]]
TABLES = {"cumulative_hub_mode_day": ["hub_id", "mode"],
          "cumulative_hub_specialty_day": ["hub_id", "mode", "specialty_code"]}
KEY_TYPES = {"hub_id": sa.String(length=40), "mode": sa.String(length=8), "specialty_code": sa.String(length=24)}


def upgrade() -> None:
    # A table a loader of this code made on an older revision (tests do) is kept: the ETL's refresh fills it.
    present = set(sa.inspect(op.get_bind()).get_table_names())
    for name, keys in TABLES.items():
        if name in present:
            continue
        op.create_table(
            name,
            sa.Column("day", sa.Date(), nullable=False),
            *[sa.Column(k, KEY_TYPES[k], nullable=False) for k in keys],
            *[sa.Column(m, sa.Integer(), server_default="0", nullable=False) for m in MEASURES],
            sa.PrimaryKeyConstraint("day", *keys, name=op.f(f"pk_{name}")),
            sqlite_with_rowid=False,
        )
    _register(list(TABLES))


def _register(names: list[str]) -> None:
    known = {row[0] for row in op.get_bind().execute(sa.text("SELECT table_name FROM cumulative_state"))}
    state = sa.table("cumulative_state", sa.column("table_name", sa.String), sa.column("built_through", sa.Date),
                     sa.column("dirty_from", sa.Date))
    rows = [{"table_name": n, "built_through": None, "dirty_from": None} for n in names if n not in known]
    if rows:
        op.bulk_insert(state, rows)


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM cumulative_state WHERE table_name IN ('cumulative_hub_mode_day', "
                       "'cumulative_hub_specialty_day')"))
    for name in reversed(list(TABLES)):
        op.drop_table(name)
