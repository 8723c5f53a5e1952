"""Deep forecasters on torch through darts: TFT (load) and an LSTM encoder-decoder (wind).

Both are direct multi-horizon models behind the :class:`~workbench.forecasting.base.Forecaster`
interface, with native quantiles: darts' ``QuantileRegression`` likelihood trains on the pinball
loss of each level, and predictions read the quantiles themselves
(``predict_likelihood_parameters=True``), not samples.

* ``"tft"`` — :class:`TFTForecaster`, darts ``TFTModel``: variable selection, an LSTM
  encoder-decoder and interpretable attention; past covariates in the encoder, future covariates
  (weather forecasts, calendar) in encoder and decoder.
* ``"lstm"`` — :class:`LSTMForecaster`, darts ``BlockRNNModel(model="LSTM")``: an LSTM encodes
  the input window (target, past and future covariates); the decoder maps the encoder state at
  each output step together with that step's future covariates (e.g. the hub-height wind
  forecast and its power-curve value) to the quantiles.

How the data is fed, without peeking. At issue time ``T`` the input window ends at the last label
of ``y`` known at ``T`` (``spec.last_known_label``); the model outputs every step from there to
the last target (the availability gap, the lead, then the horizon) and the horizon is kept.
Past covariates beyond their own last known label are carried forward from it. Versioned future
covariates (``(issue_time, target_time)`` rows) are read as forecast by the latest issue at or
before ``T - lag`` for every label of the window; training uses, for each label, the latest
forecast issued at or before it. Calendar features (hour and weekday as sine/cosine in
``spec.tz``) are always added as exact future covariates. Values are standardised with the
training window's mean and deviation; gaps in the target are interpolated inside the training
window and carried forward inside each prediction window (counted in ``fit_info`` and
``predict_info``).

CPU-friendly defaults: small hidden sizes, a few epochs, at most ``max_samples_per_ts`` recent
training windows, ``accelerator="cpu"``, no progress bars, no logger, no checkpoints; darts'
work folder is under ``WORKBENCH_HOME/darts`` (nothing is written under ``$HOME``). Seeds are
fixed (``seed``), so two fits on the same data give the same forecasts.
"""

from __future__ import annotations

import contextlib
import logging
import math
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from workbench.core.extras import require
from workbench.forecasting.base import (
    ForecastData,
    Forecaster,
    ForecastError,
    ForecastSpec,
    InsufficientDataError,
    add_model,
)

if TYPE_CHECKING:
    from typing import Self

    import numpy as np
    import pandas as pd

