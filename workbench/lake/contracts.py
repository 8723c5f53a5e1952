"""Data contracts: types, nullability, ranges and key uniqueness per table, checked with pandera
(its Ibis backend, so checks run inside the warehouse, on any backend).

Types and keys come from the catalog; ranges are declared here, next to the transforms whose
output they guard.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from workbench.catalog.schema import DatasetSpec
from workbench.core.extras import require

if TYPE_CHECKING:
    import ibis.expr.types as ir

#: Value ranges per table and column: (low, high), either may be None; or a list of allowed values.
RANGES: dict[str, dict[str, tuple[float | None, float | None] | list[Any]]] = {
    "silver.scada_cleaned": {
        "value_mw": (-1000.0, 10000.0),
        "quality_code": [0, 192, 24, 152],
        "quality_status": ["GOOD", "SUSPECT"],
    },
    "silver.system_load": {"load_mw": (0.0, 200_000.0)},
    "silver.generation": {"generation_mw": (-10_000.0, 10_000.0)},
    "silver.system_reserves": {
        "demand_mw": (0.0, 200_000.0),
        "reserve_mw": (-500_000.0, 500_000.0),
        "responsive_reserve_mw": (0.0, 500_000.0),
    },
    "silver.weather_hourly": {
        "temperature_f": (-60.0, 135.0),
        "relative_humidity_pct": (0.0, 100.0),
        "cloud_cover_pct": (0.0, 100.0),
        "wind_speed_100m_m_per_s": (0.0, 80.0),
        "ghi_w_per_m2": (0.0, 1500.0),
    },
    "silver.weather_forecast_hourly": {"lead_hours": (1, 24 * 16), "cloud_cover_pct": (0.0, 100.0)},
    "silver.market_prices": {"market": ["DA", "RT"], "lmp_usd_per_mwh": (-1000.0, 10_000.0)},
    "silver.grid_topology": {"element_type": ["bus", "line", "interface"], "limit_mw": (0.0, None)},
    "silver.meter_readings": {"energy_kwh": (0.0, 500.0)},
    "silver.pmu_validated": {"samples": (0, None), "missing_samples": (0, None)},
    "gold.fact_load": {
        "actual_load_mw": (0.0, 200_000.0),
        "temperature_f": (-60.0, 135.0),
        "humidity_pct": (0.0, 100.0),
    },
    "gold.fact_generation": {
        "asset_type": ["generator", "renewable", "storage"],
        "capacity_factor": (-1.05, 1.05),
        "carbon_intensity": (0.0, 2.0),
        "availability": (0.0, 1.0),
    },
    "gold.fact_market_prices": {
        "market_type": ["DA", "RT"],
        "lmp_price": (-1000.0, 10_000.0),
        "ancillary_price": (0.0, 50_000.0),
    },
    "gold.dim_assets": {
        "asset_type": ["generator", "renewable", "storage"],
        "capacity_mw": (0.0, 10_000.0),
        "latitude": (-90.0, 90.0),
        "longitude": (-180.0, 180.0),
    },
    "gold.dim_regions": {"population": (0, None), "area_sq_miles": (0, None)},
    "gold.fact_system_reserves": {
        "demand_mw": (0.0, 200_000.0),
        "responsive_reserve_mw": (0.0, 500_000.0),
        "min_responsive_reserve_mw": (0.0, 500_000.0),
        "reserve_margin": (0.0, 10.0),
    },
    "gold.generation_mix": {"share": (0.0, 1.0)},
    "gold.carbon_emissions": {
        "co2_tonnes": (0.0, None),
        "carbon_intensity_kg_per_mwh": (0.0, 1500.0),
    },
    "gold.reliability_metrics": {
        "forced_outages": (0, None),
        "frequency_excursion_minutes": (0, 1440),
    },
}


@dataclass(frozen=True)
class CheckResult:
    """One row of ``ops.dq_results``."""

    table_name: str
    check_name: str
    column_name: str
    passed: bool
    failures: int
    detail: str

    def row(self, build_id: str, checked_at: datetime) -> dict[str, Any]:
        return {"build_id": build_id, "checked_at": checked_at, **self.__dict__}


def _dtype(catalog_type: str, actual: Any) -> Any:
    import ibis.expr.datatypes as dt

    from workbench.io.types import IBIS_TYPE

    expected = dt.dtype(IBIS_TYPE[catalog_type])
    if expected.is_timestamp() and actual is not None and actual.is_timestamp():
        return dt.Timestamp(timezone="UTC", scale=actual.scale)  # UTC required; precision as stored
    return expected


def contract(spec: DatasetSpec, table: ir.Table) -> Any:
    """The pandera schema of a table: catalog types and nullability, ranges, unique key."""
    pa = require("pandera.ibis", extra="quality", feature="data-quality contracts")
    actual = table.schema()
    columns = {}
    for name, col in spec.columns.items():
        checks = []
        rule = RANGES.get(spec.name, {}).get(name)
        if isinstance(rule, list):
            checks.append(pa.Check.isin(rule))
        elif isinstance(rule, tuple):
            low, high = rule
            if low is not None and high is not None:
                checks.append(pa.Check.in_range(low, high))
            elif low is not None:
                checks.append(pa.Check.ge(low))
            elif high is not None:
                checks.append(pa.Check.le(high))
        nullable = col.nullable and name not in spec.key
        columns[name] = pa.Column(_dtype(col.type, actual.get(name)), checks, nullable=nullable)
    return pa.DataFrameSchema(columns, unique=list(spec.key), strict=True, name=spec.name)


def check_table(spec: DatasetSpec, table: ir.Table) -> list[CheckResult]:
    """Run the contract; one result per check that failed, and one 'contract' row overall."""
    errors = require("pandera.errors", extra="quality")
    schema = contract(spec, table)
    try:
        schema.validate(table, lazy=True)
    except errors.SchemaErrors as exc:
        cases = exc.failure_cases
        if hasattr(cases, "to_pandas"):
            cases = cases.to_pandas()
        results = []
        for check, group in cases.groupby("check", dropna=False):
            first = group["failure_case"].iloc[0]
            if check == "multiple_fields_uniqueness":
                column, failures = ",".join(spec.key), duplicated_keys(table, list(spec.key))
                detail = f"{failures} key values appear more than once"
            else:
                column = (
                    next(iter(first)) if isinstance(first, dict) else str(group["column"].iloc[0])
                )
                failures = len(group)
                sample = ", ".join(str(v) for v in group["failure_case"].head(3).tolist())
                detail = f"e.g. {sample}"
            results.append(
                CheckResult(spec.name, str(check), column, False, failures, detail[:500])
            )
        return results
    except errors.SchemaError as exc:  # non-lazy failures (e.g. a missing column)
        return [CheckResult(spec.name, "schema", "", False, 1, str(exc)[:500])]
    n_checks = sum(len(c.checks) for c in schema.columns.values())
    return [
        CheckResult(
            spec.name,
            "contract",
            "",
            True,
            0,
            f"{len(schema.columns)} columns typed, {n_checks} range checks, "
            f"key {list(spec.key)} unique",
        )
    ]


def duplicated_keys(table: ir.Table, key: list[str]) -> int:
    """How many key values occur more than once."""
    counts = table.group_by(key).agg(n=table.count())
    return int(counts.filter(counts.n > 1).count().execute())


def now_utc() -> datetime:
    return datetime.now(UTC)
