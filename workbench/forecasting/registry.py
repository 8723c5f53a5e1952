"""A model registry on disk: versioned artifacts, metadata and stages.

Layout under the root (default ``WORKBENCH_HOME/registry``; any fsspec URL works too)::

    <root>/<name>/versions/<N>/metadata.json   immutable: what was trained, on what, by which code
    <root>/<name>/versions/<N>/artifact...     the model (joblib, or the model's own save format)
    <root>/<name>/stages.json                  mutable: the stage of each version + transition log

Versions are monotonic integers per name, allocated by an atomic rename of a fully written
temporary folder (a crash never leaves a half-written version). Stages are ``none``,
``staging``, ``production`` and ``archived``; at most one version is in ``production`` — promoting
another archives the previous one.

Artifacts are written by the model's own format when it has one:

* objects with ``save_artifact(folder)`` and a class method ``load_artifact(folder)`` (the
  workbench's darts-backed forecasters in :mod:`workbench.forecasting.deep`) — format ``custom``;
* darts torch models (``TorchForecastingModel``): ``model.save`` / ``Class.load`` — ``darts``;
* anything else: :mod:`joblib` (pickle) — ``joblib``.

>>> from workbench.forecasting.registry import ModelRegistry
>>> reg = ModelRegistry()  # doctest: +SKIP
>>> v = reg.register("load_north", model, data=train, metrics={"mape": 2.1})  # doctest: +SKIP
>>> reg.promote("load_north", v)  # doctest: +SKIP
>>> model = reg.load("load_north")  # the production version  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import importlib
import json
import os
import pickle
import re
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.core.errors import WorkbenchError

STAGES = ("none", "staging", "production", "archived")
#: What a damaged, truncated or incompatible artifact raises while it is read back.
_UNREADABLE = (
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
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$")
METADATA_FILE = "metadata.json"
STAGES_FILE = "stages.json"


def check_stage(stage: str) -> None:
    """Refuse a stage name that is not one of :data:`STAGES`."""
    if stage not in STAGES:
        msg = f"expected a stage among {', '.join(STAGES)}; found {stage!r}"
        raise RegistryError(msg)


class RegistryError(WorkbenchError):
    """A registry operation failed: unknown model, version or stage, or a bad name."""


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
        One of ``none``, ``staging``, ``production``, ``archived``.
    metadata : dict
        The version's metadata (see :meth:`ModelRegistry.register`).
    uri : str
        Where the version's folder is.
    """

    name: str
    version: int
    stage: str
    metadata: dict[str, Any] = field(repr=False)
    uri: str = field(repr=False, default="")

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


# --------------------------------------------------------------------------------------------
# storage: a local folder (atomic os.replace) or any fsspec file system


