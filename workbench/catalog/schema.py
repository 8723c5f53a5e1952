"""Schema of ``data_catalog.yaml``: strict pydantic models that reject unknown keys.

A catalog file looks like::

    version: 1
    warehouses:
      default:
        url: ${WORKBENCH_WAREHOUSE:-duckdb:///${WORKBENCH_HOME}/warehouse.duckdb}
    credentials:
      snowflake_prod:
        env: {user: SNOWFLAKE_USER, password: SNOWFLAKE_PASSWORD}
    datasets:
      - name: bronze.raw_scada
        description: SCADA telemetry as landed
        kind: table
        layer: bronze
        location: bronze.raw_scada
        ...
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Layer = Literal["bronze", "silver", "gold", "ops"]
Kind = Literal["table", "cube", "frames", "raster"]
ColumnType = Literal[
    "string",
    "bool",
    "int8",
    "int16",
    "int32",
    "int64",
    "float32",
    "float64",
    "date",
    "timestamp",
    "json",
]
LAYERS: tuple[str, ...] = ("bronze", "silver", "gold", "ops")

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|min|h|d|w)$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "min": 60, "h": 3600, "d": 86400, "w": 604800}
_NAME = re.compile(r"^(bronze|silver|gold|ops)\.[a-z][a-z0-9_]*$")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def parse_duration(text: str) -> timedelta:
    """Parse a catalog duration such as ``"5min"``, ``"2s"``, ``"1h"``, ``"7d"``, ``"0s"``.

    >>> parse_duration("15min")
    datetime.timedelta(seconds=900)
    """
    match = _DURATION.match(text.strip())
    if not match:
        msg = (
            f"expected a duration like '2s', '5min', '1h', '1d' (units ms, s, min, h, d, w); "
            f"found {text!r}"
        )
        raise ValueError(msg)
    return timedelta(seconds=float(match.group(1)) * _UNIT_SECONDS[match.group(2)])


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Column(_Strict):
    """A column (or a cube's data variable) with its type and unit."""

    type: ColumnType
    unit: str | None = None
    description: str | None = None
    nullable: bool = True


class WarehouseSpec(_Strict):
    """A warehouse connection: an Ibis URL, and credentials referenced by name."""

    url: str = Field(min_length=1)
    credentials: str | None = None
    description: str | None = None


class CredentialSpec(_Strict):
    """Credentials by reference: each field names the environment variable holding it."""

    env: dict[str, str]
    description: str | None = None

    @field_validator("env")
    @classmethod
    def _env_names(cls, value: dict[str, str]) -> dict[str, str]:
        for field, var in value.items():
            if not _IDENT.match(var):
                msg = f"expected an environment variable name for {field!r}; found {var!r}"
                raise ValueError(msg)
        return value


class DatasetSpec(_Strict):
    """One dataset of the catalog: what it is, where it lives, and when values become known."""

    name: str
    description: str = Field(min_length=1)
    kind: Kind
    layer: Layer
    location: str = Field(min_length=1)
    owner: str = Field(min_length=1)
    columns: dict[str, Column] = Field(min_length=1)
    key: list[str] = Field(min_length=1)
    time_column: str | None
    timezone: str = "UTC"
    resolution: str
    availability_lag: str
    warehouse: str = "default"
    format: Literal["duckdb", "parquet", "zarr", "geotiff"] | None = None
    dims: list[str] | None = None
    chunks: dict[str, int] | None = None
    shards: dict[str, int] | None = None
    codecs: dict[str, str] | None = None
    partition_by: list[str] | None = None
    tags: list[str] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.match(value):
            msg = (
                f"expected 'layer.name' in lower snake case (layer one of {LAYERS}); "
                f"found {value!r}"
            )
            raise ValueError(msg)
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            msg = f"expected an IANA timezone such as 'UTC' or 'America/Chicago'; found {value!r}"
            raise ValueError(msg) from None
        return value

    @field_validator("resolution", "availability_lag")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration(value)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> DatasetSpec:
        prefix = self.name.split(".")[0]
        if prefix != self.layer:
            msg = f"the name's prefix {prefix!r} must equal the layer; found layer {self.layer!r}"
            raise ValueError(msg)
        known = set(self.columns) | set(self.dims or ())
        for field, names in (("key", self.key), ("partition_by", self.partition_by or [])):
            missing = [n for n in names if n not in known]
            if missing:
                msg = (
                    f"{field} names {missing}, which are not columns or dims; found {sorted(known)}"
                )
                raise ValueError(msg)
        if self.time_column is not None and self.time_column not in known:
            msg = f"time_column {self.time_column!r} is not a column or dim; found {sorted(known)}"
            raise ValueError(msg)
        if self.kind in ("cube", "raster"):
            if not self.dims or not self.chunks:
                msg = f"a {self.kind} needs 'dims' and 'chunks'"
                raise ValueError(msg)
            bad = [d for d in self.chunks if d not in self.dims]
            if bad:
                msg = f"chunks name {bad}, which are not dims {self.dims}"
                raise ValueError(msg)
            self._check_shards_codecs()
        elif self.kind == "frames" and not self.partition_by:
            msg = "a frames dataset needs 'partition_by'"
            raise ValueError(msg)
        if self.kind not in ("cube", "raster") and (self.shards or self.codecs):
            msg = f"a {self.kind} takes no 'shards' or 'codecs' (cubes and rasters only)"
            raise ValueError(msg)
        if self.kind == "table" and (self.chunks or self.partition_by or self.dims):
            msg = "a table takes no 'dims', 'chunks' or 'partition_by'"
            raise ValueError(msg)
        return self

    def _check_shards_codecs(self) -> None:
        """Shards (Zarr v3) hold whole chunks along every chunked dim; codecs name columns."""
        chunks = self.chunks or {}
        for dim, size in (self.shards or {}).items():
            if dim not in chunks or size < 1 or size % chunks[dim]:
                msg = (
                    f"expected shards as whole multiples of chunks on chunked dims; found "
                    f"shards {self.shards} for chunks {chunks}"
                )
                raise ValueError(msg)
        bad = [c for c in self.codecs or {} if c not in self.columns]
        if bad:
            msg = f"codecs name {bad}, which are not columns {sorted(self.columns)}"
            raise ValueError(msg)

    @property
    def short_name(self) -> str:
        """The name without its layer: ``raw_scada`` for ``bronze.raw_scada``."""
        return self.name.split(".", 1)[1]

    @property
    def resolution_td(self) -> timedelta:
        return parse_duration(self.resolution)

    @property
    def availability_lag_td(self) -> timedelta:
        return parse_duration(self.availability_lag)


class FeatureViewSpec(_Strict):
    """A feature view of the feature store: per-entity features, their sources and freshness."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    description: str = Field(min_length=1)
    entity: str
    sources: list[str] = Field(min_length=1)
    ttl: str
    availability_lag: str
    owner: str = Field(min_length=1)
    features: dict[str, Column] = Field(min_length=1)

    @field_validator("ttl", "availability_lag")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration(value)
        return value

    @property
    def ttl_td(self) -> timedelta:
        return parse_duration(self.ttl)

    @property
    def availability_lag_td(self) -> timedelta:
        return parse_duration(self.availability_lag)


class CatalogSpec(_Strict):
    """The whole catalog file."""

    version: Literal[1]
    warehouses: dict[str, WarehouseSpec] = Field(min_length=1)
    credentials: dict[str, CredentialSpec] = Field(default_factory=dict)
    datasets: list[DatasetSpec]
    feature_views: list[FeatureViewSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _references(self) -> CatalogSpec:
        for name, wh in self.warehouses.items():
            if wh.credentials is not None and wh.credentials not in self.credentials:
                msg = (
                    f"warehouse {name!r} references credentials {wh.credentials!r}; "
                    f"found only {sorted(self.credentials)}"
                )
                raise ValueError(msg)
        for ds in self.datasets:
            if ds.kind == "table" and ds.warehouse not in self.warehouses:
                msg = (
                    f"dataset {ds.name!r} names warehouse {ds.warehouse!r}; "
                    f"found only {sorted(self.warehouses)}"
                )
                raise ValueError(msg)
        names = {d.name for d in self.datasets}
        for fv in self.feature_views:
            unknown = [src for src in fv.sources if src not in names]
            if unknown:
                msg = f"feature view {fv.name!r} reads {unknown}, which are not datasets"
                raise ValueError(msg)
        return self

    def feature_view(self, name: str) -> FeatureViewSpec:
        from workbench.core.errors import UnknownDatasetError

        for fv in self.feature_views:
            if fv.name == name:
                return fv
        raise UnknownDatasetError(name, (f.name for f in self.feature_views))

    def dataset(self, name: str) -> DatasetSpec:
        from workbench.core.errors import UnknownDatasetError

        for ds in self.datasets:
            if ds.name == name:
                return ds
        raise UnknownDatasetError(name, (d.name for d in self.datasets))
