-- Arogya on Citus (distributed PostgreSQL), for deployments past what one PostgreSQL server holds.
--
-- Run once on the coordinator, on an empty warehouse that `arogya db upgrade` has just created (revision 0005 or
-- later: the consultation facts and the rollups are partitioned by month), before the first load:
--
--     psql "$AROGYA_DATABASE_URL" -v ON_ERROR_STOP=1 -f docs/citus.sql
--
-- Why these columns (README, "Scaling"): every dashboard query filters the rollups by the user's districts
-- (dashboard/data/sql.py scope_clause / consult_clauses) and groups or ranks by district (overview.district_metrics);
-- a district page reads one district; the rollup refresh (etl/load/rollups.py) recomputes a spoke's, a CHO's or a
-- district's days, and a spoke and its CHOs lie in one district. So the consultation facts, the spoke, district and
-- CHO rollups, the scheme values and their rollups are distributed by district_lgd and co-located: the district and
-- state views and the refresh run shard by shard. Hub rollups are built and read per hub (hub_id IN ..., a hub serves spokes of
-- other districts, hub_district_lgd may be NULL, which a distribution column may not be), so they are distributed by
-- hub_id, co-located with the status tables, which are keyed by facility. Everything else is small or
-- bookkeeping and becomes a reference table (a copy on every node, joinable with any shard).
--
-- The statements before `CREATE EXTENSION` are plain PostgreSQL and are checked by
-- tests/integration/test_citus_ddl.py against the real schema; the Citus calls below them need the extension.

-- 1. A primary key or unique constraint of a distributed table must contain its distribution column.
--    (Rows keep their meaning: a spoke, a CHO and a scheme facility lie in one district; an event in one facility.)
ALTER TABLE fact_consultation DROP CONSTRAINT pk_fact_consultation;
ALTER TABLE fact_consultation ADD CONSTRAINT pk_fact_consultation
    PRIMARY KEY (consultation_id, day, district_lgd);
ALTER TABLE rollup_facility_day DROP CONSTRAINT pk_rollup_facility_day;
ALTER TABLE rollup_facility_day ADD CONSTRAINT pk_rollup_facility_day
    PRIMARY KEY (day, spoke_id, hub_id, mode, specialty_code, district_lgd);
ALTER TABLE rollup_cho_day DROP CONSTRAINT pk_rollup_cho_day;
ALTER TABLE rollup_cho_day ADD CONSTRAINT pk_rollup_cho_day PRIMARY KEY (day, cho_id, district_lgd);
ALTER TABLE fact_scheme_value DROP CONSTRAINT pk_fact_scheme_value;
ALTER TABLE fact_scheme_value ADD CONSTRAINT pk_fact_scheme_value
    PRIMARY KEY (facility_id, indicator_code, month, district_lgd);
ALTER TABLE scheme_package_month DROP CONSTRAINT pk_scheme_package_month;
ALTER TABLE scheme_package_month ADD CONSTRAINT pk_scheme_package_month PRIMARY KEY (month, facility_id, district_lgd);
ALTER TABLE fact_status_event DROP CONSTRAINT pk_fact_status_event;
ALTER TABLE fact_status_event ADD CONSTRAINT pk_fact_status_event PRIMARY KEY (event_id, facility_id);
-- rollup_district_day (day, district_lgd, specialty_code, mode), rollup_hub_day (day, hub_id),
-- rollup_hub_hour (day, hub_id, hour, mode), rollup_hub_mode_day (day, hub_id, mode),
-- rollup_hub_specialty_day (day, hub_id, mode, specialty_code) and current_status (facility_id) already contain
-- theirs.

CREATE EXTENSION IF NOT EXISTS citus;

-- 2. Reference tables: dimensions and bookkeeping, in foreign-key order.
SELECT create_reference_table('dim_state');
SELECT create_reference_table('dim_district');
SELECT create_reference_table('dim_block');
SELECT create_reference_table('dim_facility');
SELECT create_reference_table('dim_cho');
SELECT create_reference_table('dim_specialty');
SELECT create_reference_table('dim_scheme_indicator');
SELECT create_reference_table('etl_run');
SELECT create_reference_table('quarantine');
SELECT create_reference_table('source_watermark');
SELECT create_reference_table('audit_log');
SELECT create_reference_table('api_token');
SELECT create_reference_table('alert');
SELECT create_reference_table('app_user');
SELECT create_reference_table('data_version');
SELECT create_reference_table('cumulative_state');
SELECT create_reference_table('scheme_moved_facility');
SELECT create_reference_table('scheme_rollup_state');

-- 3. Distributed by district, co-located (the partitioned tables' monthly partitions follow their parent).
SELECT create_distributed_table('fact_consultation', 'district_lgd');
SELECT create_distributed_table('rollup_facility_day', 'district_lgd', colocate_with => 'fact_consultation');
SELECT create_distributed_table('rollup_district_day', 'district_lgd', colocate_with => 'fact_consultation');
SELECT create_distributed_table('rollup_cho_day', 'district_lgd', colocate_with => 'fact_consultation');
SELECT create_distributed_table('fact_scheme_value', 'district_lgd', colocate_with => 'fact_consultation');
SELECT create_distributed_table('cumulative_district_day', 'district_lgd', colocate_with => 'fact_consultation');
SELECT create_distributed_table('cumulative_hub_district_day', 'district_lgd', colocate_with => 'fact_consultation');
SELECT create_distributed_table('scheme_district_month', 'district_lgd', colocate_with => 'fact_consultation');
SELECT create_distributed_table('scheme_package_month', 'district_lgd', colocate_with => 'fact_consultation');

-- 4. Distributed by facility (hub) id, co-located with each other.
SELECT create_distributed_table('rollup_hub_day', 'hub_id', colocate_with => 'none');
SELECT create_distributed_table('rollup_hub_hour', 'hub_id', colocate_with => 'rollup_hub_day');
SELECT create_distributed_table('rollup_hub_mode_day', 'hub_id', colocate_with => 'rollup_hub_day');
SELECT create_distributed_table('rollup_hub_specialty_day', 'hub_id', colocate_with => 'rollup_hub_day');
SELECT create_distributed_table('current_status', 'facility_id', colocate_with => 'rollup_hub_day');
SELECT create_distributed_table('fact_status_event', 'facility_id', colocate_with => 'rollup_hub_day');
SELECT create_distributed_table('cumulative_hub_mode_day', 'hub_id', colocate_with => 'rollup_hub_day');
SELECT create_distributed_table('cumulative_hub_specialty_day', 'hub_id', colocate_with => 'rollup_hub_day');
SELECT create_distributed_table('cumulative_hub_hour_day', 'hub_id', colocate_with => 'rollup_hub_day');

-- 5. Running totals per spoke and per CHO, distributed by their key (the refresh's window partitions by it).
SELECT create_distributed_table('cumulative_spoke_day', 'spoke_id', colocate_with => 'none');
SELECT create_distributed_table('cumulative_cho_day', 'cho_id', colocate_with => 'cumulative_spoke_day');
