"""rollup_facility_day without its spoke-led index; the district and hub-district indexes carry mode and specialty

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 05:30:00.000000

Like the CHO rollup's CHO-led index (0016), the facility rollup's (spoke_id, day, ...) index took one page per spoke
for every new day: about 9,000 pages of the state demo written at each commit and checkpoint, most of what was left
of an incremental day's load. Its readers moved: a spoke's last day comes from the spoke running totals (one row per
spoke of the day), spoke activity in a period from the totals or from the district's rows along (district_lgd, day)
(a row carries its spoke's district), active spokes as the distinct spokes of the period's rows. The district index
gains the mode and specialty so that those reads stay within the index under a mode or specialty filter; so does the
(hub_id, district_lgd, day) index, whose per-hub and district probes ("hubs serving each district") SQLite would
otherwise trade for a walk of each district's entries once those carry the mode (9 s instead of 50 ms for the state
overview under a mode filter).
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
HUB_DISTRICT_INDEX = "ix_rollup_facility_day_hub_district_day"
HUB_DISTRICT_0004 = ["hub_id", "district_lgd", "day"]
KINDS = ["mode", "specialty_code"]


def _indexes() -> dict[str, list[str]]:
    return {str(ix["name"]): list(ix["column_names"]) for ix in sa.inspect(op.get_bind()).get_indexes(TABLE)}


def _index(name: str, columns: list[str]) -> None:
    """Index ``name`` with ``columns`` (left alone when it has them: a warehouse a loader created from today's
    schema, stamped at an older revision)."""
    present = _indexes()
    if present.get(name) == columns:
        return
    if name in present:
        op.drop_index(name, table_name=TABLE)
    op.create_index(name, TABLE, columns)


def upgrade() -> None:
    _index(DISTRICT_INDEX, [*DISTRICT_0014, *KINDS])
    _index(HUB_DISTRICT_INDEX, [*HUB_DISTRICT_0004, *KINDS])
    if SPOKE_INDEX[0] in _indexes():
        op.drop_index(SPOKE_INDEX[0], table_name=TABLE)


def downgrade() -> None:
    if SPOKE_INDEX[0] not in _indexes():
        op.create_index(SPOKE_INDEX[0], TABLE, SPOKE_INDEX[1])
    _index(HUB_DISTRICT_INDEX, HUB_DISTRICT_0004)
    _index(DISTRICT_INDEX, DISTRICT_0014)