class _Store:
    """Minimal file operations on a local folder or an fsspec URL."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        text = os.fspath(root)
        if "://" in text and not text.startswith("file://"):
            from fsspec.core import url_to_fs

            self.fs, self.root = url_to_fs(text)
            self.local = False
        else:
            self.fs = None
            self.root = str(Path(text.removeprefix("file://")).expanduser().resolve())
            self.local = True
        self.url = text

    def join(self, *parts: str) -> str:
        return "/".join([self.root.rstrip("/"), *parts])

    def exists(self, path: str) -> bool:
        return os.path.exists(path) if self.local else self.fs.exists(path)

    def listdir(self, path: str) -> list[str]:
        if self.local:
            return sorted(os.listdir(path)) if os.path.isdir(path) else []
        if not self.fs.exists(path):
            return []
        return sorted(p.rstrip("/").rsplit("/", 1)[-1] for p in self.fs.ls(path, detail=False))

    def read_text(self, path: str) -> str:
        if self.local:
            return Path(path).read_text(encoding="utf-8")
        with self.fs.open(path, "r", encoding="utf-8") as fh:
            return fh.read()

    def write_text_atomic(self, path: str, text: str) -> None:
        """Write ``text`` to a temporary sibling, then rename it over ``path``."""
        tmp = f"{path}.tmp-{uuid.uuid4().hex}"
        if self.local:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "w", encoding="utf-8") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        else:
            with self.fs.open(tmp, "w", encoding="utf-8") as fh:
                fh.write(text)
            self.fs.mv(tmp, path)

    def publish_dir(self, local_dir: Path, dest: str) -> bool:
        """Move a fully written local folder to ``dest``; ``False`` if ``dest`` already exists."""
        if self.local:
            Path(dest).parent.mkdir(parents=True, exist_ok=True)
            staging = f"{Path(dest).parent}/.tmp-{uuid.uuid4().hex}"
            shutil.copytree(local_dir, staging)
            try:
                os.rename(staging, dest)  # atomic; fails when dest exists and is not empty
            except OSError:
                shutil.rmtree(staging, ignore_errors=True)
                return False
            return True
        if self.fs.exists(dest):
            return False
        staging = f"{dest.rsplit('/', 1)[0]}/.tmp-{uuid.uuid4().hex}"
        self.fs.put(str(local_dir), staging, recursive=True)
        self.fs.mv(staging, dest, recursive=True)
        return True

    @contextlib.contextmanager
    def fetch_dir(self, path: str) -> Iterator[Path]:
        """A local folder with the contents of ``path`` (the folder itself when local)."""
        if self.local:
            yield Path(path)
            return
        with tempfile.TemporaryDirectory(prefix="workbench-registry-") as tmp:
            self.fs.get(path.rstrip("/") + "/", tmp + "/", recursive=True)
            yield Path(tmp)

    @contextlib.contextmanager
    def lock(self, path: str, timeout_s: float = 30.0) -> Iterator[None]:
        """An exclusive lock file for read-modify-write of stages (local folders only)."""
        if not self.local:
            yield
            return
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
                break
            except FileExistsError:
                with contextlib.suppress(FileNotFoundError):
                    if time.time() - os.path.getmtime(path) > timeout_s:
                        os.unlink(path)  # stale lock of a crashed process
                        continue
                if time.monotonic() > deadline:
                    msg = (
                        f"expected the registry lock {path} to be released; it is still held"
                        " — delete it if no other process is running"
                    )
                    raise RegistryError(msg) from None
                time.sleep(0.05)
        try:
            yield
        finally:
            os.close(fd)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)


# --------------------------------------------------------------------------------------------
# metadata helpers


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


def _jsonable(value: Any) -> Any:
    """``value`` made JSON-safe: timestamps as ISO text, numpy scalars as Python, else repr."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else None
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if isinstance(value, _dt.datetime | _dt.date):
        return value.isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item") and callable(value.item):
        with contextlib.suppress(*_DUCK_TYPING_ERRORS):
            return _jsonable(value.item())
    if hasattr(value, "__dataclass_fields__"):
        return {n: _jsonable(getattr(value, n)) for n in value.__dataclass_fields__}
    return repr(value)


def _model_params(model: Any) -> dict[str, Any]:
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
    return _jsonable(params)


def _model_features(model: Any) -> list[str] | None:
    for attr in ("feature_names_", "feature_names", "feature_name_"):
        value = getattr(model, attr, None)
        if callable(value):
            with contextlib.suppress(*_DUCK_TYPING_ERRORS):
                value = value()
        if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
            return list(value)
    return None


def _class_path(obj: Any) -> str:
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


def _save_artifact(model: Any, folder: Path) -> dict[str, str]:
    if callable(getattr(model, "save_artifact", None)) and callable(
        getattr(type(model), "load_artifact", None)
    ):
        (folder / "artifact").mkdir()
        model.save_artifact(folder / "artifact")
        return {"format": "custom", "path": "artifact", "class": _class_path(model)}
    if _is_darts_torch_model(model):
        (folder / "artifact").mkdir()
        model.save(str(folder / "artifact" / "model.pt"))
        return {"format": "darts", "path": "artifact/model.pt", "class": _class_path(model)}
    import joblib

    joblib.dump(model, folder / "model.joblib")
    return {"format": "joblib", "path": "model.joblib", "class": _class_path(model)}


def _load_artifact(folder: Path, artifact: Mapping[str, str]) -> Any:
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


# --------------------------------------------------------------------------------------------
# the registry


