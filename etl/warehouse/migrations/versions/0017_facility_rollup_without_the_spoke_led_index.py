"""rollup_facility_day without its spoke-led index; the district index carries mode and specialty

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 05:30:00.000000

Like the CHO rollup's CHO-led index (0016), the facility rollup's (spoke_id, day, ...) index took one page per spoke
for every new day: about 9,000 pages of the state demo written at each commit and checkpoint, most of what was left
of an incremental day's load. Its readers moved: a spoke's last day comes from the spoke running totals (one row per
spoke of the day), spoke activity in a period from the totals or from the district's rows along (district_lgd, day)
(a row carries its spoke's district), active spokes as the distinct spokes of the period's rows. The district index
gains the mode and specialty so that those reads stay within the index under a mode or specialty filter.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

TABLE = "rollup_facility_day"
SPOKE_INDEX = ("ix_rollup_facility_day_spoke_day",
               ["spoke_id", "day", "mode", "specialty_code", "district_lgd", "consultations"])
DISTRICT_INDEX = "ix_rollup_facility_day_district_day"
DISTRICT_0014 = ["district_lgd", "day", "hub_id", "spoke_id", "hub_district_lgd", "consultations"]
DISTRICT_0017 = [*DISTRICT_0014, "mode", "specialty_code"]


def _indexes() -> dict[str, list[str]]:
    return {str(ix["name"]): list(ix["column_names"]) for ix in sa.inspect(op.get_bind()).get_indexes(TABLE)}


def _district_index(columns: list[str]) -> None:
    """The district index with ``columns`` (left alone when it has them: a warehouse a loader created from today's
    schema, stamped at an older revision)."""
    present = _indexes()
    if present.get(DISTRICT_INDEX) == columns:
        return
    if DISTRICT_INDEX in present:
        op.drop_index(DISTRICT_INDEX, table_name=TABLE)
    op.create_index(DISTRICT_INDEX, TABLE, columns)


def upgrade() -> None:
    _district_index(DISTRICT_0017)
    if SPOKE_INDEX[0] in _indexes():
        op.drop_index(SPOKE_INDEX[0], table_name=TABLE)


def downgrade() -> None:
    if SPOKE_INDEX[0] not in _indexes():
        op.create_index(SPOKE_INDEX[0], TABLE, SPOKE_INDEX[1])
    _district_index(DISTRICT_0014)
