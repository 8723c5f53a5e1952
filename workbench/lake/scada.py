"""The platform's SCADA cleaning rules, as a portable Ibis expression (bronze → silver).

- ``record_id`` is a surrogate key from ``asset_id`` and ``timestamp``
  (``"<asset_id>:<epoch milliseconds>"``, identical on every backend);
- values below -1000 or above 10000 become NULL (the row is kept);
- quality codes 0 and 192 are GOOD, 24 and 152 SUSPECT, every other code BAD: BAD rows are
  dropped from silver and quarantined, with counts, never silently lost;
- a record landed twice (same asset and timestamp) is kept once: the last one landed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ibis.expr.types as ir

GOOD_CODES: tuple[int, ...] = (0, 192)
SUSPECT_CODES: tuple[int, ...] = (24, 152)
VALUE_MIN_MW = -1000.0
VALUE_MAX_MW = 10000.0
SILVER_COLUMNS = (
    "record_id",
    "timestamp",
    "asset_id",
    "value_mw",
    "quality_code",
    "quality_status",
)


def record_id(t: ir.Table) -> ir.StringValue:
    """``asset_id:epoch_ms`` — a surrogate key that every backend computes the same way."""
    epoch_ms = t.timestamp.epoch_seconds().cast("int64") * 1000 + t.timestamp.millisecond().cast(
        "int64"
    )
    return t.asset_id.concat(":", epoch_ms.cast("string"))


def quality_status(code: ir.IntegerValue) -> ir.StringValue:
    """GOOD for 0/192, SUSPECT for 24/152, BAD otherwise (NULL codes are BAD too)."""
    import ibis

    return ibis.cases(
        (code.isin(GOOD_CODES), "GOOD"),
        (code.isin(SUSPECT_CODES), "SUSPECT"),
        else_="BAD",
    )


def value_in_range(value: ir.FloatingValue) -> ir.FloatingValue:
    """The value, or NULL outside [-1000, 10000] MW (the limits themselves are kept)."""
    import ibis

    return ibis.ifelse((value < VALUE_MIN_MW) | (value > VALUE_MAX_MW), ibis.null("float64"), value)


@dataclass(frozen=True)
class ScadaCleaning:
    """The two outputs of the rules: rows for silver, and the quarantined BAD rows."""

    clean: ir.Table
    quarantined: ir.Table


def clean_scada(raw: ir.Table) -> ScadaCleaning:
    """Apply the platform's rules to ``bronze.raw_scada`` rows (any Ibis backend)."""
    import ibis

    classified = raw.mutate(
        record_id=record_id(raw),
        value_mw=value_in_range(raw.value.cast("float64")),
        quality_status=quality_status(raw.quality_code),
    )
    latest = ibis.row_number().over(
        group_by=classified.record_id,
        order_by=[classified.ingested_at.desc(), classified.quality_code.asc()],
    )
    deduplicated = classified.mutate(_rank=latest).filter(lambda t: t._rank == 0).drop("_rank")
    clean = deduplicated.filter(deduplicated.quality_status != "BAD").select(*SILVER_COLUMNS)
    quarantined = deduplicated.filter(deduplicated.quality_status == "BAD").select(
        "record_id",
        "timestamp",
        "asset_id",
        "value",
        "quality_code",
        "ingested_at",
        reason=ibis.literal("BAD quality code"),
    )
    return ScadaCleaning(clean=clean, quarantined=quarantined)
