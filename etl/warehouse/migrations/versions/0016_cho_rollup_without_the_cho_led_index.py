"""rollup_cho_day without its CHO-led index

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 05:10:00.000000

Every new day's rows land on one page of the (cho_id, day) index per CHO: about 9,000 pages of the state demo, each
written to the WAL at commit and back into the database file at the checkpoint. On the 365-day state warehouse that
was a third of an incremental day's load (4.5 s with it, 3.0 s without). The readers it served (a CHO's last active
day, "active CHOs in the period") read the CHO running totals instead, one row per CHO of the day; while those are
stale a reader walks the district's rows along (district_lgd, day). An operator who wants the index back for stale
periods can create it (dashboard/data/activity.py RECOMMENDED_INDEXES): every reader uses it when it is there.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

CHO_INDEX = ("ix_rollup_cho_day_cho_day", ["cho_id", "day", "consultations", "district_lgd"])


def _present() -> set[str]:
    return {str(ix["name"]) for ix in sa.inspect(op.get_bind()).get_indexes("rollup_cho_day")}


def upgrade() -> None:
    if CHO_INDEX[0] in _present():
        op.drop_index(CHO_INDEX[0], table_name="rollup_cho_day")


def downgrade() -> None:
    if CHO_INDEX[0] not in _present():
        op.create_index(CHO_INDEX[0], "rollup_cho_day", CHO_INDEX[1])
