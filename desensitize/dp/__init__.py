"""Differential privacy for L3 data: declared metadata, validated queries, diffprivlib's mechanisms.

Pure library: no database, no web. The privacy budget is accounted by ``open_portal.ledger``.
"""

from desensitize.dp.engine import DPFrame, DPResult, prepare, run_query
from desensitize.dp.exceptions import DPError, QueryError, SchemaError
from desensitize.dp.query import DPQuery, Filter, FilterOp, QueryKind
from desensitize.dp.schema import CategoricalColumn, DPSchema, NumericColumn, PrivacyUnit
from desensitize.dp.tables import contingency_table

__all__ = [
    "CategoricalColumn",
    "DPError",
    "DPFrame",
    "DPQuery",
    "DPResult",
    "DPSchema",
    "Filter",
    "FilterOp",
    "NumericColumn",
    "PrivacyUnit",
    "QueryError",
    "QueryKind",
    "SchemaError",
    "contingency_table",
    "prepare",
    "run_query",
]
