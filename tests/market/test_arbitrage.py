"""Battery arbitrage LP: hand-checked optima, limits over random cases, backtest, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.market.arbitrage import (
    Battery,
    backtest,
    forecast_price,
    optimal_schedule,
    settle,
)
from workbench.market.errors import (
    BatteryParameterError,
    InfeasibleScheduleError,
    MarketInputError,
)

TOL = 1e-6


def hourly(values, start="2024-03-01", freq="h") -> pd.Series:
    idx = pd.date_range(start, periods=len(values), freq=freq, tz="UTC")
    return pd.Series(np.asarray(values, dtype=float), index=idx)


def random_case(rng: np.random.Generator) -> tuple[pd.Series, Battery]:
    n = int(rng.integers(24, 97))
    freq = ["15min", "h"][int(rng.integers(2))]
    base = rng.normal(30, 15, n) + 25 * np.sin(np.arange(n) * 2 * np.pi / 24)
    spikes = rng.uniform(size=n) < 0.05
    prices = np.where(spikes, rng.uniform(-40, 300, n), base)
    energy = float(rng.uniform(1.0, 400.0))
    lo, hi = float(rng.uniform(0.0, 0.3)), float(rng.uniform(0.7, 1.0))
    battery = Battery(
        energy_mwh=energy,
        power_mw=float(rng.uniform(energy / 4, 2 * energy)),
        round_trip_efficiency=float(rng.uniform(0.6, 1.0)),
        initial_soc=float(rng.uniform(lo, hi)),
        final_soc=float(rng.uniform(lo, hi)) if rng.uniform() < 0.5 else None,
        min_soc=lo,
        max_soc=hi,
        cycles_per_day=[None, 1.0, 2.0][int(rng.integers(3))],
        degradation_usd_per_mwh=float(rng.choice([0.0, 2.0])),
    )
    return hourly(prices, freq=freq), battery


def test_two_prices_give_the_known_optimum():
    # charge 10 MW for 1 h at $10: 10 * sqrt(0.81) = 9 MWh stored; discharging 9 MWh delivers
    # 9 * 0.9 = 8.1 MWh at $50 -> 405 - 100 = 305
    battery = Battery(10, 10, round_trip_efficiency=0.81, initial_soc=0.0)
    res = optimal_schedule(hourly([10, 50]), battery)
    s = res.schedule
    assert res.profit_usd == pytest.approx(305.0, abs=TOL)
    assert s["charge_mw"].tolist() == pytest.approx([10.0, 0.0], abs=TOL)
    assert s["discharge_mw"].tolist() == pytest.approx([0.0, 8.1], abs=TOL)
    assert s["soc_mwh"].tolist() == pytest.approx([9.0, 0.0], abs=TOL)


def test_a_spread_below_the_losses_is_not_traded():
    battery = Battery(10, 10, round_trip_efficiency=0.81, initial_soc=0.0)
    res = optimal_schedule(hourly([10, 12]), battery)  # 12 * 0.81 < 10
    assert res.profit_usd == pytest.approx(0.0, abs=TOL)
    assert res.schedule[["charge_mw", "discharge_mw"]].abs().max().max() < TOL


@pytest.mark.parametrize("seed", range(30))
def test_schedule_respects_every_limit(seed):
    prices, b = random_case(np.random.default_rng(seed))
    res = optimal_schedule(prices, b)
    s, dt, e = res.schedule, res.interval_h, b.energy_mwh
    eta = np.sqrt(b.round_trip_efficiency)
    assert (s["charge_mw"] >= -TOL).all()
    assert (s["charge_mw"] <= b.power_mw + TOL).all()
    assert (s["discharge_mw"] >= -TOL).all()
    assert (s["discharge_mw"] <= b.power_mw + TOL).all()
    assert (s["soc_mwh"] >= b.min_soc * e - TOL).all()
    assert (s["soc_mwh"] <= b.max_soc * e + TOL).all()
    # the state of charge follows the charge and discharge
    before = np.concatenate([[b.initial_soc * e], s["soc_mwh"].to_numpy()[:-1]])
    expected = before + dt * (eta * s["charge_mw"] - s["discharge_mw"] / eta)
    np.testing.assert_allclose(s["soc_mwh"], expected, atol=1e-5 * max(e, 1))
    assert s["soc_mwh"].iloc[-1] == pytest.approx(b.end_soc * e, abs=1e-5 * e)
    if b.cycles_per_day is not None:
        per_day = (s["discharge_mw"] * dt).groupby(s.index.normalize()).sum()
        assert (per_day <= b.cycles_per_day * e + 1e-5 * e).all()
    # simultaneous charge and discharge only where it does not lose money (price <= 0)
    both = (s["charge_mw"] > 1e-5) & (s["discharge_mw"] > 1e-5)
    assert (s.loc[both, "price_usd_per_mwh"] <= 1e-9).all()
    wear = b.degradation_usd_per_mwh * dt * s["discharge_mw"].sum()
    assert res.profit_usd == pytest.approx(s["revenue_usd"].sum() - wear, rel=1e-9, abs=1e-6)
    if b.final_soc is None:
        assert res.profit_usd >= -1e-6  # doing nothing is feasible and earns 0


@pytest.mark.parametrize("seed", range(10))
def test_perfect_foresight_beats_any_forecast_schedule(seed):
    rng = np.random.default_rng(100 + seed)
    actual, b = random_case(rng)
    perfect = optimal_schedule(actual, b).profit_usd
    for noise in (5.0, 20.0, 80.0):
        forecast = actual + rng.normal(0, noise, len(actual))
        plan = optimal_schedule(forecast, b)
        assert settle(plan, actual, b) <= perfect + 1e-6 * max(1.0, abs(perfect))


def test_the_cycle_limit_caps_daily_throughput():
    prices = hourly(np.tile([0.0, 100.0], 24))  # 2 days, 12 profitable cycles a day unlimited
    free = optimal_schedule(prices, Battery(10, 10, 1.0, initial_soc=0.0, cycles_per_day=None))
    one = optimal_schedule(prices, Battery(10, 10, 1.0, initial_soc=0.0, cycles_per_day=1.0))
    assert free.schedule["discharge_mw"].sum() == pytest.approx(240.0)
    assert one.schedule["discharge_mw"].sum() == pytest.approx(20.0)
    assert one.profit_usd == pytest.approx(2000.0)


def test_negative_prices_are_paid_to_burn_energy():
    # at -50 $/MWh the battery is paid to charge and to waste energy by doing both at once
    b = Battery(10, 10, round_trip_efficiency=0.81, initial_soc=0.5, cycles_per_day=None)
    res = optimal_schedule(hourly([-50.0, -50.0]), b)
    assert res.profit_usd > 0
    assert (res.schedule["charge_mw"] > 0).all()


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"energy_mwh": -5, "power_mw": 1}, "energy_mwh > 0"),
        ({"energy_mwh": 5, "power_mw": 0}, "power_mw > 0"),
        ({"energy_mwh": 5, "power_mw": 1, "round_trip_efficiency": 1.2}, "round_trip_efficiency"),
        ({"energy_mwh": 5, "power_mw": 1, "min_soc": 0.8, "max_soc": 0.2}, "min_soc <= max_soc"),
        ({"energy_mwh": 5, "power_mw": 1, "min_soc": 0.2, "initial_soc": 0.1}, "initial_soc"),
        ({"energy_mwh": 5, "power_mw": 1, "cycles_per_day": 0}, "cycles_per_day"),
    ],
)
def test_impossible_batteries_are_rejected_with_the_reason(kwargs, fragment):
    with pytest.raises(BatteryParameterError, match="expected a battery") as info:
        Battery(**kwargs)
    assert fragment in str(info.value)


def test_an_unreachable_final_state_is_infeasible():
    b = Battery(100, 10, initial_soc=0.0, final_soc=1.0)  # needs > 10 h at 10 MW
    with pytest.raises(InfeasibleScheduleError, match="found no feasible schedule"):
        optimal_schedule(hourly([20.0] * 5), b)
    b = Battery(100, 100, initial_soc=1.0, final_soc=0.0, cycles_per_day=0.5)
    with pytest.raises(InfeasibleScheduleError, match=r"cycle limit 0\.5"):
        optimal_schedule(hourly([20.0] * 5), b)


def test_bad_prices_are_rejected():
    b = Battery(10, 5)
    with pytest.raises(MarketInputError, match="finite price"):
        optimal_schedule(hourly([1.0, np.nan, 3.0]), b)
    stamps = pd.to_datetime(["2024-01-01 00:00", "2024-01-01 01:00", "2024-01-01 03:00"])
    irregular = pd.Series([1.0, 2.0, 3.0], stamps)
    with pytest.raises(MarketInputError, match="regular intervals"):
        optimal_schedule(irregular, b)
    with pytest.raises(MarketInputError, match="indexed by timestamps"):
        optimal_schedule(pd.Series([1.0, 2.0]), b)
    with pytest.raises(MarketInputError, match="interval_h"):
        optimal_schedule(hourly([5.0]), b)
    assert optimal_schedule(hourly([5.0]), b, interval_h=1.0).profit_usd == pytest.approx(0.0)


def test_forecast_price_from_quantiles():
    f = pd.DataFrame({"0.1": [10.0, 0.0], "0.5": [20.0, 5.0], "0.9": [30.0, 40.0]})
    # piecewise-linear quantile function, flat tails: 0.1*q1 + 0.2*q1 + 0.4*q5 + 0.2*q9 + 0.1*q9
    assert forecast_price(f).tolist() == pytest.approx([20.0, 0.3 * 0 + 0.4 * 5 + 0.3 * 40])
    assert forecast_price(f, use=0.9).tolist() == [30.0, 40.0]
    crossed = pd.DataFrame({0.1: [30.0], 0.5: [20.0], 0.9: [10.0]})  # sorted before use
    assert forecast_price(crossed).iloc[0] == pytest.approx(20.0)
    assert forecast_price(f.assign(mean=[1.0, 2.0])).tolist() == [1.0, 2.0]
    with pytest.raises(MarketInputError, match=r"quantile column 0\.75"):
        forecast_price(f, use=0.75)
    with pytest.raises(MarketInputError, match="'mean' column or quantile"):
        forecast_price(pd.DataFrame({"price": [1.0]}))


def test_the_mean_maximises_expected_profit():
    # profit is linear in prices, so scheduling on the expected price beats any quantile
    rng = np.random.default_rng(7)
    idx = pd.date_range("2024-03-01", periods=48, freq="h", tz="UTC")
    centre = 30 + 20 * np.sin(np.arange(48) * 2 * np.pi / 24)
    skew = rng.uniform(0, 40, 48)  # right-skewed: the upper quantile is far away
    f = pd.DataFrame({0.1: centre - 5, 0.5: centre, 0.9: centre + skew}, index=idx)
    b = Battery(50, 25, 0.85, initial_soc=0.2)
    mean = forecast_price(f)
    expected = {
        use: settle(optimal_schedule(forecast_price(f, use), b), mean, b)
        for use in ("mean", 0.1, 0.5, 0.9)
    }
    assert expected["mean"] >= max(expected.values()) - 1e-6


def test_backtest_against_perfect_foresight():
    rng = np.random.default_rng(3)
    n = 24 * 6
    actual = hourly(40 + 25 * np.sin(np.arange(n) * 2 * np.pi / 24) + rng.normal(0, 6, n))
    b = Battery(100, 25, 0.88, initial_soc=0.1)
    same = backtest(actual, actual, b)
    assert same.ratio == pytest.approx(1.0)
    assert len(same.days) == 6
    noisy = backtest(actual, actual + rng.normal(0, 15, n), b)
    assert 0 < noisy.ratio < 1
    assert (noisy.days["realised_profit_usd"] <= noisy.days["perfect_profit_usd"] + 1e-6).all()
    assert noisy.perfect_profit_usd == pytest.approx(same.perfect_profit_usd)
    assert "actual_price_usd_per_mwh" in noisy.schedule
    with pytest.raises(MarketInputError, match="same intervals"):
        backtest(actual, actual.iloc[:-1], b)


def test_backtest_on_the_ci_prices(ci_gold_catalog):
    prices = ci_gold_catalog.read(
        "gold.fact_market_prices", where={"node": "BUS_WEST"}, columns=None
    )
    wide = prices.pivot(index="timestamp", columns="market_type", values="lmp_price").dropna()
    wide = wide.asfreq("h").dropna()
    b = Battery(100, 25, 0.9, initial_soc=0.5)
    result = backtest(wide["RT"], wide["DA"], b, tz="America/Chicago")
    assert len(result.days) >= 21
    assert 0 < result.realised_profit_usd <= result.perfect_profit_usd
    assert 0 < result.ratio <= 1


def test_cycle_limit_counts_local_days_across_dst():
    # 2024-03-10 has 23 hours in America/Chicago; the limit applies per local day
    idx = pd.date_range("2024-03-09 06:00", "2024-03-12 04:00", freq="h", tz="UTC")
    prices = pd.Series(np.resize([0.0, 100.0], len(idx)), index=idx)
    b = Battery(10, 10, 1.0, initial_soc=0.0, cycles_per_day=1.0)
    res = optimal_schedule(prices, b, tz="America/Chicago")
    s = res.schedule
    local_day = s.index.tz_convert("America/Chicago").date
    hours = s.groupby(local_day).size()
    assert hours.tolist() == [24, 23, 24]
    per_day = s["discharge_mw"].groupby(local_day).sum()
    assert per_day.tolist() == pytest.approx([10.0, 10.0, 10.0])
    result = backtest(prices, prices, b, tz="America/Chicago")
    assert len(result.days) == 3
    assert result.ratio == pytest.approx(1.0)
