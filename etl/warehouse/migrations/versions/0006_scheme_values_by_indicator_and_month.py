"""scheme values by indicator and month (covering index)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 03:40:00.000000

The scheme page reads one indicator (achievement, trend, map) or the package flags over a few months; without this
index every such query scanned the whole of ``fact_scheme_value``. The index holds every column those queries read,
so they never touch the table.
"""

from __future__ import annotations

from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

COLUMNS = ["indicator_code", "month", "district_lgd", "block_lgd", "facility_id", "value", "target"]


def upgrade() -> None:
    op.create_index("ix_fact_scheme_value_indicator_month", "fact_scheme_value", COLUMNS, unique=False)


def downgrade() -> None:
    op.drop_index("ix_fact_scheme_value_indicator_month", table_name="fact_scheme_value")
