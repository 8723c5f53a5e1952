"""Market analytics: pure computation on frames (only ``workbench.io`` touches storage).

- :mod:`.lmp` — LMP decomposition (energy, congestion, losses) with the component check,
  congestion hours per interface, price duration curves, day-ahead vs real-time (DART) spreads;
- :mod:`.arbitrage` — battery arbitrage as an LP (scipy HiGHS) on a price or quantile forecast,
  and the daily backtest against perfect foresight;
- :mod:`.pareto` — carbon vs cost dispatch: the Pareto front by Optuna's NSGA-II, checked by LPs;
- :mod:`.sources` — the same analytics fed from a catalog (the only functions taking one).
"""
