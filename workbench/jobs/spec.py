"""Job specs: ``pipelines/papermill/<job>.yaml`` → validated :class:`JobSpec`.

A spec promotes a notebook to a scheduled job without rewriting it::

    name: day_ahead_load
    description: day-ahead load forecast per region, published to gold.load_forecasts
    notebook: notebooks/day_ahead_load.ipynb      # relative to the spec; .ipynb or marimo .py
    owner: forecasting
    parameters:
      issue_date: {type: date, default: auto, description: local day the forecast is issued}
      horizon_hours: {type: int, default: 48, min: 1, max: 168}
    run_key: "{job}:{issue_date}"                 # a rerun with the same key replaces its rows
    schedule: {cron: "0 10 * * *", timezone: America/Chicago, catchup: latest, max_catchup: 3}
    timeout: 10min
    retries: {max: 2, backoff: 30s, factor: 2, retry_on: [warehouse_locked]}  # transient only
    outputs: [gold.load_forecasts, gold.fact_load]
    alerts:
      - {metric: mape_day_ahead_pct, above: 5}

A forecast job's ``model`` parameter declares ``choices_from: forecast_models``: an unknown
name is refused before anything runs, listing the valid ones. There is no implicit fallback:
a spec that wants the seasonal baseline when the model's optional dependency is missing says
so with a parameter ``fallback: {type: str, default: seasonal_baseline, choices:
["", seasonal_baseline]}``, and such a run is recorded ``degraded`` with the reason.

A forecast job's ``retrain`` parameter (``choices: [weekly, daily]``) is its model's retrain
cadence: ``weekly`` (the default of the four forecast jobs) fits the model for each Monday's
issue and reuses it through Sunday; ``daily`` fits it for every issue
(:mod:`workbench.jobs.training`).

Validation is strict like the catalog's: unknown keys are rejected, and every problem names the
file and the key.
"""

from __future__ import annotations

import re
import string
from datetime import date
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from workbench.catalog.schema import parse_duration
from workbench.core.errors import WorkbenchError

ParamType = Literal["str", "int", "float", "bool", "date"]
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
#: Parameter values a ``date`` parameter accepts besides ``YYYY-MM-DD``: resolved by the job.
DATE_KEYWORDS = ("auto", "today", "yesterday")


class JobSpecError(WorkbenchError):
    """A job spec is malformed, or a parameter value breaks its declaration."""


class JobNotFoundError(JobSpecError, KeyError):
    """No spec with that job name; the message lists the known ones."""

    def __str__(self) -> str:  # KeyError would quote the message otherwise
        return str(self.args[0])


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Parameter(_Strict):
    """A typed notebook parameter with its default and constraints."""

    type: ParamType
    default: Any = None
    description: str | None = None
    choices: list[Any] | None = None
    #: choices computed at run time: ``forecast_models`` = the model factory's names
    #: (:func:`workbench.jobs.models.model_choices`) and its ``sktime:<ClassName>`` prefix rule
    choices_from: Literal["forecast_models"] | None = None
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _default_is_valid(self) -> Parameter:
        if self.default is not None:
            try:
                coerce(self, self.default, "default")
            except JobSpecError as exc:
                raise ValueError(str(exc)) from None
        if (self.min is not None or self.max is not None) and self.type not in ("int", "float"):
            msg = f"min/max apply to int and float parameters; found type {self.type!r}"
            raise ValueError(msg)
        if self.choices_from is not None and (self.type != "str" or self.choices is not None):
            msg = "choices_from applies to a str parameter without fixed choices"
            raise ValueError(msg)
        return self


