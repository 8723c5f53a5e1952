"""The model registry: MLflow's Model Registry with the workbench's artifacts and lineage.

A version of ``name`` is an MLflow model version. Its source is the artifact folder written by
:func:`workbench.forecasting.model_artifacts.save_artifact` (formats ``custom``, ``darts``,
``joblib``) plus ``metadata.json``, logged to an MLflow run of the experiment
``workbench-models``; the lineage (data hash, code version, training window, metrics, backtest)
is on the version as tags and on the run as parameters and metrics.

Stages are aliases and one tag:

* ``champion`` — the version jobs load (:meth:`ModelRegistry.load`); at most one;
* ``challenger`` — the candidate; at most one;
* ``archived`` — a tag; a champion replaced by another is archived;
* ``none`` — the rest.

The old stage names are accepted as synonyms: ``production`` is ``champion``, ``staging`` is
``challenger``. Promotion to champion is guarded: the challenger's backtest metric (recorded at
register time with its window, see :func:`backtest_record`) must be no worse than the
champion's on the same window, unless forced with a reason, which the events record with the
user. Every stage change is an event (a tag of the registered model), listed by
:meth:`ModelRegistry.events`.

The store is :func:`workbench.forecasting.tracking.tracking_uri` by default (SQLite under
``WORKBENCH_HOME/mlflow``, or ``MLFLOW_TRACKING_URI``).

>>> from workbench.forecasting.registry import ModelRegistry
>>> reg = ModelRegistry()  # doctest: +SKIP
>>> v = reg.register("load_north", model, backtest=backtest_record(result))  # doctest: +SKIP
>>> reg.promote("load_north", v)  # doctest: +SKIP
>>> model = reg.load("load_north")  # the champion  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import re
import tempfile
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from workbench.forecasting.model_artifacts import (
    UNREADABLE,
    ModelVersion,
    RegistryError,
    backtest_record,
    class_path,
    code_version,
    current_user,
    data_version,
    jsonable,
    load_artifact,
    model_features,
    model_params,
    save_artifact,
)

__all__ = [
    "STAGES",
    "ModelRegistry",
    "ModelVersion",
    "RegistryError",
    "backtest_record",
    "check_stage",
    "code_version",
    "data_version",
]

STAGES = ("none", "challenger", "champion", "archived")
#: Old stage names and the aliases they now mean.
SYNONYMS = {"staging": "challenger", "production": "champion"}
EXPERIMENT = "workbench-models"
METADATA_FILE = "metadata.json"
_ARCHIVED_TAG = "workbench.archived"
_METADATA_TAG = "workbench.metadata"
_EVENT_PREFIX = "workbench.event."
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$")


def check_stage(stage: str) -> str:
    """The stage ``stage`` names (synonyms mapped); refuses one that is not a stage."""
    stage = SYNONYMS.get(stage, stage)
    if stage not in STAGES:
        known = ", ".join([*STAGES, *(f"{k} (= {v})" for k, v in SYNONYMS.items())])
        msg = f"expected a stage among {known}; found {stage!r}"
        raise RegistryError(msg)
    return stage


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


class ModelRegistry:
    """Versioned models with metadata, aliases and guarded promotion, in MLflow.

    Parameters
    ----------
    root : str or path, optional
        ``None``: the default store (:func:`workbench.forecasting.tracking.tracking_uri`). A
        folder: a SQLite store ``<root>/mlflow.db`` with artifacts in ``<root>/artifacts``
        (e.g. a scratch registry). A URI (``sqlite:///…``, ``http://…``): that MLflow store.
    """

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        from workbench.forecasting.tracking import store_for

        self._uri, self._artifact_root = store_for(root)
        self._mlflow: Any = None
        self._experiment: str | None = None

    @property
    def _client(self) -> Any:
        """The MLflow client, opened on first use (a new local store is created then)."""
        if self._mlflow is None:
            from workbench.forecasting.tracking import TrackingError, client

            try:
                self._mlflow = client(self._uri)
            except TrackingError as exc:
                raise RegistryError(str(exc)) from exc
        return self._mlflow

    def _empty(self) -> bool:
        """Whether the store is a local SQLite file not created yet (reading must not create it)."""
        if self._mlflow is not None or not self._uri.startswith("sqlite:///"):
            return False
        return not Path(self._uri.removeprefix("sqlite:///")).exists()

    @property
    def root(self) -> str:
        """The MLflow store's URI."""
        return self._uri

    # ---- names and versions

    def list_models(self) -> list[str]:
        """Names of the registered models with at least one version, sorted."""
        if self._empty():
            return []
        names, token = [], None
        while True:
            page = self._client.search_registered_models(max_results=1000, page_token=token)
            names.extend(m.name for m in page)
            token = page.token
            if not token:
                break
        return sorted(n for n in names if self._versions_of(n))

    def _versions_of(self, name: str) -> list[int]:
        if self._empty():
            return []
        found = self._client.search_model_versions(f"name = '{name}'", max_results=10000)
        return sorted(int(mv.version) for mv in found)

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

    def _check_version(self, name: str, version: Any, versions: list[int]) -> int:
        if not isinstance(version, int) or isinstance(version, bool) or version not in versions:
            msg = f"expected a version of {name!r} among {versions}; found {version!r}"
            raise RegistryError(msg)
        return version

    def alias_version(self, name: str, alias: str = "champion") -> int | None:
        """The version behind ``alias`` of ``name``; ``None`` when unset or not registered."""
        from mlflow.exceptions import MlflowException

        self._check_name(name)
        alias = check_stage(alias)
        if self._empty():
            return None
        try:
            return self._aliases(name).get(alias)
        except MlflowException as exc:
            if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
                return None
            raise

    def _aliases(self, name: str) -> dict[str, int]:
        model = self._client.get_registered_model(name)
        return {alias: int(v) for alias, v in (model.aliases or {}).items()}

    def _stage_of(self, version: int, aliases: Mapping[str, int], tags: Mapping[str, str]) -> str:
        for alias in ("champion", "challenger"):
            if aliases.get(alias) == version:
                return alias
        return "archived" if tags.get(_ARCHIVED_TAG) == "true" else "none"

    def _experiment_id(self) -> str:
        if self._experiment is None:
            from workbench.forecasting.tracking import experiment_id

            self._experiment = experiment_id(self._client, EXPERIMENT, self._artifact_root)
        return self._experiment

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
        backtest: Mapping[str, Any] | None = None,
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
        backtest : mapping, optional
            The backtest the promotion guard compares (:func:`backtest_record`):
            ``metric``, ``value`` and the window ``start`` / ``end`` of its issues.
        stage : str
            Initial stage; ``champion`` goes through the promotion guard of :meth:`promote`.
        """
        self._check_name(name)
        stage = check_stage(stage)
        extra = dict(metadata or {})
        features = features if features is not None else extra.pop("features", None)
        training_window = training_window or extra.pop("training_window", None)
        metrics = metrics if metrics is not None else extra.pop("metrics", None)
        params = extra.pop("params", None)
        if isinstance(training_window, tuple | list):
            training_window = {"start": training_window[0], "end": training_window[1]}
        if backtest is not None:
            missing = {"metric", "value", "start", "end"} - set(backtest)
            if missing:
                msg = (
                    "expected a backtest record with metric, value, start, end; "
                    f"missing {sorted(missing)}"
                )
                raise RegistryError(msg)
        spec = getattr(model, "spec_", None) or getattr(model, "spec", None)
        meta: dict[str, Any] = {
            "name": name,
            "version": None,
            "created_at": _now(),
            "model": {
                "class": class_path(model),
                "params": jsonable(params) if params is not None else model_params(model),
            },
            "spec": jsonable(spec) if spec is not None and not callable(spec) else None,
            "features": list(features) if features is not None else model_features(model),
            "fit_info": jsonable(getattr(model, "fit_info", None)),
            "training_window": jsonable(training_window),
            "metrics": jsonable(dict(metrics or {})),
            "backtest": jsonable(dict(backtest)) if backtest is not None else None,
            "data_version": data_version(data),
            "code_version": code_version(),
            "extra": jsonable(extra),
        }
        with tempfile.TemporaryDirectory(prefix="workbench-registry-") as tmp:
            folder = Path(tmp)
            meta["artifact"] = save_artifact(model, folder)  # fails before anything is created
            version = self._publish(name, folder, meta)
        if stage != "none":
            self.transition(name, version, stage)
        return version

    def _publish(self, name: str, folder: Path, meta: dict[str, Any]) -> int:
        """Log ``folder`` to a run and create the model version whose source it is."""
        from mlflow.entities import Metric, Param

        client = self._client
        run = client.create_run(
            self._experiment_id(), tags={"workbench.kind": "model", "mlflow.runName": name}
        )
        run_id = run.info.run_id
        flat = {f"model.{k}": v for k, v in (meta["model"]["params"] or {}).items()}
        params = [Param(k, str(v)[:6000]) for k, v in flat.items()]
        scores = [
            Metric(k, float(v), run.info.start_time, 0)
            for k, v in (meta["metrics"] or {}).items()
            if isinstance(v, int | float) and not isinstance(v, bool)
        ]
        for start in range(0, len(params), 100):
            client.log_batch(run_id, params=params[start : start + 100])
        if scores:
            client.log_batch(run_id, metrics=scores)
        (folder / METADATA_FILE).write_text(json.dumps(meta, indent=2), encoding="utf-8")
        client.log_artifacts(run_id, str(folder), artifact_path="model")
        client.set_terminated(run_id, "FINISHED")
        self._ensure_registered(name)
        window = meta.get("training_window") or {}
        backtest = meta.get("backtest") or {}
        tags = {
            "workbench.model_class": meta["model"]["class"],
            "workbench.artifact_format": meta["artifact"]["format"],
            "workbench.data_version": meta.get("data_version") or "",
            "workbench.git_sha": meta["code_version"].get("git_sha") or "",
            "workbench.train_start": str(window.get("start") or ""),
            "workbench.train_end": str(window.get("end") or ""),
            **{f"workbench.backtest.{k}": str(v) for k, v in backtest.items()},
            _METADATA_TAG: json.dumps(meta),  # the version number is MLflow's, added on read
        }
        mv = client.create_model_version(
            name, source=f"{run.info.artifact_uri}/model", run_id=run_id, tags=tags
        )
        return int(mv.version)

    def _ensure_registered(self, name: str) -> None:
        from mlflow.exceptions import MlflowException

        try:
            self._client.create_registered_model(name)
        except MlflowException as exc:
            if exc.error_code != "RESOURCE_ALREADY_EXISTS":
                raise

    def _event(self, name: str, event: Mapping[str, Any]) -> None:
        key = f"{_EVENT_PREFIX}{_dt.datetime.now(_dt.UTC):%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}"
        self._client.set_registered_model_tag(name, key, json.dumps(jsonable(dict(event))))

    def _guard(self, name: str, version: int, champion: int, force: bool, reason: str | None):
        """Refuse ``version`` as champion when its backtest is worse than ``champion``'s."""
        new, old = self.get(name, version=version), self.get(name, version=champion)
        a, b = new.metadata.get("backtest"), old.metadata.get("backtest")
        problem = None
        if not a or not b:
            lacking = [f"v{v.version}" for v, r in ((new, a), (old, b)) if not r]
            problem = (
                f"expected backtest scores of challenger v{version} and champion v{champion} on "
                f"the same window; found none recorded for {', '.join(lacking)}"
            )
        elif (a["start"], a["end"]) != (b["start"], b["end"]) or a["metric"] != b["metric"]:
            problem = (
                f"expected the challenger v{version} and the champion v{champion} backtested on "
                f"the same window and metric; found {a['metric']} on {a['start']}..{a['end']} vs "
                f"{b['metric']} on {b['start']}..{b['end']}"
            )
        elif float(a["value"]) > float(b["value"]):
            problem = (
                f"expected a challenger no worse than the champion on the same backtest window; "
                f"found {a['metric'].upper()} {float(a['value']):.6g} (v{version}) vs "
                f"{float(b['value']):.6g} (v{champion}) on {a['start']}..{a['end']}"
            )
        if problem is None:
            return None
        if not force:
            raise RegistryError(f"{problem}. Pass force=True (--force) to promote anyway")
        if not reason or not reason.strip():
            msg = "expected a reason for a forced promotion (reason=..., --reason); found none"
            raise RegistryError(msg)
        return problem

    def transition(
        self,
        name: str,
        version: int,
        stage: str,
        *,
        force: bool = False,
        reason: str | None = None,
    ) -> ModelVersion:
        """Move ``version`` of ``name`` to ``stage``; a new champion archives the previous one.

        Parameters
        ----------
        name, version : str, int
            The model version.
        stage : str
            ``champion``, ``challenger``, ``archived`` or ``none`` (or a synonym).
        force : bool
            Promote to champion even when the guard refuses (see :meth:`promote`).
        reason : str, optional
            Why; required with ``force``; recorded in the events.
        """
        stage = check_stage(stage)
        versions = self._require_model(name)
        self._check_version(name, version, versions)
        client, v = self._client, str(version)
        aliases = self._aliases(name)
        tags = dict(client.get_model_version(name, v).tags or {})
        previous = self._stage_of(version, aliases, tags)
        champion = aliases.get("champion")
        forced_over = None
        if stage == "champion" and champion is not None and champion != version:
            forced_over = self._guard(name, version, champion, force, reason)
        now = _now()
        for alias, held in aliases.items():
            if held == version and alias in ("champion", "challenger") and alias != stage:
                client.delete_registered_model_alias(name, alias)
        if tags.get(_ARCHIVED_TAG) == "true" and stage != "archived":
            client.delete_model_version_tag(name, v, _ARCHIVED_TAG)
        if stage == "champion" and champion is not None and champion != version:
            client.set_model_version_tag(name, str(champion), _ARCHIVED_TAG, "true")
            self._event(
                name,
                {"version": champion, "from": "champion", "to": "archived", "at": now,
                 "by": current_user(), "reason": f"version {version} promoted to champion"},
            )  # fmt: skip
        displaced = aliases.get("challenger")
        if stage == "challenger" and displaced is not None and displaced != version:
            self._event(
                name,
                {"version": displaced, "from": "challenger", "to": "none", "at": now,
                 "by": current_user(), "reason": f"version {version} is the challenger"},
            )  # fmt: skip
        if stage in ("champion", "challenger"):
            client.set_registered_model_alias(name, stage, v)
        elif stage == "archived":
            client.set_model_version_tag(name, v, _ARCHIVED_TAG, "true")
        event: dict[str, Any] = {"version": version, "from": previous, "to": stage, "at": now}
        event["by"] = current_user()
        if forced_over is not None:
            event.update(forced=True, reason=reason, refused_because=forced_over)
            client.set_model_version_tag(name, v, "workbench.forced_by", event["by"])
            client.set_model_version_tag(name, v, "workbench.forced_reason", str(reason))
            client.set_model_version_tag(name, v, "workbench.forced_at", now)
        elif reason:
            event["reason"] = reason
        self._event(name, event)
        return self.get(name, version=version)

    def promote(
        self,
        name: str,
        version: int,
        to: str = "champion",
        *,
        force: bool = False,
        reason: str | None = None,
    ) -> ModelVersion:
        """Make ``version`` the champion (or move it to ``to``), guarded.

        A new champion must have a backtest (:func:`backtest_record`) on the same window and
        metric as the current champion, and score no worse; otherwise a :class:`RegistryError`
        says what differs. ``force=True`` with a ``reason`` promotes anyway and records who
        (``WORKBENCH_USER`` or the login name) and why, in the events and as version tags.
        """
        return self.transition(name, version, to, force=force, reason=reason)

    # ---- reading

    def _resolve(self, name: str, stage: str | None, version: int | None) -> int:
        if stage is not None:
            stage = check_stage(stage)
        versions = self._require_model(name)
        if version is not None:
            return self._check_version(name, version, versions)
        stage = stage or "champion"
        aliases = self._aliases(name)
        if stage in aliases:
            return aliases[stage]
        matching = []
        held = {}
        for number in versions:
            tags = dict(self._client.get_model_version(name, str(number)).tags or {})
            held[number] = self._stage_of(number, aliases, tags)
            if held[number] == stage:
                matching.append(number)
        if not matching:
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
        """A version (by number, or the one in ``stage``, default the champion)."""
        number = self._resolve(name, stage, version)
        mv = self._client.get_model_version(name, str(number))
        tags = dict(mv.tags or {})
        if _METADATA_TAG not in tags:
            msg = (
                f"expected the workbench metadata on {name!r} v{number} (tag {_METADATA_TAG}); "
                f"found a version registered outside the workbench or half-written: archive it"
            )
            raise RegistryError(msg)
        meta = {**json.loads(tags.pop(_METADATA_TAG)), "version": number}
        stage_now = self._stage_of(number, self._aliases(name), tags)
        return ModelVersion(name, number, stage_now, meta, mv.source, tags)

    def load(self, name: str, stage: str | None = None, *, version: int | None = None) -> Any:
        """The model object of a version (default: the champion)."""
        return self.load_version(name, stage, version=version)[0]

    def load_version(
        self, name: str, stage: str | None = None, *, version: int | None = None
    ) -> tuple[Any, ModelVersion]:
        """The model and its :class:`ModelVersion` (default: the champion)."""
        from mlflow.artifacts import download_artifacts
        from mlflow.exceptions import MlflowException

        info = self.get(name, stage=stage, version=version)
        with tempfile.TemporaryDirectory(prefix="workbench-registry-") as tmp:
            try:
                folder = download_artifacts(
                    artifact_uri=info.uri, dst_path=tmp, tracking_uri=self._uri
                )
                model = load_artifact(Path(folder), info.metadata["artifact"])
            except RegistryError:
                raise
            except (*UNREADABLE, MlflowException) as exc:  # anything else propagates as is
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
        """The stage changes of ``name``, oldest first (``version, from, to, at, by``, …)."""
        self._require_model(name)
        tags = self._client.get_registered_model(name).tags or {}
        keys = sorted(k for k in tags if k.startswith(_EVENT_PREFIX))
        return [json.loads(tags[k]) for k in keys]


# module-level shorthands on the default registry ------------------------------------------


def default_registry() -> ModelRegistry:
    """The registry in the default MLflow store."""
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


def transition(name: str, version: int, stage: str, **kw: Any) -> ModelVersion:
    """:meth:`ModelRegistry.transition` on the default registry."""
    return default_registry().transition(name, version, stage, **kw)
