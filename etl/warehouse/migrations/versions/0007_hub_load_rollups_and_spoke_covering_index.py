"""hub load rollups without the spoke; spoke activity read from a covering index

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 19:45:00.000000

The hubs page summed every facility-rollup row of the period (one per spoke, hub, day, mode and specialty: about
400,000 rows for 30 days of the state demo) to get each hub's load and the specialty mix. Two rollups of the same
counts without the spoke answer those from a seventeenth (per hub, day and mode) or a quarter (per hub, day, mode
and specialty) of the rows; they are filled here from the facility rollup and kept by the ETL like the others.

The spoke index of the facility rollup gains the columns spoke activity reads after the day (mode, specialty,
district, consultations): consultations and active days per spoke, a spoke's last day and "did it consult" read the
index only, not the wide rows. Same name, same leading columns, so every plan that used it still does. Likewise
the CHO index of the CHO rollup gains consultations and district (the roster's activity and last active day).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

WAIT_BUCKETS = [f"wait_b{i:02d}" for i in range(12)]
MEASURES = ["consultations", "n_completed", "n_referred", "n_abandoned", "n_no_show", "n_video", "n_audio", "n_chat",
            "n_outside_hours", *WAIT_BUCKETS]
TABLES = {"rollup_hub_mode_day": ["day", "hub_id", "mode"],
          "rollup_hub_specialty_day": ["day", "hub_id", "mode", "specialty_code"]}
KEY_TYPES = {"day": sa.Date(), "hub_id": sa.String(length=40), "mode": sa.String(length=8),
             "specialty_code": sa.String(length=24)}
SPOKE_INDEX = "ix_rollup_facility_day_spoke_day"
SPOKE_COVERING = ["spoke_id", "day", "mode", "specialty_code", "district_lgd", "consultations"]
CHO_INDEX = "ix_rollup_cho_day_cho_day"
CHO_COVERING = ["cho_id", "day", "consultations", "district_lgd"]


def upgrade() -> None:
    present = set(sa.inspect(op.get_bind()).get_table_names())
    for name, keys in TABLES.items():
        if name in present:  # made by a loader of this code on an older revision (tests do): filled again below
            op.execute(f"DELETE FROM {name}")
            continue
        op.create_table(
            name,
            *[sa.Column(k, KEY_TYPES[k], nullable=False) for k in keys],
            sa.Column("hub_district_lgd", sa.Integer(), nullable=True),
            *[sa.Column(m, sa.Integer(), server_default="0", nullable=False) for m in MEASURES],
            sa.PrimaryKeyConstraint(*keys, name=op.f(f"pk_{name}")),
            sqlite_with_rowid=False,
        )
    for name, keys in TABLES.items():
        # Filled from the facility rollup: the same sums the ETL makes for every (hub, day) a load touches.
        columns = ", ".join(keys)
        sums = ", ".join(f"sum({m})" for m in MEASURES)
        op.execute(f"INSERT INTO {name} ({columns}, hub_district_lgd, {', '.join(MEASURES)}) "
                   f"SELECT {columns}, max(hub_district_lgd), {sums} FROM rollup_facility_day GROUP BY {columns}")
    with op.batch_alter_table("rollup_facility_day", schema=None) as batch_op:
        batch_op.drop_index(SPOKE_INDEX)
        batch_op.create_index(SPOKE_INDEX, SPOKE_COVERING, unique=False)
    with op.batch_alter_table("rollup_cho_day", schema=None) as batch_op:
        batch_op.drop_index(CHO_INDEX)
        batch_op.create_index(CHO_INDEX, CHO_COVERING, unique=False)


def downgrade() -> None:
    with op.batch_alter_table("rollup_cho_day", schema=None) as batch_op:
        batch_op.drop_index(CHO_INDEX)
        batch_op.create_index(CHO_INDEX, ["cho_id", "day"], unique=False)
    with op.batch_alter_table("rollup_facility_day", schema=None) as batch_op:
        batch_op.drop_index(SPOKE_INDEX)
        batch_op.create_index(SPOKE_INDEX, ["spoke_id", "day"], unique=False)
    for name in TABLES:
        op.drop_table(name)