def coerce(param: Parameter, value: Any, name: str, *, dynamic: bool = False) -> Any:
    """Turn a value (from YAML or ``-p key=value`` text) into its canonical typed form, or raise.

    Canonical, so that equal values give equal run keys: dates become ISO strings
    (``20241228`` and ``2024-12-28`` both give ``"2024-12-28"``) or stay one of
    :data:`DATE_KEYWORDS`; ints and floats become numbers, text is stripped. With ``dynamic``
    (at run time, not when a spec is loaded) ``choices_from`` is checked too, which imports
    the model factory.
    """
    kind = param.type
    try:
        if kind == "str":
            out: Any = str(value).strip()
        elif kind == "bool":
            if isinstance(value, bool):
                out = value
            elif str(value).lower() in ("true", "1", "yes"):
                out = True
            elif str(value).lower() in ("false", "0", "no"):
                out = False
            else:
                raise ValueError
        elif kind == "int":
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError
            out = int(value)
        elif kind == "float":
            if isinstance(value, bool):
                raise ValueError
            out = float(value)
        else:  # date
            text = value.isoformat() if isinstance(value, date) else str(value).strip()
            out = text if text in DATE_KEYWORDS else date.fromisoformat(text).isoformat()
    except (TypeError, ValueError):
        extra = f" or one of {list(DATE_KEYWORDS)}" if kind == "date" else ""
        msg = f"parameter {name!r}: expected a {kind}{extra}; found {value!r}"
        raise JobSpecError(msg) from None
    if param.choices is not None and out not in param.choices:
        msg = f"parameter {name!r}: expected one of {param.choices}; found {out!r}"
        raise JobSpecError(msg)
    if dynamic and param.choices_from == "forecast_models":
        from workbench.jobs.models import check_model_name

        check_model_name(out, name)
    if param.min is not None and out < param.min:
        msg = f"parameter {name!r}: expected at least {param.min:g}; found {out!r}"
        raise JobSpecError(msg)
    if param.max is not None and out > param.max:
        msg = f"parameter {name!r}: expected at most {param.max:g}; found {out!r}"
        raise JobSpecError(msg)
    return out


class Schedule(_Strict):
    """A cron schedule in a timezone, and what to do with ticks missed while nothing ran."""

    cron: str
    timezone: str = "UTC"
    catchup: Literal["none", "latest", "all"] = "latest"
    max_catchup: int = Field(default=7, ge=1)
    #: a tick sets the date parameter to its local day plus this (-1: the day before) [d]
    date_offset_days: int = 0

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        from croniter import croniter

        if not croniter.is_valid(value):
            msg = f"expected a cron expression like '0 10 * * *' (5 or 6 fields); found {value!r}"
            raise ValueError(msg)
        return value

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            msg = f"expected an IANA timezone such as 'America/Chicago'; found {value!r}"
            raise ValueError(msg) from None
        return value


#: Failure kinds the runner recognises (besides exception class names such as ``OSError``).
TRANSIENT_KINDS = ("warehouse_locked", "kernel_died", "timeout")


class Retries(_Strict):
    """Retry a failed run up to ``max`` times, waiting ``backoff`` × ``factor`` ** attempt.

    Only failures listed in ``retry_on`` are retried: a kind of :data:`TRANSIENT_KINDS`
    (``warehouse_locked``: the warehouse file was held by another writer too long;
    ``kernel_died``: the notebook's process died; ``timeout``: the job's timeout) or the class
    name of the exception a cell raised (``ConnectionError``). Anything else — a data or
    validation error such as no history before the issue date — fails at once.
    """

    max: int = Field(default=0, ge=0, le=10)
    backoff: str = "10s"
    factor: float = Field(default=2.0, ge=1.0)
    retry_on: list[str] = Field(default_factory=list)

    @field_validator("retry_on")
    @classmethod
    def _kinds(cls, value: list[str]) -> list[str]:
        bad = [v for v in value if v not in TRANSIENT_KINDS and not re.match(r"^[A-Z]\w*$", v)]
        if bad:
            msg = (
                f"expected failure kinds {list(TRANSIENT_KINDS)} or exception class names "
                f"(CamelCase); found {bad}"
            )
            raise ValueError(msg)
        return value

    @model_validator(mode="after")
    def _declared(self) -> Retries:
        if self.max > 0 and not self.retry_on:
            msg = (
                f"retries.max is {self.max} but retries.retry_on is empty; expected the "
                "transient failures to retry, e.g. retry_on: [warehouse_locked, kernel_died]"
            )
            raise ValueError(msg)
        return self

    @field_validator("backoff")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration(value)
        return value

    def delay_s(self, attempt: int) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based) [s]."""
        return parse_duration(self.backoff).total_seconds() * self.factor ** (attempt - 1)


class Alert(_Strict):
    """Fire when a recorded metric is above or below a threshold."""

    metric: str
    above: float | None = None
    below: float | None = None

    @model_validator(mode="after")
    def _one_bound(self) -> Alert:
        if (self.above is None) == (self.below is None):
            msg = f"alert on {self.metric!r}: expected exactly one of 'above' or 'below'"
            raise ValueError(msg)
        return self

    def fired(self, metrics: dict[str, Any]) -> str | None:
        """The alert's message when it fires on ``metrics``, else ``None``."""
        value = metrics.get(self.metric)
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            return None
        if self.above is not None and value > self.above:
            return f"{self.metric} = {value:.4g} is above {self.above:g}"
        if self.below is not None and value < self.below:
            return f"{self.metric} = {value:.4g} is below {self.below:g}"
        return None