class ModelRegistry:
    """Versioned models with metadata and stages, under a folder or an fsspec URL.

    Parameters
    ----------
    root : str or path, optional
        Where the registry lives; default ``WORKBENCH_HOME/registry``. ``memory://``,
        ``s3://...`` etc. work through fsspec (version allocation is then atomic only as far as
        the file system's rename is).
    """

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        if root is None:
            from workbench.core.config import workbench_home

            root = workbench_home() / "registry"
        self._store = _Store(root)

    @property
    def root(self) -> str:
        """The registry's location."""
        return self._store.url

    # ---- names and versions

    def list_models(self) -> list[str]:
        """Names of the registered models, sorted."""
        return [
            n
            for n in self._store.listdir(self._store.root)
            if _NAME_RE.match(n) and self._versions_of(n)
        ]

    def _versions_of(self, name: str) -> list[int]:
        entries = self._store.listdir(self._store.join(name, "versions"))
        return sorted(int(e) for e in entries if e.isdigit())

    def _check_name(self, name: str) -> None:
        if not isinstance(name, str) or not _NAME_RE.match(name):
            msg = (
                f"expected a model name of letters, digits, '_', '-' or '.' (at most 128, "
                f"starting with a letter or digit); found {name!r}"
            )
            raise RegistryError(msg)

    def _require_model(self, name: str) -> list[int]:
        self._check_name(name)
        versions = self._versions_of(name)
        if not versions:
            known = self.list_models()
            listing = ", ".join(known) if known else "none yet"
            msg = (
                f"expected a registered model name; found {name!r}, which is not in the registry "
                f"at {self.root} (registered: {listing})"
            )
            raise RegistryError(msg)
        return versions

    def _stages(self, name: str) -> dict[str, Any]:
        path = self._store.join(name, STAGES_FILE)
        if not self._store.exists(path):
            return {"stages": {}, "events": []}
        return json.loads(self._store.read_text(path))

    # ---- writing

    def register(
        self,
        name: str,
        model: Any,
        metadata: Mapping[str, Any] | None = None,
        *,
        data: Any = None,
        features: Sequence[str] | None = None,
        training_window: tuple[Any, Any] | Mapping[str, Any] | None = None,
        metrics: Mapping[str, Any] | None = None,
        stage: str = "none",
    ) -> int:
        """Save ``model`` as the next version of ``name``; returns the version number.

        Parameters
        ----------
        name : str
            Model name (letters, digits, ``_ - .``), e.g. ``"load_north_lightgbm"``.
        model : object
            The fitted model (any picklable object, a darts torch model, or an object with
            ``save_artifact`` / ``load_artifact``).
        metadata : mapping, optional
            Extra metadata stored under ``"extra"``; the keys ``features``,
            ``training_window``, ``metrics`` and ``params`` are taken as the arguments below.
        data : object, optional
            The training data, hashed into ``data_version`` (see :func:`data_version`).
        features : sequence of str, optional
            Feature names; default the model's ``feature_names_`` when it has them.
        training_window : (start, end) or mapping, optional
            First and last training timestamps [UTC].
        metrics : mapping, optional
            Validation or backtest scores, e.g. ``{"mape": 2.3}``.
        stage : str
            Initial stage; ``production`` archives the current production version.
        """
        self._check_name(name)
        self._check_stage(stage)
        extra = dict(metadata or {})
        features = features if features is not None else extra.pop("features", None)
        training_window = training_window or extra.pop("training_window", None)
        metrics = metrics if metrics is not None else extra.pop("metrics", None)
        params = extra.pop("params", None)
        if isinstance(training_window, tuple | list):
            training_window = {"start": training_window[0], "end": training_window[1]}
        spec = getattr(model, "spec_", None) or getattr(model, "spec", None)
        meta: dict[str, Any] = {
            "name": name,
            "version": None,
            "created_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            "model": {
                "class": _class_path(model),
                "params": _jsonable(params) if params is not None else _model_params(model),
            },
            "spec": _jsonable(spec) if spec is not None and not callable(spec) else None,
            "features": list(features) if features is not None else _model_features(model),
            "fit_info": _jsonable(getattr(model, "fit_info", None)),
            "training_window": _jsonable(training_window),
            "metrics": _jsonable(dict(metrics or {})),
            "data_version": data_version(data),
            "code_version": code_version(),
            "extra": _jsonable(extra),
        }
        with tempfile.TemporaryDirectory(prefix="workbench-registry-") as tmp:
            folder = Path(tmp) / "v"
            folder.mkdir()
            meta["artifact"] = _save_artifact(model, folder)
            for _attempt in range(100):
                existing = self._versions_of(name)
                version = (existing[-1] if existing else 0) + 1
                meta["version"] = version
                (folder / METADATA_FILE).write_text(json.dumps(meta, indent=2), encoding="utf-8")
                dest = self._store.join(name, "versions", str(version))
                if self._store.publish_dir(folder, dest):
                    break
            else:  # pragma: no cover - 100 concurrent writers
                msg = f"expected to allocate a version of {name!r}; 100 attempts collided"
                raise RegistryError(msg)
        if stage != "none":
            self.transition(name, version, stage)
        return version

    def _check_stage(self, stage: str) -> None:
        check_stage(stage)

    def transition(self, name: str, version: int, stage: str) -> ModelVersion:
        """Move ``version`` of ``name`` to ``stage``; production archives the previous one."""
        self._check_stage(stage)
        versions = self._require_model(name)
        self._check_version(name, version, versions)
        path = self._store.join(name, STAGES_FILE)
        with self._store.lock(self._store.join(name, ".stages.lock")):
            state = self._stages(name)
            stages: dict[str, str] = state.setdefault("stages", {})
            events: list[dict[str, Any]] = state.setdefault("events", [])
            now = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
            if stage == "production":
                for other, current in list(stages.items()):
                    if current == "production" and int(other) != version:
                        stages[other] = "archived"
                        events.append(
                            {
                                "version": int(other),
                                "from": "production",
                                "to": "archived",
                                "at": now,
                                "reason": f"version {version} promoted to production",
                            }
                        )
            previous = stages.get(str(version), "none")
            stages[str(version)] = stage
            events.append({"version": version, "from": previous, "to": stage, "at": now})
            self._store.write_text_atomic(path, json.dumps(state, indent=2))
        return self.get(name, version=version)

    def promote(self, name: str, version: int, stage: str = "production") -> ModelVersion:
        """Shorthand for :meth:`transition` to ``production`` (or another stage)."""
        return self.transition(name, version, stage)

    def _check_version(self, name: str, version: Any, versions: list[int]) -> int:
        if not isinstance(version, int) or isinstance(version, bool) or version not in versions:
            msg = f"expected a version of {name!r} among {versions}; found {version!r}"
            raise RegistryError(msg)
        return version

    # ---- reading

    def _resolve(self, name: str, stage: str | None, version: int | None) -> int:
        if stage is not None:
            self._check_stage(stage)
        versions = self._require_model(name)
        if version is not None:
            return self._check_version(name, version, versions)
        stage = stage or "production"
        stages = self._stages(name).get("stages", {})
        matching = [v for v in versions if stages.get(str(v), "none") == stage]
        if not matching:
            held = {v: stages.get(str(v), "none") for v in versions}
            listing = ", ".join(f"v{v}={s}" for v, s in held.items())
            msg = (
                f"expected a version of {name!r} in stage {stage!r}; found none ({listing}); "
                f"promote one with `workbench models promote {name} VERSION --stage {stage}`"
            )
            raise RegistryError(msg)
        return matching[-1]

    def get(
        self, name: str, *, stage: str | None = None, version: int | None = None
    ) -> ModelVersion:
        """The metadata of a version (by number, or the latest in ``stage``, default production)."""
        number = self._resolve(name, stage, version)
        folder = self._store.join(name, "versions", str(number))
        meta = json.loads(self._store.read_text(f"{folder}/{METADATA_FILE}"))
        current = self._stages(name).get("stages", {}).get(str(number), "none")
        return ModelVersion(name, number, current, meta, folder)

    def load(self, name: str, stage: str | None = None, *, version: int | None = None) -> Any:
        """The model object of a version (default: the production one)."""
        return self.load_version(name, stage, version=version)[0]

    def load_version(
        self, name: str, stage: str | None = None, *, version: int | None = None
    ) -> tuple[Any, ModelVersion]:
        """The model and its :class:`ModelVersion`."""
        info = self.get(name, stage=stage, version=version)
        with self._store.fetch_dir(info.uri) as folder:
            try:
                model = _load_artifact(folder, info.metadata["artifact"])
            except RegistryError:
                raise
            except _UNREADABLE as exc:  # anything else (a bug, a library error) propagates as is
                msg = (
                    f"expected to load {name!r} v{info.version} from {info.uri}; "
                    f"found an unreadable artifact ({type(exc).__name__}: {exc})"
                )
                raise RegistryError(msg) from exc
        return model, info

    def history(self, name: str) -> list[ModelVersion]:
        """Every version of ``name``, oldest first, with its current stage."""
        versions = self._require_model(name)
        return [self.get(name, version=v) for v in versions]

    def events(self, name: str) -> list[dict[str, Any]]:
        """The stage transitions of ``name``, oldest first."""
        self._require_model(name)
        return list(self._stages(name).get("events", []))


# module-level shorthands on the default registry ------------------------------------------


def default_registry() -> ModelRegistry:
    """The registry under the current ``WORKBENCH_HOME``."""
    return ModelRegistry()


def register(name: str, model: Any, metadata: Mapping[str, Any] | None = None, **kw: Any) -> int:
    """:meth:`ModelRegistry.register` on the default registry."""
    return default_registry().register(name, model, metadata, **kw)


def load(name: str, stage: str | None = None, *, version: int | None = None) -> Any:
    """:meth:`ModelRegistry.load` on the default registry."""
    return default_registry().load(name, stage, version=version)


def list_models() -> list[str]:
    """:meth:`ModelRegistry.list_models` on the default registry."""
    return default_registry().list_models()


def history(name: str) -> list[ModelVersion]:
    """:meth:`ModelRegistry.history` on the default registry."""
    return default_registry().history(name)


def transition(name: str, version: int, stage: str) -> ModelVersion:
    """:meth:`ModelRegistry.transition` on the default registry."""
    return default_registry().transition(name, version, stage)
