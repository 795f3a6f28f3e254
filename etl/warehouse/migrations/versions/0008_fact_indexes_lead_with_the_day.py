"""fact indexes lead with the day

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 23:20:00.000000

The fact table's (spoke_id, day), (cho_id, day) and (hub_id, day) indexes put a new day's rows at one place per
spoke, CHO and hub: a day of the state demo (about 19,000 consultations) dirtied a page of each index for nearly
every one of the 9,800 spokes and 9,200 CHOs, and the WAL checkpoint then wrote them all back. Led by the day, the
same rows land at the end of each index, a few pages. Every reader of these indexes asks for (key, day) pairs
(the rollup refresh's row-value IN, a moved facility's days looked up in the rollups first), which either order
answers; the district index keeps its order (38 districts: few places, and the line-list export reads a district's
days along it).
"""

from __future__ import annotations

from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

# old name -> (new name, new columns, old columns)
INDEXES = {
    "ix_fact_consultation_spoke_day": ("ix_fact_consultation_day_spoke", ["day", "spoke_id"], ["spoke_id", "day"]),
    "ix_fact_consultation_cho_day": ("ix_fact_consultation_day_cho", ["day", "cho_id"], ["cho_id", "day"]),
    "ix_fact_consultation_hub_day": ("ix_fact_consultation_day_hub", ["day", "hub_id"], ["hub_id", "day"]),
}


def _present() -> set[str]:
    import sqlalchemy as sa

    return {ix["name"] for ix in sa.inspect(op.get_bind()).get_indexes("fact_consultation")}


def _replace(drop: str, create: str, columns: list[str]) -> None:
    """Drop index ``drop`` and create ``create`` on ``columns``, each only if needed: a bulk load sets these indexes
    aside and puts them back at its end, so one killed in between left them out."""
    present = _present()
    if drop in present:
        op.drop_index(drop, table_name="fact_consultation")
    if create not in present:
        op.create_index(create, "fact_consultation", columns, unique=False)


def upgrade() -> None:
    for old, (new, columns, _) in INDEXES.items():
        _replace(old, new, columns)


def downgrade() -> None:
    for old, (new, _, columns) in INDEXES.items():
        _replace(new, old, columns)
