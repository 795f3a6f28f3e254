"""monthly partitions of the consultation facts and the rollups (PostgreSQL only)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 03:20:00.000000

On PostgreSQL, ``fact_consultation`` and the five rollup tables become RANGE-partitioned by month on ``day`` (data
kept), with a DEFAULT partition; the fact table's primary key becomes ``(consultation_id, day)``. A fresh database
goes through the same step with empty tables. SQLite is unchanged. See ``etl.warehouse.partitions``.
"""

from __future__ import annotations

from alembic import op

from etl.warehouse.partitions import partition_tables, unpartition_tables

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    partition_tables(op.get_bind())


def downgrade() -> None:
    unpartition_tables(op.get_bind(), {"fact_consultation": ["consultation_id"]})
