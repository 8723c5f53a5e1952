"""Point-in-time retrieval of feature views: what a model could have known at each as-of time.

``get_historical_features(cat, entities, "load_features")`` takes a frame of
``(entity, as_of)`` rows and returns, for each, the latest feature row whose ``available_at``
is at or before ``as_of`` — and only if its ``event_time`` is within the view's TTL of
``as_of`` (older values are stale: NULL). ``get_latest_features`` is the same at one time for
every entity, for jobs.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pandas as pd

from workbench.core.errors import MissingColumnsError, WorkbenchError
from workbench.features.views import COMPUTE


def view_table(cat: Any, view: str) -> Any:
    """The feature view as a lazy Ibis table over the warehouse's silver (and gold) tables."""
    spec = cat.spec.feature_view(view)
    if spec.name not in COMPUTE:
        msg = (
            f"feature view {spec.name!r} is declared but not computed; "
            f"expected one of {sorted(COMPUTE)}"
        )
        raise WorkbenchError(msg)
    sources = [cat.scan(name) for name in spec.sources]
    return COMPUTE[spec.name](*sources, lag=spec.availability_lag_td)


def get_historical_features(
    cat: Any, entities: pd.DataFrame, view: str, *, as_of_column: str = "as_of"
) -> pd.DataFrame:
    """Point-in-time correct features for each ``(entity, as_of)`` row of ``entities``.

    Parameters
    ----------
    entities : pandas.DataFrame
        The view's entity column (``region_id`` or ``asset_id``) and ``as_of`` (UTC times).
    view : str
        ``"load_features"`` or ``"generation_features"``.

    Returns
    -------
    pandas.DataFrame
        ``entities`` with the feature columns, ``event_time`` and ``available_at`` added;
        features are NULL where nothing was available within the TTL.
    """
    import ibis

    fv = cat.spec.feature_view(view)
    missing = {fv.entity, as_of_column} - set(entities.columns)
    if missing:
        raise MissingColumnsError(f"entities for {fv.name}", missing, entities.columns)
    left = entities[[fv.entity, as_of_column]].copy()
    left[as_of_column] = pd.to_datetime(left[as_of_column], utc=True)
    left["_row"] = range(len(left))
    features = view_table(cat, fv.name)
    con = cat.warehouse().con
    lt = con.create_table(f"_entities_{fv.name}", ibis.memtable(left), temp=True, overwrite=True)
    joined = lt.asof_join(
        features,
        on=lt[as_of_column] >= features.available_at,
        predicates=lt[fv.entity] == features[fv.entity],
    )
    out = joined.to_pandas().sort_values("_row").reset_index(drop=True)
    con.drop_table(f"_entities_{fv.name}", force=True)
    out = out.drop(columns=[c for c in out.columns if c.endswith("_right")] + ["_row"])
    for col in ("event_time", "available_at"):  # UTC instants, whatever the backend returns
        stamps = pd.to_datetime(out[col])
        out[col] = (
            stamps.dt.tz_localize("UTC") if stamps.dt.tz is None else stamps.dt.tz_convert("UTC")
        )
    # an hourly row describes [event_time, event_time + 1 h): its age counts from the end
    age = out[as_of_column] - (out["event_time"] + pd.Timedelta(hours=1))
    stale = out["event_time"].isna() | (age > fv.ttl_td)
    keys = (fv.entity, as_of_column, "event_time", "available_at")
    values = [c for c in out.columns if c not in keys]
    for col in values:
        if out[col].dtype == bool:
            out[col] = out[col].astype("boolean")  # so that a stale row can hold NULL
    out.loc[stale, values] = None
    return out


def get_latest_features(cat: Any, view: str, as_of: datetime | None = None) -> pd.DataFrame:
    """For every entity, the freshest features available at ``as_of`` (default: now)."""
    fv = cat.spec.feature_view(view)
    ids = cat.scan("gold.dim_regions" if fv.entity == "region_id" else "gold.dim_assets")
    entities = ids.select(fv.entity).distinct().to_pandas()
    entities["as_of"] = (
        pd.Timestamp(as_of or datetime.now(UTC)).tz_convert("UTC")
        if (as_of is None or pd.Timestamp(as_of).tzinfo)
        else pd.Timestamp(as_of, tz="UTC")
    )
    return get_historical_features(cat, entities, fv.name)
