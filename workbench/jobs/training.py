"""When a forecast job retrains, and the key of the trained model a daily run reuses.

A utility's day-ahead process does not refit its models every morning: it retrains them on a
cadence and, each day, loads the current trained model and predicts. A forecast job's spec says
its cadence with the ``retrain`` parameter:

- ``weekly`` (the default of the four forecast jobs): the model is retrained for the issue of
  each **Monday** (local issue date) and every issue of that week, Monday to Sunday, forecasts
  with it. LightGBM (load, price) costs seconds per series to fit and drifts little in a week;
  the seasonal-naive plants (solar, wind) read the latest day at predict time anyway, only their
  quantile calibration is refitted.
- ``daily``: retrained for every issue (the model sees the latest day before each forecast).

The model of the retrain day ``A`` is fitted on what was known at ``A``'s issue time — the
same data whichever day of the week triggers the fit, so a backfill started mid-week produces
what the weekly process would have produced — and registered under its :class:`TrainKey`
(job, model, training cut-off, configuration hash, code hash). A later run of the week finds it
by that key and reuses it; ``ops.job_runs`` records the key, the registry versions and the
training window of the model that made the forecast (:func:`workbench.jobs.registry_models`).

No peeking: the cut-off of a retrain day is never after the issue it serves (``A <= issue
date``), and :func:`check_no_peek` refuses any model whose training window ends after the last
value known at the issue time, whichever way it was found.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from workbench.core.errors import WorkbenchError

#: retrain cadences a forecast job's ``retrain`` parameter accepts
CADENCES = ("daily", "weekly")
#: the weekday a weekly cadence retrains on (0 = Monday, as :meth:`date.weekday`)
WEEKLY_RETRAIN_WEEKDAY = 0


class TrainedModelError(WorkbenchError):
    """A trained model cannot serve an issue (it saw data after it), or a cadence is unknown."""


def retrain_day(issue_date: date, cadence: str) -> date:
    """The retrain day whose model serves ``issue_date``: the latest one on or before it.

    Parameters
    ----------
    issue_date : date
        The local issue date of the run.
    cadence : str
        ``daily`` (the issue date itself) or ``weekly`` (the Monday on or before it).
    """
    if cadence == "daily":
        return issue_date
    if cadence == "weekly":
        back = (issue_date.weekday() - WEEKLY_RETRAIN_WEEKDAY) % 7
        return issue_date - timedelta(days=back)
    msg = f"expected retrain in {list(CADENCES)}; found {cadence!r} (nothing was run)"
    raise TrainedModelError(msg)


#: the code a trained model depends on: the forecasting layer and the job's model code
_CODE_GLOBS = ("forecasting/**/*.py", "jobs/forecast_jobs.py", "jobs/registry_models.py")


@cache
def code_hash() -> str:
    """A short hash of the source files that shape a fitted model (12 hex digits).

    Any edit of the forecasting layer or of the job's model code changes it, so a model cached
    by an older code is not reused (it is retrained under the new key).
    """
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for pattern in _CODE_GLOBS:
        for path in sorted(root.glob(pattern)):
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def config_hash(config: Mapping[str, Any]) -> str:
    """A short hash (12 hex digits) of a JSON-able configuration (keys sorted)."""
    text = json.dumps(config, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class TrainKey:
    """What identifies a trained model: reused only when every part is the same.

    ``until`` is the training cut-off: the issue time (UTC) of the retrain day; the model saw
    only what was known then.
    """

    job: str  # the registry name of the job's models, e.g. load_day_ahead
    model: str  # the model kind, e.g. lightgbm
    until: datetime  # the training cut-off [UTC]
    config: str  # hash of the model's parameters, window, horizon, quantiles and covariates
    code: str  # :func:`code_hash`

    @property
    def text(self) -> str:
        """The key as stored on each registered version (``extra.train_key``)."""
        return (
            f"{self.job}|{self.model}|until={self.until.isoformat()}"
            f"|config={self.config}|code={self.code}"
        )


def check_no_peek(window_end: Any, last_known: Any, what: str) -> None:
    """Refuse a model whose training window ends after ``last_known`` (what the issue knew).

    Parameters
    ----------
    window_end : timestamp
        The last training label of the model (UTC).
    last_known : timestamp
        The last label known at the issue time (its availability lag applied).
    what : str
        The model, for the message (``load_day_ahead-NORTH v3``).
    """
    import pandas as pd

    if window_end is None:
        msg = f"{what}: expected a recorded training window end; found none (retrain it)"
        raise TrainedModelError(msg)
    if pd.Timestamp(window_end) > pd.Timestamp(last_known):
        msg = (
            f"{what}: expected a model trained on data up to {pd.Timestamp(last_known)} at "
            f"most (known at the issue time); found a training window ending "
            f"{pd.Timestamp(window_end)} (nothing was published)"
        )
        raise TrainedModelError(msg)