_QUIET_LOGGERS = ("pytorch_lightning", "lightning", "lightning.pytorch", "lightning_fabric")
STATE_FILE = "forecaster.joblib"
MODEL_FILE = "darts_model.pt"


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence Lightning's banners and darts' benign warnings during fit and predict."""
    levels = {name: logging.getLogger(name).level for name in _QUIET_LOGGERS}
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


def _calendar(index: pd.DatetimeIndex, tz: str) -> pd.DataFrame:
    """Hour of day and day of week in local time as sine/cosine pairs (exactly known ahead)."""
    import numpy as np
    import pandas as pd

    local = index.tz_convert(tz)
    hour = (local.hour + local.minute / 60.0).to_numpy(dtype=float)
    dow = local.dayofweek.to_numpy(dtype=float) + hour / 24.0
    return pd.DataFrame(
        {
            "cal_hour_sin": np.sin(2 * np.pi * hour / 24),
            "cal_hour_cos": np.cos(2 * np.pi * hour / 24),
            "cal_dow_sin": np.sin(2 * np.pi * dow / 7),
            "cal_dow_cos": np.cos(2 * np.pi * dow / 7),
        },
        index=index,
    )


def versioned_as_of(
    future: pd.DataFrame, columns: Sequence[str], targets: Any, asof: Any
) -> np.ndarray:
    """Values of versioned covariates: for each target, the latest forecast issued at ``asof``.

    Parameters
    ----------
    future : pandas.DataFrame
        Rows indexed by ``(issue_time, target_time)`` [UTC].
    columns : sequence of str
        Columns to read.
    targets, asof : array-like of datetime
        Same length: the target label and the latest allowed forecast issue time per row.

    Returns
    -------
    numpy.ndarray
        ``(len(targets), len(columns))``; NaN where no forecast was issued by ``asof``.
    """
    import numpy as np
    import pandas as pd

    right = future[list(columns)].reset_index()
    right.columns = ["fc_issue", "target_time", *columns]
    right["fc_issue"] = pd.DatetimeIndex(right["fc_issue"]).as_unit("ns")
    right["target_time"] = pd.DatetimeIndex(right["target_time"]).as_unit("ns")
    right = right.dropna(subset=list(columns), how="all").sort_values("fc_issue", kind="stable")
    left = pd.DataFrame(
        {
            "target_time": pd.DatetimeIndex(targets).as_unit("ns"),
            "asof": pd.DatetimeIndex(asof).as_unit("ns"),
            "row": np.arange(len(targets)),
        }
    ).sort_values("asof", kind="stable")
    merged = pd.merge_asof(
        left, right, left_on="asof", right_on="fc_issue", by="target_time", direction="backward"
    ).sort_values("row")
    return merged[list(columns)].to_numpy(dtype=float)


def _fill(values: np.ndarray) -> tuple[np.ndarray, int]:
    """Forward-fill along axis 0 (then back-fill the head, then zeros); returns the fill count."""
    import pandas as pd

    missing = int(pd.isna(values).sum())
    if not missing:
        return values, 0
    frame = pd.DataFrame(values).ffill().bfill().fillna(0.0)
    return frame.to_numpy(dtype=float), missing


class DartsForecaster(Forecaster):
    """Shared machinery of the darts torch forecasters (see the module doc).

    Parameters
    ----------
    input_chunk_length : int, optional
        Encoder length [steps]; default one day of steps, at least the output length.
    n_epochs : int
        Training epochs.
    batch_size : int
        Training windows per batch.
    learning_rate : float
        Adam learning rate.
    max_samples_per_ts : int, optional
        Most recent training windows used per epoch (bounds CPU time on long series);
        ``"auto"``: the class's :attr:`MAX_SAMPLES` (TFT 1,000, LSTM 2,000).
    calendar : bool
        Add hour-of-day and day-of-week sine/cosine future covariates.
    seed : int
        Seed of weight initialisation and batch order.
    n_threads : int, optional
        Torch intra-op threads during fit and predict (default: torch's choice).
    **model_params
        Passed to the darts model (``hidden_size``, ``dropout``...).
    """

    name: ClassVar[str] = "darts"
    DEFAULTS: ClassVar[dict[str, Any]] = {}

    @classmethod
    def extra_params(cls) -> frozenset[str]:
        """The architecture parameters of :attr:`DEFAULTS` (the only ones passed to darts)."""
        return frozenset(cls.DEFAULTS)

    #: Training windows per epoch by default ("auto"): bounds CPU time on long series.
    MAX_SAMPLES: ClassVar[int | None] = 2000

    def __init__(
        self,
        input_chunk_length: int | None = None,
        n_epochs: int = 5,
        batch_size: int = 32,
        learning_rate: float = 3e-3,
        max_samples_per_ts: int | str | None = "auto",
        calendar: bool = True,
        seed: int = 0,
        n_threads: int | None = None,
        **model_params: Any,
    ) -> None:
        super().__init__(
            input_chunk_length=input_chunk_length,
            n_epochs=n_epochs,
            batch_size=batch_size,
            learning_rate=learning_rate,
            max_samples_per_ts=(
                self.MAX_SAMPLES if max_samples_per_ts == "auto" else max_samples_per_ts
            ),
            calendar=calendar,
            seed=seed,
            n_threads=n_threads,
            **{**self.DEFAULTS, **model_params},
        )
        self._model: Any = None
        self.predict_info: dict[str, Any] = {}

    # ---- to be provided by subclasses ------------------------------------------------------
    def _darts_model(self, icl: int, ocl: int, quantiles: list[float], common: dict) -> Any:
        raise NotImplementedError

    uses_past_covariates: ClassVar[bool] = True

    # ---- shapes ------------------------------------------------------------------------------
    def _gap(self, spec: ForecastSpec) -> int:
        """Steps between the last known target label and the issue time's grid label."""
        return math.ceil(spec.lag("y") / spec.freq)

    def _n_out(self, spec: ForecastSpec) -> int:
        return self._gap(spec) + spec.lead + spec.horizon

    def _icl(self, spec: ForecastSpec) -> int:
        import pandas as pd

        icl = self.params["input_chunk_length"]
        if icl is None:
            icl = max(round(pd.Timedelta("1D") / spec.freq), spec.horizon)
        return int(icl)

    def _quantile_levels(self, spec: ForecastSpec) -> list[float]:
        return sorted({*spec.quantiles, 0.5})

    # ---- covariate frames --------------------------------------------------------------------
    def _future_frame(
        self, data: ForecastData, spec: ForecastSpec, index: pd.DatetimeIndex, asof: Any
    ) -> pd.DataFrame:
        """Future covariates (+ calendar) on ``index``; versioned ones as forecast at ``asof``."""
        import pandas as pd

        cols = list(spec.future_covariates)
        frame = pd.DataFrame(index=index)
        if cols and data.future is not None:
            if data.future_is_versioned:
                lags = pd.to_timedelta([spec.lag(c) for c in cols])
                values = []
                for col, lag in zip(cols, lags, strict=True):
                    cut = pd.DatetimeIndex(asof) - lag
                    values.append(versioned_as_of(data.future, [col], index, cut)[:, 0])
                for col, v in zip(cols, values, strict=True):
                    frame[col] = v
            else:
                frame[cols] = data.future[cols].reindex(index).to_numpy(dtype=float)
        if self.params["calendar"]:
            for col, values in _calendar(index, spec.tz).items():  # index may repeat labels
                frame[col] = values.to_numpy()
        return frame

    def _scale(self, frame: pd.DataFrame) -> np.ndarray:
        import numpy as np

        mu = np.array([self._stats[c][0] for c in frame.columns])
        sd = np.array([self._stats[c][1] for c in frame.columns])
        return (frame.to_numpy(dtype=float) - mu) / sd

    # ---- fit ---------------------------------------------------------------------------------
    def fit(
        self, data: ForecastData, spec: ForecastSpec, *, until: pd.Timestamp | None = None
    ) -> Self:
        """Train on what is known at ``until`` (default: when the last value became known)."""
        import numpy as np
        import pandas as pd

        require("darts", feature=f"the {self.name} forecaster")
        require("torch", feature=f"the {self.name} forecaster")
        data.check_spec(spec)
        if until is None:
            until = data.y.index[-1] + spec.freq + spec.lag("y")
        until = pd.Timestamp(until)
        if until.tzinfo is None:
            raise ForecastError(f"expected a tz-aware until; found {until}. Add tz='UTC'.")
        last = spec.last_known_label([until])[0]
        y = data.y[data.y.index <= last].astype(float)
        first_valid = y.first_valid_index()
        if first_valid is None:
            raise InsufficientDataError(f"expected target values known by {until}; found none")
        y = y[y.index >= first_valid]
        icl, n_out = self._icl(spec), self._n_out(spec)
        if len(y) < icl + n_out + 8:
            raise InsufficientDataError(
                f"expected at least {icl + n_out + 8} target steps known by {until} for "
                f"{self.name} (input {icl} + output {n_out} + 8 windows); found {len(y)}. "
                "Use a longer history or a smaller input_chunk_length."
            )
        filled_y = int(y.isna().sum())
        y = y.interpolate(limit_direction="both")
        index = y.index
        # future covariates: per label, the latest forecast issued at or before the label
        future = self._future_frame(data, spec, index, index)
        past = None
        if self.uses_past_covariates and spec.past_covariates and data.past is not None:
            past = pd.DataFrame(index=index)
            for col in spec.past_covariates:
                known = spec.last_known_label([until], col)[0]
                values = data.past[col].reindex(index).astype(float)
                past[col] = values.where(values.index <= known)
        self._stats = {"y": (float(y.mean()), float(y.std(ddof=0)) or 1.0)}
        for frame in (future, past):
            if frame is None:
                continue
            for col in frame.columns:
                mu, sd = float(np.nanmean(frame[col])), float(np.nanstd(frame[col]))
                self._stats[col] = (0.0 if np.isnan(mu) else mu, sd if sd > 0 else 1.0)
        fut_values, filled_future = _fill(self._scale(future)) if len(future.columns) else (None, 0)
        past_values, filled_past = _fill(self._scale(past)) if past is not None else (None, 0)
        # future covariates must reach the end of the last output window: extend them
        ts = self._timeseries
        series = ts(index, ((y - self._stats["y"][0]) / self._stats["y"][1]).to_numpy(), ["y"])
        fut_series = None
        if fut_values is not None:
            fut_series = ts(index, fut_values, list(future.columns))
        past_series = ts(index, past_values, list(past.columns)) if past is not None else None
        self._future_columns = list(future.columns)
        self._past_columns = [] if past is None else list(past.columns)
        self.spec = spec
        self._model = self._build(spec)
        with _quiet(), self._threads():
            self._model.fit(
                series,
                past_covariates=past_series,
                future_covariates=fut_series,
                max_samples_per_ts=self.params["max_samples_per_ts"],
                dataloader_kwargs={"num_workers": 0, "pin_memory": False},
                verbose=False,
            )
        self.fit_info = {
            "train_start": index[0].isoformat(),
            "train_until": until.isoformat(),
            "rows": len(index),
            "input_chunk_length": icl,
            "output_chunk_length": n_out,
            "future_covariates": self._future_columns,
            "past_covariates": self._past_columns,
            "filled": {"y": filled_y, "future": filled_future, "past": filled_past},
            "quantiles": "native (QuantileRegression likelihood)",
        }
        return self

    @staticmethod
    def _timeseries(index: pd.DatetimeIndex, values: np.ndarray, columns: list[str]) -> Any:
        import numpy as np
        from darts import TimeSeries

        arr = np.asarray(values, dtype="float32").reshape(len(index), -1)
        times = index.tz_convert("UTC").tz_localize(None)
        return TimeSeries.from_times_and_values(times, arr, columns=columns)

    @contextlib.contextmanager
    def _threads(self) -> Iterator[None]:
        import torch

        n = self.params.get("n_threads")
        before = torch.get_num_threads()
        if n:
            torch.set_num_threads(int(n))
        try:
            yield
        finally:
            torch.set_num_threads(before)

    def _build(self, spec: ForecastSpec) -> Any:
        from darts.utils.likelihood_models import QuantileRegression

        from workbench.core.config import workbench_home

        work_dir = workbench_home() / "darts"  # darts writes there only if asked to checkpoint
        common = {
            "likelihood": QuantileRegression(self._quantile_levels(spec)),
            "n_epochs": int(self.params["n_epochs"]),
            "batch_size": int(self.params["batch_size"]),
            "optimizer_kwargs": {"lr": float(self.params["learning_rate"])},
            "random_state": int(self.params["seed"]),
            "work_dir": str(work_dir),
            "model_name": f"workbench_{self.name}",
            "save_checkpoints": False,
            "log_tensorboard": False,
            "force_reset": True,
            "pl_trainer_kwargs": {
                "accelerator": "cpu",
                "devices": 1,
                "enable_progress_bar": False,
                "enable_model_summary": False,
                "enable_checkpointing": False,
                "logger": False,
                "deterministic": True,
            },
        }
        return self._darts_model(self._icl(spec), self._n_out(spec), [], common)

    # ---- predict -----------------------------------------------------------------------------
    def predict(self, data: ForecastData, issue_times: Sequence[pd.Timestamp]) -> pd.DataFrame:
        """Quantile forecasts per issue time from data known at that time (one batched call)."""
        import numpy as np
        import pandas as pd

        from workbench.forecasting.base import forecast_grid

        spec = self._require_fitted()
        grid = forecast_grid(issue_times, spec)
        issues = pd.DatetimeIndex(grid["issue_time"].unique())
        if len(issues) == 0:
            return grid.assign(y_pred=[], **{c: [] for c in spec.quantile_columns})
        if ((issues - issues.floor(spec.freq)) != pd.Timedelta(0)).any():
            raise ForecastError(
                f"expected issue times on the {spec.freq} grid of the series; found "
                f"{issues[issues != issues.floor(spec.freq)][0]}"
            )
        icl, n_out = self._icl(spec), self._n_out(spec)
        issues = issues.as_unit("ns")
        last = spec.last_known_label(issues).as_unit("ns")
        n = len(issues)
        step_ns = spec.freq.value
        offsets_in = np.arange(-icl + 1, 1, dtype="int64") * step_ns
        offsets_out = np.arange(1, n_out + 1, dtype="int64") * step_ns
        win_in = np.repeat(last.asi8, icl) + np.tile(offsets_in, n)
        y_in = data.y.astype(float).reindex(pd.DatetimeIndex(win_in, tz="UTC")).to_numpy()
        y_in = (y_in - self._stats["y"][0]) / self._stats["y"][1]
        y_in, filled_y = _fill(y_in.reshape(n, icl).T)  # fill each window on its own past
        y_in = y_in.T
        series, futs, pasts = [], [], []
        all_offsets = np.concatenate([offsets_in, offsets_out])
        filled = {"y": filled_y, "future": 0, "past": 0}
        fut_frames = None
        if self._future_columns:
            full_idx = pd.DatetimeIndex(
                (np.repeat(last.asi8, len(all_offsets)) + np.tile(all_offsets, n)), tz="UTC"
            )
            asof = np.repeat(issues.asi8, len(all_offsets))
            frame = self._future_frame(data, spec, full_idx, pd.DatetimeIndex(asof, tz="UTC"))
            fut_frames = self._scale(frame[self._future_columns]).reshape(n, len(all_offsets), -1)
        for i, label in enumerate(last):
            idx_in = pd.DatetimeIndex(label.value + offsets_in, tz="UTC")
            series.append(self._timeseries(idx_in, y_in[i], ["y"]))
            if fut_frames is not None:
                idx_all = pd.DatetimeIndex(label.value + all_offsets, tz="UTC")
                values, k = _fill(fut_frames[i])
                filled["future"] += k
                futs.append(self._timeseries(idx_all, values, self._future_columns))
            if self._past_columns:
                frame = pd.DataFrame(index=idx_in)
                for col in self._past_columns:
                    known = spec.last_known_label([issues[i]], col)[0]
                    values = data.past[col].reindex(idx_in).astype(float)
                    frame[col] = values.where(values.index <= known)
                values, k = _fill(self._scale(frame))
                filled["past"] += k
                pasts.append(self._timeseries(idx_in, values, self._past_columns))
        with _quiet(), self._threads():
            out = self._model.predict(
                n_out,
                series=series,
                past_covariates=pasts or None,
                future_covariates=futs or None,
                predict_likelihood_parameters=True,
                dataloader_kwargs={"num_workers": 0, "pin_memory": False},
                verbose=False,
            )
        levels = self._quantile_levels(spec)
        mu, sd = self._stats["y"]
        values = np.stack([o.values(copy=False) for o in out]) * sd + mu  # (n, n_out, levels)
        values = np.sort(values, axis=2)  # quantiles never cross
        # row r of the grid: issue i, step s -> output position gap + lead + s - 1
        issue_pos = issues.get_indexer(pd.DatetimeIndex(grid["issue_time"]).as_unit("ns"))
        targets = pd.DatetimeIndex(grid["target_time"]).as_unit("ns").asi8
        out_pos = (targets - last.asi8[issue_pos]) // step_ns - 1
        picked = values[issue_pos, out_pos, :]
        result = grid.copy()
        result["y_pred"] = picked[:, levels.index(0.5)]
        for q, col in zip(spec.quantiles, spec.quantile_columns, strict=True):
            result[col] = picked[:, levels.index(q)]
        self.predict_info = {"filled": filled, "issues": n}
        return result

    # ---- persistence (used by the model registry) --------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_model"] = None  # saved separately with darts' own format
        return state

    def save_artifact(self, folder: Path) -> None:
        """Write the wrapper state (joblib) and the darts model (its own ``save``) to ``folder``."""
        import joblib

        joblib.dump(self, Path(folder) / STATE_FILE)
        if self._model is not None:
            with _quiet():
                self._model.save(str(Path(folder) / MODEL_FILE))

    @classmethod
    def load_artifact(cls, folder: Path) -> Self:
        """Read what :meth:`save_artifact` wrote."""
        import joblib

        obj = joblib.load(Path(folder) / STATE_FILE)
        path = Path(folder) / MODEL_FILE
        if path.exists():
            with _quiet():
                obj._model = obj._darts_class().load(str(path), map_location="cpu")
        return obj

    @classmethod
    def _darts_class(cls) -> type:
        raise NotImplementedError


class TFTForecaster(DartsForecaster):
    """Temporal Fusion Transformer (darts ``TFTModel``) with native quantiles; for load.

    Extra parameters (defaults CPU-sized): ``hidden_size=16``, ``lstm_layers=1``,
    ``num_attention_heads=2``, ``hidden_continuous_size=8``, ``dropout=0.1``.
    """

    name: ClassVar[str] = "tft"
    MAX_SAMPLES: ClassVar[int | None] = 1000  # ~10 ms per window and epoch on a busy CPU core
    DEFAULTS: ClassVar[dict[str, Any]] = {
        "hidden_size": 16,
        "lstm_layers": 1,
        "num_attention_heads": 2,
        "hidden_continuous_size": 8,
        "dropout": 0.1,
    }

    @classmethod
    def _darts_class(cls) -> type:
        from darts.models import TFTModel

        return TFTModel

    def _darts_model(self, icl: int, ocl: int, quantiles: list[float], common: dict) -> Any:
        own = {k: self.params[k] for k in self.DEFAULTS}
        add_index = not self.params["calendar"] and not self.spec.future_covariates
        return self._darts_class()(
            input_chunk_length=icl,
            output_chunk_length=ocl,
            add_relative_index=add_index,
            **own,
            **common,
        )


class LSTMForecaster(DartsForecaster):
    """LSTM encoder-decoder (darts ``BlockRNNModel`` with ``model="LSTM"``); for wind.

    Extra parameters: ``hidden_dim=16``, ``n_rnn_layers=1``, ``hidden_fc_sizes=[16]`` (the
    decoder's hidden layer), ``dropout=0.0``.
    """

    name: ClassVar[str] = "lstm"
    DEFAULTS: ClassVar[dict[str, Any]] = {
        "hidden_dim": 16,
        "n_rnn_layers": 1,
        "hidden_fc_sizes": [16],
        "dropout": 0.0,
    }

    @classmethod
    def _darts_class(cls) -> type:
        from darts.models import BlockRNNModel

        return BlockRNNModel

    def _darts_model(self, icl: int, ocl: int, quantiles: list[float], common: dict) -> Any:
        own = {k: self.params[k] for k in self.DEFAULTS}
        return self._darts_class()(
            input_chunk_length=icl, output_chunk_length=ocl, model="LSTM", **own, **common
        )


add_model("tft", TFTForecaster)
add_model("lstm", LSTMForecaster)
