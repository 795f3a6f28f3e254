"""Dataset contracts: canonical columns, types, header aliases (English and Hindi) and rules."""

from etl.contracts.base import Contract, Field, HeaderMap, Kind, map_headers, normalise_header
from etl.contracts.catalog import CONTRACTS

__all__ = ["CONTRACTS", "Contract", "Field", "HeaderMap", "Kind", "map_headers", "normalise_header"]
