"""How a registered model is written to and read back from its artifact folder, and its lineage.

Part of the model store (:mod:`workbench.forecasting.registry`), not of the forecasting core.
Artifacts are written by the model's own format when it has one:

* objects with ``save_artifact(folder)`` and a class method ``load_artifact(folder)`` (the
  workbench's darts-backed forecasters in :mod:`workbench.forecasting.deep`) — format ``custom``;
* darts torch models (``TorchForecastingModel``): ``model.save`` / ``Class.load`` — ``darts``;
* anything else: :mod:`joblib` (pickle) — ``joblib``.

Lineage: :func:`data_version` hashes the training data, :func:`code_version` names the package
version and git commit, :func:`backtest_record` keeps the score and window the promotion guard
compares, :func:`current_user` names who forced a promotion. :class:`ModelVersion` is what the
registry returns for a version.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import getpass
import hashlib
import importlib
import os
import pickle
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.core.errors import WorkbenchError


class RegistryError(WorkbenchError):
    """A registry operation failed: unknown model, version or alias, refused promotion, bad name."""


@dataclass(frozen=True)
class ModelVersion:
    """One registered version of a model.

    Attributes
    ----------
    name : str
        The registered model name.
    version : int
        Monotonic version number, from 1.
    stage : str
        One of ``none``, ``challenger``, ``champion``, ``archived``.
    metadata : dict
        The version's metadata (see :meth:`ModelRegistry.register`).
    uri : str
        The version's source: its artifact folder in the MLflow artifact store.
    tags : dict
        The MLflow model version tags (lineage, promotion records).
    """

    name: str
    version: int
    stage: str
    metadata: dict[str, Any] = field(repr=False)
    uri: str = field(repr=False, default="")
    tags: dict[str, str] = field(repr=False, default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """A flat dict for tables: name, version, stage, model class, created, window, metrics."""
        meta = self.metadata
        window = meta.get("training_window") or {}
        return {
            "name": self.name,
            "version": self.version,
            "stage": self.stage,
            "model_class": (meta.get("model") or {}).get("class"),
            "created_at": meta.get("created_at"),
            "train_start": window.get("start"),
            "train_end": window.get("end"),
            "data_version": meta.get("data_version"),
            "metrics": meta.get("metrics") or {},
        }


#: What a damaged, truncated or incompatible artifact raises while it is read back.
UNREADABLE = (
    OSError,
    EOFError,
    ValueError,
    TypeError,
    AttributeError,
    ImportError,
    KeyError,
    pickle.UnpicklingError,
)
#: What a duck-typed probe of a third-party model (``get_params()``, ``.item()``, feature names)
#: raises when the object does not support it; the metadata then records what else is known.
_DUCK_TYPING_ERRORS = (TypeError, ValueError, AttributeError, NotImplementedError)
#: Who forced a promotion: this variable if set, else the login name.
USER_ENV = "WORKBENCH_USER"


def data_version(data: Any) -> str | None:
    """A content hash of the training data: ``sha256:<16 hex>``, ``None`` without data.

    Accepts a pandas Series or DataFrame, a :class:`~workbench.forecasting.base.ForecastData`
    (its target and covariates), a mapping or sequence of those, or a numpy array. The hash
    covers values, index and column names, so any change to the training data changes it.
    """
    if data is None:
        return None
    import numpy as np
    import pandas as pd

    digest = hashlib.sha256()

    def feed(obj: Any) -> None:
        if obj is None:
            digest.update(b"<none>")
        elif isinstance(obj, pd.Series | pd.DataFrame):
            names = list(obj.columns) if isinstance(obj, pd.DataFrame) else [obj.name]
            digest.update(repr(names).encode())
            hashed = pd.util.hash_pandas_object(obj, index=True)
            digest.update(np.ascontiguousarray(hashed.to_numpy()).tobytes())
        elif isinstance(obj, np.ndarray):
            digest.update(str(obj.dtype).encode() + repr(obj.shape).encode())
            digest.update(np.ascontiguousarray(obj).tobytes())
        elif isinstance(obj, Mapping):
            for key in sorted(obj, key=str):
                digest.update(str(key).encode())
                feed(obj[key])
        elif isinstance(obj, list | tuple):
            for item in obj:
                feed(item)
        elif hasattr(obj, "__dataclass_fields__"):
            for name in obj.__dataclass_fields__:
                digest.update(name.encode())
                feed(getattr(obj, name))
        else:
            digest.update(repr(obj).encode())

    feed(data)
    return "sha256:" + digest.hexdigest()[:16]


def code_version() -> dict[str, Any]:
    """The package version and, when run from a git checkout, its commit and dirty flag."""
    from workbench import __version__

    info: dict[str, Any] = {"package": __version__, "git_sha": None, "git_dirty": None}
    here = Path(__file__).resolve().parent
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=here,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=here,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return info
    info["git_sha"] = sha or None
    info["git_dirty"] = bool(dirty)
    return info


def jsonable(value: Any) -> Any:
    """``value`` made JSON-safe: timestamps as ISO text, numpy scalars as Python, else repr."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else None
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, _dt.datetime | _dt.date):
        return value.isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item") and callable(value.item):
        with contextlib.suppress(*_DUCK_TYPING_ERRORS):
            return jsonable(value.item())
    if hasattr(value, "__dataclass_fields__"):
        return {n: jsonable(getattr(value, n)) for n in value.__dataclass_fields__}
    return repr(value)