class AutoDate(_Strict):
    """How ``auto`` resolves for a date parameter: the latest local day of a table, shifted."""

    table: str
    offset_days: int = 0


class JobSpec(_Strict):
    """One job: a notebook, its parameters, schedule, limits, outputs and alerts."""

    name: str
    description: str
    notebook: str
    owner: str
    parameters: dict[str, Parameter] = Field(default_factory=dict)
    run_key: str | None = None
    backfill_parameter: str | None = None
    auto_date: AutoDate | None = None
    schedule: Schedule | None = None
    timeout: str = "30min"
    retries: Retries = Field(default_factory=Retries)
    outputs: list[str] = Field(default_factory=list)
    alerts: list[Alert] = Field(default_factory=list)
    # where the spec file was read from (set by the loader, not written in YAML)
    source: str | None = Field(default=None, exclude=True)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.match(value):
            msg = f"expected a job name of lowercase letters, digits and '_'; found {value!r}"
            raise ValueError(msg)
        return value

    @field_validator("notebook")
    @classmethod
    def _notebook(cls, value: str) -> str:
        if not value.endswith((".ipynb", ".py")):
            msg = f"expected a Jupyter .ipynb or a marimo .py notebook; found {value!r}"
            raise ValueError(msg)
        return value

    @field_validator("timeout")
    @classmethod
    def _timeout(cls, value: str) -> str:
        parse_duration(value)
        return value

    @field_validator("outputs")
    @classmethod
    def _outputs(cls, value: list[str]) -> list[str]:
        bad = [v for v in value if not re.match(r"^(bronze|silver|gold|ops)\.[a-z0-9_]+$", v)]
        if bad:
            msg = f"expected catalog table names such as 'gold.load_forecasts'; found {bad}"
            raise ValueError(msg)
        return value

    @model_validator(mode="after")
    def _references(self) -> JobSpec:
        reserved = {"run_id", "run_key"} & set(self.parameters)
        if reserved:
            msg = f"parameters {sorted(reserved)} are set by the runner; rename them"
            raise ValueError(msg)
        if self.run_key is not None:
            fields = _run_key_fields(self.run_key)
            unknown = fields - set(self.parameters) - {"job"}
            if unknown:
                msg = (
                    f"run_key {self.run_key!r} names {sorted(unknown)}; expected only 'job' and "
                    f"parameters {sorted(self.parameters)}"
                )
                raise ValueError(msg)
        if self.backfill_parameter is not None:
            param = self.parameters.get(self.backfill_parameter)
            if param is None or param.type != "date":
                msg = (
                    f"backfill_parameter {self.backfill_parameter!r}: expected a date parameter; "
                    f"found {param.type if param else 'no such parameter'}"
                )
                raise ValueError(msg)
        return self

    @property
    def timeout_s(self) -> float:
        return parse_duration(self.timeout).total_seconds()

    @property
    def date_parameter(self) -> str | None:
        """The date parameter a backfill or a scheduled tick sets (declared, or ``issue_date``)."""
        if self.backfill_parameter:
            return self.backfill_parameter
        param = self.parameters.get("issue_date")
        return "issue_date" if param is not None and param.type == "date" else None

    def notebook_path(self) -> Path:
        """The notebook, resolved against the spec file's folder."""
        path = Path(self.notebook)
        if not path.is_absolute() and self.source:
            path = Path(self.source).parent / path
        return path

    def is_marimo(self) -> bool:
        return self.notebook.endswith(".py")

    def resolve(self, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
        """Defaults overlaid with ``overrides`` (text or typed), each checked; unknowns fail."""
        overrides = dict(overrides or {})
        unknown = set(overrides) - set(self.parameters)
        if unknown:
            msg = (
                f"job {self.name!r} has no parameters {sorted(unknown)}; "
                f"expected some of {sorted(self.parameters)}"
            )
            raise JobSpecError(msg)
        values: dict[str, Any] = {}
        for name, param in self.parameters.items():
            raw = overrides.get(name, param.default)
            if raw is None:
                msg = f"job {self.name!r}: parameter {name!r} has no default; pass -p {name}=…"
                raise JobSpecError(msg)
            values[name] = coerce(param, raw, name, dynamic=True)
        return values

    def key_for(self, values: dict[str, Any]) -> str:
        """The run key of a run with these (resolved) parameter values."""
        if self.run_key is not None:
            return self.run_key.format(job=self.name, **values)
        parts = ",".join(f"{k}={values[k]}" for k in sorted(values))
        return f"{self.name}:{parts}" if parts else self.name


def _run_key_fields(template: str) -> set[str]:
    """The plain ``{name}`` fields of a run key template; anything fancier is refused."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        msg = f"run_key {template!r}: expected a template like '{{job}}:{{issue_date}}'; {exc}"
        raise ValueError(msg) from None
    fields = set()
    for _, field_name, spec, conversion in parsed:
        if field_name is None:
            continue
        if not re.match(r"^[a-z_][a-z0-9_]*$", field_name) or spec or conversion:
            shown = (
                field_name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
            )
            msg = (
                f"run_key {template!r}: expected plain fields such as {{issue_date}}; found "
                f"{{{shown}}} (nested fields, indexes, formats and conversions are not allowed)"
            )
            raise ValueError(msg)
        fields.add(field_name)
    return fields


def _problems(exc: ValidationError) -> list[str]:
    out = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "spec"
        if err["type"] == "extra_forbidden":
            text = "unknown key (is this a typo?)"
        elif err["type"] == "missing":
            text = "missing required key"
        else:
            text = err["msg"].removeprefix("Value error, ")
            if err["type"].endswith("_type") or err["type"] == "literal_error":
                text += f"; found {err.get('input')!r}"
        out.append(f"key {where!r}: {text}")
    return out


def parse_job_spec(raw: Any, source: str = "<spec>") -> JobSpec:
    """Validate an already-loaded YAML mapping; errors name the file and the key."""
    if not isinstance(raw, dict):
        msg = (
            f"{source}: expected a mapping with name, notebook, owner…; found {type(raw).__name__}"
        )
        raise JobSpecError(msg)
    try:
        spec = JobSpec.model_validate({**raw, "source": source})
    except ValidationError as exc:
        problems = _problems(exc)
        if len(problems) == 1:  # one line, as the CLI prints it
            raise JobSpecError(f"{source}: invalid job spec: {problems[0]}") from None
        lines = "\n".join(f"  - {p}" for p in problems)
        raise JobSpecError(f"{source}: invalid job spec:\n{lines}") from None
    except JobSpecError as exc:
        raise JobSpecError(f"{source}: {exc}") from None
    stem = Path(source).stem
    if source != "<spec>" and stem != spec.name:
        msg = f"{source}: expected the job name to be the file's name {stem!r}; found {spec.name!r}"
        raise JobSpecError(msg)
    return spec


def load_job_spec(path: str | Path) -> JobSpec:
    """Read and validate one spec file."""
    import yaml

    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise JobSpecError(f"cannot read the job spec {path}: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise JobSpecError(f"{path}: expected valid YAML; {exc}") from exc
    spec = parse_job_spec(raw, str(path))
    if not spec.notebook_path().exists():
        msg = f"{path}: key 'notebook': expected a file at {spec.notebook_path()}; found none"
        raise JobSpecError(msg)
    return spec


def default_jobs_dir() -> Path:
    """``WORKBENCH_JOBS_DIR`` or the project's ``pipelines/papermill``."""
    import os

    from workbench.core.config import project_root

    env = os.environ.get("WORKBENCH_JOBS_DIR")
    if env:
        return Path(env).expanduser()
    root = project_root() or Path(__file__).resolve().parents[2]
    return root / "pipelines" / "papermill"


def load_job_specs(folder: str | Path | None = None) -> dict[str, JobSpec]:
    """Every ``*.yaml`` spec in ``folder`` (default :func:`default_jobs_dir`), by job name."""
    folder = Path(folder) if folder is not None else default_jobs_dir()
    if not folder.is_dir():
        raise JobSpecError(f"expected a folder of job specs at {folder}; found none")
    specs = [load_job_spec(p) for p in sorted(folder.glob("*.yaml"))]
    return {s.name: s for s in specs}


def get_job_spec(name: str, folder: str | Path | None = None) -> JobSpec:
    """One job's spec by name; an unknown name lists the known ones."""
    import difflib

    specs = load_job_specs(folder)
    if name not in specs:
        close = difflib.get_close_matches(name, list(specs), n=3, cutoff=0.5)
        hint = (
            f"did you mean {' or '.join(map(repr, close))}?"
            if close
            else "see `workbench jobs list`"
        )
        raise JobNotFoundError(f"no job named {name!r}; found {sorted(specs)}; {hint}")
    return specs[name]
