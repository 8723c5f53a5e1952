"""A small LSTM autoencoder (torch, CPU) scoring samples by reconstruction error.

Each series is cut into windows of ``window`` samples of the rolling features; the model encodes
a window into one hidden state, repeats it along the window and decodes it back. It is trained
on presumed-normal windows only (windows whose rule score stays below 0.5, see
:class:`~.rules.RuleSet`), so a sample it cannot reconstruct is unusual. The per-sample error is
the squared error of its own time step; the threshold is the ``1 - contamination`` quantile of
the training errors. Deterministic: fixed seed, one thread while fitting and scoring.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from workbench.anomaly.base import AnomalyInputError
from workbench.anomaly.detectors.base import SensorDetector, segments
from workbench.anomaly.detectors.features import rolling_features
from workbench.anomaly.inputs import LongSeries
from workbench.core.extras import require


class LSTMAutoencoderDetector(SensorDetector):
    """LSTM autoencoder over windows of rolling features.

    Parameters
    ----------
    window : int
        Samples per window.
    hidden : int
        LSTM hidden size.
    epochs, batch_size, lr : int, int, float
        Training loop.
    max_windows : int
        Presumed-normal windows used for training at most (random subset).
    contamination : float
        Share of training errors above the threshold.
    seed : int
        Seed of torch and numpy draws.
    """

    kind = "lstm"

    def __init__(self, window: int = 16, hidden: int = 8, epochs: int = 8,
                 batch_size: int = 128, lr: float = 1e-2, max_windows: int = 2000,
                 contamination: float = 0.0005, seed: int = 0,
                 gap_tolerance: Any = "0s") -> None:  # fmt: skip
        super().__init__(gap_tolerance)
        if window < 2:
            raise AnomalyInputError(f"expected window >= 2 samples; found {window!r}")
        self.window, self.hidden, self.epochs = int(window), int(hidden), int(epochs)
        self.batch_size, self.lr, self.max_windows = int(batch_size), float(lr), int(max_windows)
        self.contamination, self.seed = float(contamination), int(seed)
        self.model: Any = None

    # ------------------------------------------------------------------ windows
    def _windows(self, series: LongSeries) -> tuple[np.ndarray, np.ndarray]:
        """Windows (n, window, n_features) and the sample index of each cell (-1: padding)."""
        x = rolling_features(series)
        first, length = segments(series.group)
        w = self.window
        starts, owners = [], []
        for f, n in zip(first, length, strict=True):
            s = np.arange(f, f + n, w)
            starts.append(s)
            owners.append(np.full(s.size, f + n))
        if not starts:
            return np.zeros((0, w, x.shape[1]), np.float32), np.zeros((0, w), np.int64)
        s, end = np.concatenate(starts), np.concatenate(owners)
        idx = s[:, None] + np.arange(w)[None, :]
        idx = np.where(idx < end[:, None], idx, -1)
        cells = x[np.where(idx >= 0, idx, 0)]
        cells[idx < 0] = 0.0
        return cells, idx

    def _net(self, n_features: int) -> Any:
        torch = require("torch", feature="the LSTM autoencoder")
        nn = torch.nn

        class _AE(nn.Module):
            def __init__(self, n_in: int, hidden: int) -> None:
                super().__init__()
                self.enc = nn.LSTM(n_in, hidden, batch_first=True)
                self.dec = nn.LSTM(hidden, hidden, batch_first=True)
                self.out = nn.Linear(hidden, n_in)

            def forward(self, x: Any) -> Any:
                _, (h, _) = self.enc(x)
                z = h[-1].unsqueeze(1).repeat(1, x.shape[1], 1)
                y, _ = self.dec(z)
                return self.out(y)

        return _AE(n_features, self.hidden)

    def _errors(self, cells: np.ndarray) -> np.ndarray:
        torch = require("torch", feature="the LSTM autoencoder")
        out = []
        with torch.no_grad():
            for i in range(0, cells.shape[0], 4096):
                x = torch.from_numpy(cells[i : i + 4096])
                out.append(((self.model(x) - x) ** 2).mean(dim=2).numpy())
        return np.concatenate(out) if out else np.zeros((0, self.window), np.float32)

    # ------------------------------------------------------------------ fit and score
    def fit(self, series: LongSeries, normal: np.ndarray | None = None) -> LSTMAutoencoderDetector:
        """Train on windows whose samples are all ``normal`` (default: rule score < 0.5)."""
        torch = require("torch", feature="the LSTM autoencoder")
        if normal is None:
            from workbench.anomaly.detectors.rules import RuleSet

            normal = RuleSet().score(series) < 0.5
        cells, idx = self._windows(series)
        ok = np.where(idx >= 0, normal[np.where(idx >= 0, idx, 0)], True).all(axis=1)
        train = cells[ok]
        if train.shape[0] < 4:
            raise AnomalyInputError(
                f"expected at least 4 presumed-normal windows to train on; found {train.shape[0]}"
            )
        rng = np.random.default_rng(self.seed)
        if train.shape[0] > self.max_windows:
            train = train[rng.choice(train.shape[0], self.max_windows, replace=False)]
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            torch.manual_seed(self.seed)
            self.model = self._net(train.shape[2])
            opt = torch.optim.Adam(self.model.parameters(), lr=self.lr)
            data = torch.from_numpy(np.ascontiguousarray(train))
            gen = torch.Generator().manual_seed(self.seed)
            for _ in range(self.epochs):
                for b in torch.randperm(data.shape[0], generator=gen).split(self.batch_size):
                    opt.zero_grad()
                    loss = ((self.model(data[b]) - data[b]) ** 2).mean()
                    loss.backward()
                    opt.step()
            self.model.eval()
            err = self._errors(np.ascontiguousarray(train)).ravel()
        finally:
            torch.set_num_threads(threads)
        self.threshold = float(max(np.quantile(err, 1.0 - self.contamination), 1e-9))
        return self

    def score(self, series: LongSeries) -> np.ndarray:
        if self.model is None:
            self.fit(series)
        torch = require("torch", feature="the LSTM autoencoder")
        cells, idx = self._windows(series)
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            err = self._errors(cells)
        finally:
            torch.set_num_threads(threads)
        out = np.zeros(series.time.size)
        keep = idx >= 0
        out[idx[keep]] = err[keep] / self.threshold
        return out