def model_params(model: Any) -> dict[str, Any]:
    """Hyper-parameters of ``model``: ``get_params()``, a ``params`` dict, or simple attributes."""
    params: Any = None
    if callable(getattr(model, "get_params", None)):
        with contextlib.suppress(*_DUCK_TYPING_ERRORS):
            params = model.get_params()
    if params is None and isinstance(getattr(model, "params", None), Mapping):
        params = dict(model.params)
    if params is None:
        params = (
            {
                k: v
                for k, v in vars(model).items()
                if not k.startswith("_")
                and not k.endswith("_")
                and isinstance(v, bool | int | float | str | tuple | type(None))
            }
            if hasattr(model, "__dict__")
            else {}
        )
    return jsonable(params)


def model_features(model: Any) -> list[str] | None:
    for attr in ("feature_names_", "feature_names", "feature_name_"):
        value = getattr(model, attr, None)
        if callable(value):
            with contextlib.suppress(*_DUCK_TYPING_ERRORS):
                value = value()
        if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
            return list(value)
    return None


def class_path(obj: Any) -> str:
    cls = obj if isinstance(obj, type) else type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"


def _import_class(path: str) -> type:
    module, _, qualname = path.rpartition(".")
    try:
        obj: Any = importlib.import_module(module)
    except ImportError as exc:
        msg = f"expected the model class {path} to be importable; its module failed: {exc}"
        raise RegistryError(msg) from exc
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def _is_darts_torch_model(model: Any) -> bool:
    for cls in type(model).__mro__:
        if cls.__name__ == "TorchForecastingModel" and cls.__module__.startswith("darts"):
            return True
    return False


def save_artifact(model: Any, folder: Path) -> dict[str, str]:
    if callable(getattr(model, "save_artifact", None)) and callable(
        getattr(type(model), "load_artifact", None)
    ):
        (folder / "artifact").mkdir()
        model.save_artifact(folder / "artifact")
        return {"format": "custom", "path": "artifact", "class": class_path(model)}
    if _is_darts_torch_model(model):
        (folder / "artifact").mkdir()
        model.save(str(folder / "artifact" / "model.pt"))
        return {"format": "darts", "path": "artifact/model.pt", "class": class_path(model)}
    import joblib

    joblib.dump(model, folder / "model.joblib")
    return {"format": "joblib", "path": "model.joblib", "class": class_path(model)}


def load_artifact(folder: Path, artifact: Mapping[str, str]) -> Any:
    fmt = artifact.get("format")
    target = folder / artifact["path"]
    if fmt == "custom":
        return _import_class(artifact["class"]).load_artifact(target)
    if fmt == "darts":
        return _import_class(artifact["class"]).load(str(target), map_location="cpu")
    if fmt == "joblib":
        import joblib

        return joblib.load(target)
    msg = f"expected an artifact format custom, darts or joblib; found {fmt!r} in {folder}"
    raise RegistryError(msg)


def current_user() -> str:
    """``WORKBENCH_USER`` if set, else the login name."""
    return os.environ.get(USER_ENV) or getpass.getuser()


def backtest_record(result: Any, metric: str = "mae") -> dict[str, Any]:
    """What :meth:`ModelRegistry.register` keeps of a backtest for the promotion guard.

    Parameters
    ----------
    result : BacktestResult or TableBacktest
        The backtest of the model being registered.
    metric : str
        Score compared at promotion (lower is better), e.g. ``mae`` or ``pinball``.

    Returns
    -------
    dict
        ``{"metric", "value", "start", "end"}``: the score and the first and last issue time.
    """
    import pandas as pd

    result = getattr(result, "result", result)
    value = result.metrics()["model"].get(metric)
    if value is None:
        found = sorted(result.metrics()["model"])
        msg = f"expected the backtest to have a {metric!r} score; found {found}"
        raise RegistryError(msg)
    issues = pd.DatetimeIndex(result.forecasts["issue_time"].unique()).sort_values()
    return {
        "metric": metric,
        "value": float(value),
        "start": issues[0].isoformat(),
        "end": issues[-1].isoformat(),
    }
