"""The warehouse: a star schema, identical on SQLite and PostgreSQL (SQLAlchemy Core).

Times are stored as naive timestamps in IST (Asia/Kolkata has no daylight saving, so this is unambiguous and
makes "the day" of a consultation a plain date column). Patient identifiers never appear here: only HMAC tokens.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from etl.warehouse.histogram import WAIT_BUCKET_COLUMNS

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING)

AGE_BANDS: tuple[tuple[str, int, int], ...] = (
    ("age_0_4", 0, 4),
    ("age_5_14", 5, 14),
    ("age_15_29", 15, 29),
    ("age_30_59", 30, 59),
    ("age_60_plus", 60, 120),
)
OUTCOMES: tuple[str, ...] = ("completed", "referred", "abandoned", "no_show")
MODES: tuple[str, ...] = ("ABHWC", "OPD")
CHANNELS: tuple[str, ...] = ("video", "audio", "chat")
SEXES: tuple[str, ...] = ("F", "M", "O")
FACILITY_TYPES: tuple[str, ...] = ("SC", "PHC", "UPHC", "CHC", "SDH", "DH", "MC")
FACILITY_ROLES: tuple[str, ...] = ("hub", "spoke")
STATUS_KINDS: tuple[str, ...] = ("heartbeat", "session_start", "session_end", "outage", "recovery")

# ---------------------------------------------------------------- dimensions

dim_state = Table(
    "dim_state",
    metadata,
    Column("state_lgd", Integer, primary_key=True, autoincrement=False),
    Column("name_en", String(80), nullable=False),
    Column("name_hi", String(80), nullable=False, server_default=""),
)

dim_district = Table(
    "dim_district",
    metadata,
    Column("district_lgd", Integer, primary_key=True, autoincrement=False),
    Column("census2011", Integer, nullable=True, unique=True),
    Column("state_lgd", Integer, ForeignKey("dim_state.state_lgd"), nullable=False, index=True),
    Column("name_en", String(80), nullable=False),
    Column("name_hi", String(80), nullable=False, server_default=""),
)

dim_block = Table(
    "dim_block",
    metadata,
    Column("block_lgd", Integer, primary_key=True, autoincrement=False),
    Column("district_lgd", Integer, ForeignKey("dim_district.district_lgd"), nullable=False, index=True),
    Column("name_en", String(80), nullable=False),
    Column("name_hi", String(80), nullable=False, server_default=""),
)

dim_facility = Table(
    "dim_facility",
    metadata,
    Column("facility_id", String(40), primary_key=True),
    Column("name", String(160), nullable=False),
    Column("facility_type", String(8), nullable=False),
    Column("role", String(8), nullable=False),
    Column("district_lgd", Integer, ForeignKey("dim_district.district_lgd"), nullable=False, index=True),
    Column("block_lgd", Integer, ForeignKey("dim_block.block_lgd"), nullable=True, index=True),
    Column("lat", Float, nullable=True),
    Column("lon", Float, nullable=True),
    # For a spoke: the hub it is assigned to (may lie in another district). Not a foreign key: masters arrive
    # in any order and a hub may be named before its own row loads.
    Column("hub_id", String(40), nullable=True, index=True),
    Column("operational_since", Date, nullable=True),
    Column("service_start", String(5), nullable=False, server_default="09:00"),
    Column("service_end", String(5), nullable=False, server_default="16:00"),
    # Days of the week served, Monday first: "1111111" is every day.
    Column("service_days", String(7), nullable=False, server_default="1111111"),
    Column("updated_run_id", Integer, nullable=True),
)

dim_cho = Table(
    "dim_cho",
    metadata,
    Column("cho_id", String(40), primary_key=True),
    Column("name", String(120), nullable=False),
    Column("facility_id", String(40), nullable=False, index=True),
    Column("district_lgd", Integer, nullable=False, index=True),
    Column("block_lgd", Integer, nullable=True),
    Column("joined_on", Date, nullable=True),
    Column("laptop_issued_on", Date, nullable=True),
    Column("training_modules", Integer, nullable=False, server_default="0"),
    Column("active", Boolean, nullable=False, server_default="1"),
    Column("updated_run_id", Integer, nullable=True),
)

dim_specialty = Table(
    "dim_specialty",
    metadata,
    Column("specialty_code", String(24), primary_key=True),
    Column("name_en", String(80), nullable=False),
    Column("name_hi", String(80), nullable=False, server_default=""),
)

dim_scheme_indicator = Table(
    "dim_scheme_indicator",
    metadata,
    Column("indicator_code", String(40), primary_key=True),
    Column("name_en", String(120), nullable=False),
    Column("name_hi", String(120), nullable=False, server_default=""),
    Column("unit", String(20), nullable=False, server_default="count"),
    # Service package (1..12) the indicator belongs to, if any.
    Column("package", Integer, nullable=True),
)

# ---------------------------------------------------------------- facts

fact_consultation = Table(
    "fact_consultation",
    metadata,
    Column("consultation_id", String(64), primary_key=True),
    Column("started_at", DateTime, nullable=False),
    Column("ended_at", DateTime, nullable=True),
    Column("day", Date, nullable=False),
    Column("hour", Integer, nullable=False),
    Column("spoke_id", String(40), nullable=False),
    Column("hub_id", String(40), nullable=False),
    Column("district_lgd", Integer, nullable=False),
    Column("block_lgd", Integer, nullable=True),
    Column("hub_district_lgd", Integer, nullable=True),
    Column("cho_id", String(40), nullable=True),
    Column("doctor_token", String(24), nullable=True),
    Column("specialty_code", String(24), nullable=False),
    Column("mode", String(8), nullable=False),
    Column("channel", String(8), nullable=False),
    Column("outcome", String(12), nullable=False),
    Column("wait_minutes", Float, nullable=True),
    Column("duration_minutes", Float, nullable=True),
    Column("patient_token", String(64), nullable=True),
    Column("age", Integer, nullable=False),
    Column("sex", String(1), nullable=False),
    Column("outside_hours", Boolean, nullable=False, server_default="0"),
    Column("run_id", Integer, nullable=False),
)
# Led by the day (migration 0008): a new day's rows land at the end of each index, not at one page per spoke, CHO
# and hub. Readers ask for (key, day) pairs, which either order answers.
Index("ix_fact_consultation_day_spoke", fact_consultation.c.day, fact_consultation.c.spoke_id)
Index("ix_fact_consultation_district_day", fact_consultation.c.district_lgd, fact_consultation.c.day)
Index("ix_fact_consultation_day_cho", fact_consultation.c.day, fact_consultation.c.cho_id)
Index("ix_fact_consultation_day_hub", fact_consultation.c.day, fact_consultation.c.hub_id)

fact_scheme_value = Table(
    "fact_scheme_value",
    metadata,
    Column("facility_id", String(40), primary_key=True),
    Column("indicator_code", String(40), primary_key=True),
    Column("month", Date, primary_key=True),
    Column("district_lgd", Integer, nullable=False, index=True),
    Column("block_lgd", Integer, nullable=True),
    Column("value", Float, nullable=False),
    Column("target", Float, nullable=True),
    Column("run_id", Integer, nullable=False),
)

# One indicator (or the package flags) over a few months, read from the index alone (migration 0006).
Index("ix_fact_scheme_value_indicator_month", fact_scheme_value.c.indicator_code, fact_scheme_value.c.month,
      fact_scheme_value.c.district_lgd, fact_scheme_value.c.block_lgd, fact_scheme_value.c.facility_id,
      fact_scheme_value.c.value, fact_scheme_value.c.target)

# ---------------------------------------------------------------- scheme rollups

# Kept by the ETL from fact_scheme_value (etl.load.scheme_rollups); scheme_rollup_state says whether each is complete
# or made stale by a load since, and a reader uses a table only when it is complete (else it reads the facts).
#
# Scheme values per indicator, month and district, split by the month each facility last reported the indicator
# before (``prev_month``; the row's own month when never): over months m1..m2 the facilities with ``prev_month``
# before m1 (or equal to their month) are those reporting it for the first time in the period, so the centres of a
# period are a sum, like the values.
scheme_district_month = Table(
    "scheme_district_month",
    metadata,
    Column("indicator_code", String(40), primary_key=True),
    Column("month", Date, primary_key=True),
    Column("district_lgd", Integer, primary_key=True),
    Column("prev_month", Date, primary_key=True),
    Column("facilities", Integer, nullable=False),
    Column("value", Float, nullable=False),
    Column("value_with_target", Float, nullable=False),  # the values of the rows that have a target
    Column("target", Float, nullable=True),
    sqlite_with_rowid=False,
)

# Facilities whose scheme rows lie in more than one place (a facility that moved between loads keeps its earlier
# rows' district and block): an indicator's rows in two districts, or one month's package flags in two districts or
# blocks. The scheme rollups leave them out; readers take them from the facts.
scheme_moved_facility = Table(
    "scheme_moved_facility",
    metadata,
    Column("facility_id", String(40), primary_key=True),
)

# The service-package flags (indicators of unit ``flag``) pivoted to one row per month and facility (1 offered,
# 0 not, NULL not reported), by the indicator -> package map scheme_rollup_state.packages records.
PACKAGE_FLAG_COLUMNS: tuple[str, ...] = tuple(f"pkg_{k:02d}" for k in range(1, 13))
scheme_package_month = Table(
    "scheme_package_month",
    metadata,
    Column("month", Date, primary_key=True),
    Column("facility_id", String(40), primary_key=True),
    Column("district_lgd", Integer, nullable=False),
    Column("block_lgd", Integer, nullable=True),
    *[Column(name, Integer, nullable=True) for name in PACKAGE_FLAG_COLUMNS],
    sqlite_with_rowid=False,
)
# A centre's later months, for "its latest month in the window" (a seek per centre, not a scan of later months).
Index("ix_scheme_package_month_facility_month", scheme_package_month.c.facility_id, scheme_package_month.c.month,
      scheme_package_month.c.district_lgd, scheme_package_month.c.block_lgd)

scheme_rollup_state = Table(
    "scheme_rollup_state",
    metadata,
    Column("table_name", String(64), primary_key=True),
    # The facts' latest month when last refreshed; NULL: never built (or no facts then).
    Column("built_through", Date, nullable=True),
    # A load changed facts of this month or later since (1900-01-01: never built): stale until the next refresh.
    Column("dirty_from", Date, nullable=True),
    # scheme_package_month only: the indicator -> package map it was built with ("PKG_01:1,PKG_02:2,...").
    Column("packages", Text, nullable=True),
)

fact_status_event = Table(
    "fact_status_event",
    metadata,
    Column("event_id", String(64), primary_key=True),
    Column("facility_id", String(40), nullable=False),
    Column("event_time", DateTime, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("doctors_online", Integer, nullable=True),
    Column("queue_length", Integer, nullable=True),
    Column("connectivity", String(16), nullable=True),
    Column("received_at", DateTime, nullable=False),
    Column("source", String(64), nullable=False, server_default="etl"),
)
Index("ix_fact_status_event_facility_time", fact_status_event.c.facility_id, fact_status_event.c.event_time)

current_status = Table(
    "current_status",
    metadata,
    Column("facility_id", String(40), primary_key=True),
    Column("event_id", String(64), nullable=False),
    Column("event_time", DateTime, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("doctors_online", Integer, nullable=True),
    Column("queue_length", Integer, nullable=True),
    Column("connectivity", String(16), nullable=True),
    Column("received_at", DateTime, nullable=False),
)

# ---------------------------------------------------------------- rollups


def _measure_columns() -> list[Column]:
    cols: list[Column] = [Column("consultations", Integer, nullable=False, server_default="0")]
    cols += [Column(f"n_{o}", Integer, nullable=False, server_default="0") for o in OUTCOMES]
    cols += [Column(f"n_sex_{s.lower()}", Integer, nullable=False, server_default="0") for s in SEXES]
    cols += [Column(f"n_{band}", Integer, nullable=False, server_default="0") for band, _, _ in AGE_BANDS]
    cols += [Column(f"n_{c}", Integer, nullable=False, server_default="0") for c in CHANNELS]
    cols += [
        Column("n_outside_hours", Integer, nullable=False, server_default="0"),
        Column("wait_sum", Float, nullable=False, server_default="0"),
        Column("wait_n", Integer, nullable=False, server_default="0"),
        Column("duration_sum", Float, nullable=False, server_default="0"),
        Column("duration_n", Integer, nullable=False, server_default="0"),
    ]
    cols += [Column(name, Integer, nullable=False, server_default="0") for name in WAIT_BUCKET_COLUMNS]
    return cols


# One row per spoke, hub, day, mode and specialty: spoke activity sums over hubs, hub load sums over spokes and
# the hub→spoke network reads the pairs directly. District and block are the spoke's.
rollup_facility_day = Table(
    "rollup_facility_day",
    metadata,
    Column("day", Date, primary_key=True),
    Column("spoke_id", String(40), primary_key=True),
    Column("hub_id", String(40), primary_key=True),
    Column("mode", String(8), primary_key=True),
    Column("specialty_code", String(24), primary_key=True),
    Column("district_lgd", Integer, nullable=False),
    Column("block_lgd", Integer, nullable=True),
    Column("hub_district_lgd", Integer, nullable=True),
    *_measure_columns(),
)
# The district and hub indexes carry the hub→spoke pair and its consultations after the day: a district's network
# (its spokes' rows and its hubs' rows) reads only them, not the wide rows (migration 0014). The district index also
# carries the mode and specialty (migration 0017): a spoke's rows carry its district, so spoke activity under any
# filter reads the district's entries of the period, not the wide rows. There is no spoke-led index: a new day would
# write one of its pages per spoke; a spoke's last day comes from the spoke running totals.
Index("ix_rollup_facility_day_district_day", rollup_facility_day.c.district_lgd, rollup_facility_day.c.day,
      rollup_facility_day.c.hub_id, rollup_facility_day.c.spoke_id, rollup_facility_day.c.hub_district_lgd,
      rollup_facility_day.c.consultations, rollup_facility_day.c.mode, rollup_facility_day.c.specialty_code)
Index("ix_rollup_facility_day_hub_day", rollup_facility_day.c.hub_id, rollup_facility_day.c.day,
      rollup_facility_day.c.spoke_id, rollup_facility_day.c.district_lgd, rollup_facility_day.c.hub_district_lgd,
      rollup_facility_day.c.consultations)
# "Which hubs served district d in the period" without reading every row of the period (state overview); with the
# mode and specialty after the day (migration 0017), also under those filters from the index alone.
Index("ix_rollup_facility_day_hub_district_day", rollup_facility_day.c.hub_id, rollup_facility_day.c.district_lgd,
      rollup_facility_day.c.day, rollup_facility_day.c.mode, rollup_facility_day.c.specialty_code)

rollup_district_day = Table(
    "rollup_district_day",
    metadata,
    Column("day", Date, primary_key=True),
    Column("district_lgd", Integer, primary_key=True),
    Column("specialty_code", String(24), primary_key=True),
    Column("mode", String(8), primary_key=True),
    *_measure_columns(),
)

# Covering the day-by-day series (the overview's trend and sparklines, the comparison's lines): they read
# (day, district, mode, consultations) from this narrow index, not the wide rows (migration 0012).
Index("ix_rollup_district_day_day_series", rollup_district_day.c.day, rollup_district_day.c.district_lgd,
      rollup_district_day.c.mode, rollup_district_day.c.specialty_code, rollup_district_day.c.consultations)

rollup_cho_day = Table(
    "rollup_cho_day",
    metadata,
    Column("day", Date, primary_key=True),
    Column("cho_id", String(40), primary_key=True),
    Column("facility_id", String(40), nullable=False),
    Column("district_lgd", Integer, nullable=False),
    Column("consultations", Integer, nullable=False, server_default="0"),
)
Index("ix_rollup_cho_day_district_day", rollup_cho_day.c.district_lgd, rollup_cho_day.c.day)
# No CHO-led index (migration 0016): a new day would write one of its pages per CHO. A CHO's last active day and
# its activity in a period come from the CHO running totals (cumulative_cho_day), keyed by the day.

# Hub load by hour of day (the hour x weekday heatmap, consultations outside service hours) and the distinct doctors
# who served at a hub each day. Maintained for the (hub, day) keys a load touched.
rollup_hub_hour = Table(
    "rollup_hub_hour",
    metadata,
    Column("day", Date, primary_key=True),
    Column("hub_id", String(40), primary_key=True),
    Column("hour", Integer, primary_key=True, autoincrement=False),
    Column("mode", String(8), primary_key=True),
    Column("hub_district_lgd", Integer, nullable=True),
    Column("consultations", Integer, nullable=False, server_default="0"),
)
Index("ix_rollup_hub_hour_district_day", rollup_hub_hour.c.hub_district_lgd, rollup_hub_hour.c.day)

rollup_hub_day = Table(
    "rollup_hub_day",
    metadata,
    Column("day", Date, primary_key=True),
    Column("hub_id", String(40), primary_key=True),
    Column("hub_district_lgd", Integer, nullable=True),
    Column("consultations", Integer, nullable=False, server_default="0"),
    Column("doctors", Integer, nullable=False, server_default="0"),
)
Index("ix_rollup_hub_day_district_day", rollup_hub_day.c.hub_district_lgd, rollup_hub_day.c.day)
# The days each hub served in a period, with its doctors, from the index alone and one range per hub (hub load;
# migration 0015).
Index("ix_rollup_hub_day_hub_cover", rollup_hub_day.c.hub_id, rollup_hub_day.c.day, rollup_hub_day.c.hub_district_lgd,
      rollup_hub_day.c.consultations, rollup_hub_day.c.doctors)

# Hub load without the spoke: what the hubs page sums per hub (counts by outcome and channel, outside hours, the wait
# histogram), per hub, day and mode (about a seventeenth of the facility rollup's rows) and per hub, day, mode and
# specialty (a quarter), so the page never reads the facility rollup's rows of the whole state. Built from the
# facility rollup for the (hub, day) keys a load touched. Clustered by the key on SQLite (WITHOUT ROWID): a day range
# is one contiguous read.
HUB_MEASURES: tuple[str, ...] = ("consultations", *(f"n_{o}" for o in OUTCOMES), *(f"n_{c}" for c in CHANNELS),
                                 "n_outside_hours", *WAIT_BUCKET_COLUMNS)


def _hub_measure_columns() -> list[Column]:
    return [Column(name, Integer, nullable=False, server_default="0") for name in HUB_MEASURES]


rollup_hub_mode_day = Table(
    "rollup_hub_mode_day",
    metadata,
    Column("day", Date, primary_key=True),
    Column("hub_id", String(40), primary_key=True),
    Column("mode", String(8), primary_key=True),
    Column("hub_district_lgd", Integer, nullable=True),
    *_hub_measure_columns(),
    sqlite_with_rowid=False,
)

rollup_hub_specialty_day = Table(
    "rollup_hub_specialty_day",
    metadata,
    Column("day", Date, primary_key=True),
    Column("hub_id", String(40), primary_key=True),
    Column("mode", String(8), primary_key=True),
    Column("specialty_code", String(24), primary_key=True),
    Column("hub_district_lgd", Integer, nullable=True),
    *_hub_measure_columns(),
    sqlite_with_rowid=False,
)

# ---------------------------------------------------------------- running totals

# A running total per key: one row for every day from the key's first consultation to the last day the rollups hold,
# with the totals from that first day through the row's day. A period's total is the row at its last day minus the
# row at the day before it: two rows per key whatever the period's length (the daily rollups need one row per key
# and day). Kept by the ETL after each run (etl.load.cumulative); cumulative_state says through which day each is
# complete and from which day a load has made it stale, and a reader uses a table only when it is not stale.
cumulative_district_day = Table(
    "cumulative_district_day",
    metadata,
    Column("day", Date, primary_key=True),
    Column("district_lgd", Integer, primary_key=True),
    Column("specialty_code", String(24), primary_key=True),
    Column("mode", String(8), primary_key=True),
    *_measure_columns(),
    sqlite_with_rowid=False,
)


def _activity_columns() -> list[Column]:
    return [Column("consultations", Integer, nullable=False, server_default="0"),
            Column("active_days", Integer, nullable=False, server_default="0"),
            Column("last_day", Date, nullable=True)]


# Per spoke (all hubs, modes and specialties): consultations, days with a consultation, the last such day.
cumulative_spoke_day = Table(
    "cumulative_spoke_day",
    metadata,
    Column("day", Date, primary_key=True),
    Column("spoke_id", String(40), primary_key=True),
    *_activity_columns(),
    sqlite_with_rowid=False,
)

cumulative_cho_day = Table(
    "cumulative_cho_day",
    metadata,
    Column("day", Date, primary_key=True),
    Column("cho_id", String(40), primary_key=True),
    *_activity_columns(),
    sqlite_with_rowid=False,
)

# Per hub and the district of the spokes it answered: "hubs serving" a district in a period.
cumulative_hub_district_day = Table(
    "cumulative_hub_district_day",
    metadata,
    Column("day", Date, primary_key=True),
    Column("hub_id", String(40), primary_key=True),
    Column("district_lgd", Integer, primary_key=True),
    Column("consultations", Integer, nullable=False, server_default="0"),
    sqlite_with_rowid=False,
)

# Per hub and mode, and per hub, mode and specialty: the hub load measures (the hubs page's load and specialty mix).
cumulative_hub_mode_day = Table(
    "cumulative_hub_mode_day",
    metadata,
    Column("day", Date, primary_key=True),
    Column("hub_id", String(40), primary_key=True),
    Column("mode", String(8), primary_key=True),
    *_hub_measure_columns(),
    sqlite_with_rowid=False,
)

cumulative_hub_specialty_day = Table(
    "cumulative_hub_specialty_day",
    metadata,
    Column("day", Date, primary_key=True),
    Column("hub_id", String(40), primary_key=True),
    Column("mode", String(8), primary_key=True),
    Column("specialty_code", String(24), primary_key=True),
    *_hub_measure_columns(),
    sqlite_with_rowid=False,
)

# Per hub, hour of day and mode: consultations by weekday (weekday_0 = Monday), for the hour x weekday heatmap.
WEEKDAY_COLUMNS: tuple[str, ...] = tuple(f"weekday_{i}" for i in range(7))
cumulative_hub_hour_day = Table(
    "cumulative_hub_hour_day",
    metadata,
    Column("day", Date, primary_key=True),
    Column("hub_id", String(40), primary_key=True),
    Column("hour", Integer, primary_key=True, autoincrement=False),
    Column("mode", String(8), primary_key=True),
    *[Column(name, Integer, nullable=False, server_default="0") for name in WEEKDAY_COLUMNS],
    sqlite_with_rowid=False,
)

CUMULATIVE_TABLES: tuple[Table, ...] = (cumulative_district_day, cumulative_spoke_day, cumulative_cho_day,
                                        cumulative_hub_district_day, cumulative_hub_mode_day,
                                        cumulative_hub_specialty_day, cumulative_hub_hour_day)

cumulative_state = Table(
    "cumulative_state",
    metadata,
    Column("table_name", String(64), primary_key=True),
    # Complete through this day (the rollups' last day when it was refreshed); NULL: never built.
    Column("built_through", Date, nullable=True),
    # A load changed rollup rows of this day or later since: rows from here on are stale until the next refresh.
    Column("dirty_from", Date, nullable=True),
)

# ---------------------------------------------------------------- bookkeeping

etl_run = Table(
    "etl_run",
    metadata,
    Column("run_id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(200), nullable=False),
    Column("dataset", String(20), nullable=True),
    Column("file_name", String(400), nullable=True),
    Column("file_hash", String(64), nullable=True, index=True),
    Column("started_at", DateTime, nullable=False),
    Column("finished_at", DateTime, nullable=True),
    # running | loaded | already_loaded | rejected | failed | interrupted
    Column("status", String(20), nullable=False),
    Column("rows_read", Integer, nullable=False, server_default="0"),
    Column("rows_loaded", Integer, nullable=False, server_default="0"),
    Column("rows_rejected", Integer, nullable=False, server_default="0"),
    Column("rows_released", Integer, nullable=False, server_default="0"),
    Column("message", Text, nullable=True),
)

quarantine = Table(
    "quarantine",
    metadata,
    Column("quarantine_id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("run_id", Integer, ForeignKey("etl_run.run_id"), nullable=False, index=True),
    Column("dataset", String(20), nullable=False),
    Column("file_name", String(400), nullable=True),
    Column("row_number", Integer, nullable=True),
    Column("natural_key", String(200), nullable=True),
    Column("reason_code", String(40), nullable=False),
    Column("reason", Text, nullable=False),
    # The row as read, already stripped of patient identifiers (they are tokenised before quarantine too).
    Column("raw", JSON, nullable=False),
    # Set when a later run loads the row (e.g. its facility arrived) or when a re-run of the same file supersedes it.
    Column("released_run_id", Integer, nullable=True, index=True),
)
Index("ix_quarantine_pending", quarantine.c.reason_code, quarantine.c.released_run_id)

source_watermark = Table(
    "source_watermark",
    metadata,
    Column("source", String(200), primary_key=True),
    Column("watermark", String(64), nullable=False),
    Column("cursor", Text, nullable=True),
    Column("updated_at", DateTime, nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("audit_id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("at", DateTime, nullable=False, index=True),
    Column("username", String(80), nullable=True),
    Column("action", String(40), nullable=False),
    Column("scope", Text, nullable=True),
    Column("detail", JSON, nullable=True),
)

# ---------------------------------------------------------------- live status, alerts, access

# Bearer tokens for the status API, issued per integration or facility; only a hash is stored.
api_token = Table(
    "api_token",
    metadata,
    Column("token_id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(120), nullable=False),
    Column("facility_id", String(40), nullable=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", DateTime, nullable=False),
    Column("revoked_at", DateTime, nullable=True),
    Column("last_used_at", DateTime, nullable=True),
    Column("rate_limit_per_minute", Integer, nullable=False, server_default="600"),
)

alert = Table(
    "alert",
    metadata,
    Column("alert_id", Integer, primary_key=True, autoincrement=True),
    # hub_offline | queue_high | district_no_hub
    Column("kind", String(24), nullable=False),
    Column("facility_id", String(40), nullable=True),
    Column("district_lgd", Integer, nullable=True, index=True),
    Column("raised_at", DateTime, nullable=False, index=True),
    Column("cleared_at", DateTime, nullable=True),
    Column("acknowledged_at", DateTime, nullable=True),
    Column("acknowledged_by", String(80), nullable=True),
    Column("message", Text, nullable=False),
    Column("details", JSON, nullable=True),
    Column("delivered_at", DateTime, nullable=True),
    Column("delivery_attempts", Integer, nullable=False, server_default="0"),
)

app_user = Table(
    "app_user",
    metadata,
    Column("user_id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(80), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    # admin | state | district | analyst
    Column("role", String(16), nullable=False),
    # The districts (LGD codes) and states the user may see, as JSON lists; empty means nothing (deny by default).
    Column("districts", JSON, nullable=False),
    Column("states", JSON, nullable=False),
    Column("active", Boolean, nullable=False, server_default="1"),
    Column("language", String(2), nullable=False, server_default="en"),
    Column("created_at", DateTime, nullable=False),
    Column("password_changed_at", DateTime, nullable=True),
    Column("failed_logins", Integer, nullable=False, server_default="0"),
    Column("locked_until", DateTime, nullable=True),
    Column("last_login_at", DateTime, nullable=True),
)

# Bumped by every load that changes data; the dashboard keys its cache on it, so every web process sees an
# invalidation the moment a load commits, without the ETL knowing about the dashboard.
data_version = Table(
    "data_version",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("version", BigInteger, nullable=False),
    Column("changed_at", DateTime, nullable=False),
)

ROLLUP_MEASURES: tuple[str, ...] = tuple(
    c.name for c in rollup_facility_day.columns if c.name not in {c2.name for c2 in rollup_facility_day.primary_key}
    and c.name not in {"district_lgd", "block_lgd", "hub_district_lgd"}
)
