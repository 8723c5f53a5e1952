"""Grid dimensions: balancing regions, generating assets and the network model.

:func:`make_grid` builds an ERCOT-like (60 Hz) system of 1-8 regions whose loads differ by an
order of magnitude (system peak about 76 GW with the default five), about 110-120 assets of the
eight technologies, and one 345 kV hub bus per region joined by lines and transfer-limited
interfaces. Each region also carries :class:`RegionTraits` (climate and load character) that the
weather and load generators read through :func:`region_traits`, so every figure about a region
lives in one place.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import cached_property

import numpy as np
import pandas as pd

from workbench.core.errors import WorkbenchError

#: Columns of ``bronze.raw_regions``, in order.
REGION_COLUMNS: list[str] = [
    "region_id", "region_name", "iso_rto", "timezone", "population", "area_sq_km",
    "latitude", "longitude", "load_zone",
]  # fmt: skip
#: Columns of ``bronze.raw_assets``, in order (select these before writing bronze).
CATALOG_ASSET_COLUMNS: list[str] = [
    "asset_id", "asset_name", "technology", "region_id", "bus_id", "capacity_mw",
    "latitude", "longitude", "owner", "commission_date",
]  # fmt: skip
#: Engineering columns of :class:`Grid.assets` beyond the catalog (NaN where not applicable).
ENGINEERING_ASSET_COLUMNS: list[str] = [
    "heat_rate_mmbtu_per_mwh", "fuel_cost_usd_per_mmbtu", "variable_om_usd_per_mwh",
    "marginal_cost_usd_per_mwh", "min_gen_mw", "ramp_mw_per_min", "forced_outage_rate",
    "mean_outage_hours", "co2_kg_per_mwh", "storage_mwh", "round_trip_efficiency",
    "hub_height_m", "cut_in_m_per_s", "rated_m_per_s", "cut_out_m_per_s", "tracking",
    "tilt_deg", "azimuth_deg", "dc_ac_ratio",
]  # fmt: skip
#: Columns of ``bronze.raw_topology``, in order.
TOPOLOGY_COLUMNS: list[str] = [
    "element_id", "element_type", "region_id", "from_id", "to_id", "voltage_kv", "limit_mw",
    "reactance_pu",
]  # fmt: skip
TECHNOLOGIES: tuple[str, ...] = (
    "solar", "wind", "gas_cc", "gas_ct", "coal", "nuclear", "hydro", "battery",
)  # fmt: skip
THERMAL_TECHNOLOGIES: tuple[str, ...] = ("gas_cc", "gas_ct", "coal", "nuclear", "hydro")
ISO_RTO = "ERCOT"


@dataclass(frozen=True)
class RegionTraits:
    """What a region is like: registration data, load character and climate.

    Temperatures in [degF], wind at 100 m in [m/s], cloud in [%], heights in [m].
    ``wind_diurnal_amp`` is the relative amplitude of the daily wind cycle and
    ``wind_peak_solar_hour`` its maximum in local solar time (about 1 for the plains'
    nocturnal low-level jet, mid-afternoon for a sea breeze).

    ``region_id`` values are fixed ids; ``region_name`` names the ERCOT weather zone the region
    models (with its main cities) and ``load_zone`` the ERCOT load zone its load settles in, so
    HOUSTON is ERCOT's Coast weather zone (LZ_HOUSTON) and COAST the Coastal Bend part of the
    Southern weather zone (LZ_SOUTH).
    """

    region_id: str
    region_name: str
    load_zone: str  # ERCOT load zone the region settles in (several regions may share one)
    timezone: str
    latitude: float
    longitude: float
    population: int
    area_sq_km: float
    peak_kw_per_capita: float  # design (one-in-two-years) peak per resident [kW]
    industrial_share: float  # flat, weather-insensitive part of mild-day load [1]
    electric_heat_share: float  # homes heated electrically [1]
    annual_mean_f: float
    annual_amp_f: float  # half the July-January difference of monthly means
    diurnal_range_f: float
    dew_point_summer_f: float
    dew_point_winter_f: float
    cloud_mean_pct: float
    wind_mean_m_per_s: float
    wind_diurnal_amp: float
    wind_peak_solar_hour: float
    altitude_m: float
    tech_weights: tuple[tuple[str, float], ...] = ()  # where new plants of each technology go
    places: tuple[str, ...] = ()  # town names for asset names

    def weight(self, technology: str) -> float:
        return dict(self.tech_weights).get(technology, 0.0)


def _t(**kw: object) -> RegionTraits:
    kw["tech_weights"] = tuple(kw["tech_weights"].items())  # type: ignore[union-attr]
    kw["places"] = tuple(kw["places"].split(", "))  # type: ignore[union-attr]
    return RegionTraits(**kw)  # type: ignore[arg-type]


CHI, DEN = "America/Chicago", "America/Denver"
# Order matters: the first n are used, and each connects to an earlier one.
REGION_TEMPLATES: tuple[RegionTraits, ...] = (
    _t(region_id="NORTH", region_name="North Central (Dallas-Fort Worth)",
       load_zone="LZ_NORTH", timezone=CHI,
       latitude=32.78, longitude=-96.95, population=9_000_000, area_sq_km=102_000.0,
       peak_kw_per_capita=3.0, industrial_share=0.22, electric_heat_share=0.60,
       annual_mean_f=66.5, annual_amp_f=19.0, diurnal_range_f=20.0, dew_point_summer_f=67.0,
       dew_point_winter_f=33.0, cloud_mean_pct=42.0, wind_mean_m_per_s=7.4,
       wind_diurnal_amp=0.16, wind_peak_solar_hour=1.0, altitude_m=180.0,
       tech_weights={"solar": 1.0, "wind": 1.2, "coal": 3.0, "nuclear": 1.0, "hydro": 1.0,
                     "battery": 1.0, "gas": 1.0},
       places="Forney, Ennis, Midlothian, Decatur, Denton, Sherman, Waxahachie, Cleburne, "
       "Granbury, Stephenville, Corsicana, Mineral Wells, Weatherford, Gainesville, "
       "Hillsboro, Haskell, Jacksboro, Graham, Bowie, Paris, Kaufman, Terrell"),
    _t(region_id="HOUSTON", region_name="Coast (Houston)",
       load_zone="LZ_HOUSTON", timezone=CHI, latitude=29.76,
       longitude=-95.37, population=7_400_000, area_sq_km=23_000.0, peak_kw_per_capita=3.35,
       industrial_share=0.38, electric_heat_share=0.55, annual_mean_f=70.5, annual_amp_f=15.5,
       diurnal_range_f=17.0, dew_point_summer_f=73.0, dew_point_winter_f=44.0,
       cloud_mean_pct=50.0, wind_mean_m_per_s=6.2, wind_diurnal_amp=0.08,
       wind_peak_solar_hour=3.0, altitude_m=15.0,
       tech_weights={"solar": 0.3, "coal": 1.5, "battery": 0.8, "gas": 1.1},
       places="Baytown, Pasadena, Deer Park, La Porte, Freeport, Sugar Land, Katy, "
       "Channelview, Texas City, Cedar Bayou, Conroe, Rosenberg, Richmond, Bellville, "
       "Tomball, Humble, Pearland, Dayton"),
    _t(region_id="SOUTH", region_name="South Central (Austin-San Antonio)",
       load_zone="LZ_SOUTH", timezone=CHI,
       latitude=29.90, longitude=-98.05, population=5_500_000, area_sq_km=95_000.0,
       peak_kw_per_capita=2.95, industrial_share=0.20, electric_heat_share=0.55,
       annual_mean_f=69.5, annual_amp_f=16.5, diurnal_range_f=21.0, dew_point_summer_f=69.0,
       dew_point_winter_f=40.0, cloud_mean_pct=45.0, wind_mean_m_per_s=6.8,
       wind_diurnal_amp=0.14, wind_peak_solar_hour=1.0, altitude_m=220.0,
       tech_weights={"solar": 1.2, "wind": 0.3, "coal": 1.5, "hydro": 2.0, "battery": 1.0,
                     "gas": 1.0},
       places="San Marcos, New Braunfels, Seguin, Bastrop, Lockhart, Luling, La Grange, "
       "Kerrville, Uvalde, Pleasanton, Hondo, Floresville, Gonzales, Cuero, Fayetteville, "
       "Georgetown, Taylor, Marble Falls, Elgin, Giddings"),
    _t(region_id="WEST", region_name="Far West (Permian Basin)",
       load_zone="LZ_WEST", timezone=DEN, latitude=31.40,
       longitude=-103.50, population=900_000, area_sq_km=190_000.0, peak_kw_per_capita=7.0,
       industrial_share=0.65, electric_heat_share=0.45, annual_mean_f=64.5, annual_amp_f=18.5,
       diurnal_range_f=25.0, dew_point_summer_f=52.0, dew_point_winter_f=22.0,
       cloud_mean_pct=28.0, wind_mean_m_per_s=8.3, wind_diurnal_amp=0.18,
       wind_peak_solar_hour=1.0, altitude_m=900.0,
       tech_weights={"solar": 3.0, "wind": 2.2, "battery": 1.5, "gas": 0.6},
       places="Pecos, Fort Stockton, Monahans, Kermit, Andrews, Crane, McCamey, Van Horn, "
       "Alpine, Big Spring, Odessa, Midland, Iraan, Sanderson, Wink, Rankin, Sweetwater, "
       "Snyder, Colorado City, San Angelo, Barstow, Toyah"),
    _t(region_id="COAST", region_name="Southern (Coastal Bend, Corpus Christi)",
       load_zone="LZ_SOUTH", timezone=CHI,
       latitude=28.35, longitude=-97.75, population=800_000, area_sq_km=48_000.0,
       peak_kw_per_capita=3.9, industrial_share=0.50, electric_heat_share=0.50,
       annual_mean_f=72.0, annual_amp_f=14.0, diurnal_range_f=16.0, dew_point_summer_f=74.0,
       dew_point_winter_f=50.0, cloud_mean_pct=48.0, wind_mean_m_per_s=7.6,
       wind_diurnal_amp=0.12, wind_peak_solar_hour=15.0, altitude_m=10.0,
       tech_weights={"solar": 0.5, "wind": 1.3, "coal": 0.5, "nuclear": 1.0, "battery": 0.6,
                     "gas": 1.2},
       places="Corpus Christi, Portland, Ingleside, Kingsville, Alice, Port Lavaca, Victoria, "
       "Refugio, Sinton, Rockport, Bay City, Palacios, Taft, Robstown, Goliad"),
    _t(region_id="EAST", region_name="East (Tyler-Longview)",
       load_zone="LZ_NORTH", timezone=CHI, latitude=32.35,
       longitude=-95.30, population=1_200_000, area_sq_km=60_000.0, peak_kw_per_capita=3.2,
       industrial_share=0.30, electric_heat_share=0.55, annual_mean_f=66.0, annual_amp_f=17.5,
       diurnal_range_f=21.0, dew_point_summer_f=69.0, dew_point_winter_f=37.0,
       cloud_mean_pct=47.0, wind_mean_m_per_s=5.9, wind_diurnal_amp=0.10,
       wind_peak_solar_hour=2.0, altitude_m=150.0,
       tech_weights={"solar": 0.3, "coal": 2.0, "hydro": 0.5, "battery": 0.3, "gas": 1.0},
       places="Tyler, Longview, Marshall, Henderson, Nacogdoches, Lufkin, Jacksonville, "
       "Palestine, Carthage, Mount Pleasant, Athens, Kilgore"),
    _t(region_id="PANHANDLE", region_name="North (Panhandle)",
       load_zone="LZ_WEST", timezone=CHI, latitude=35.20,
       longitude=-101.80, population=450_000, area_sq_km=85_000.0, peak_kw_per_capita=4.0,
       industrial_share=0.35, electric_heat_share=0.35, annual_mean_f=58.0, annual_amp_f=21.0,
       diurnal_range_f=25.0, dew_point_summer_f=58.0, dew_point_winter_f=20.0,
       cloud_mean_pct=35.0, wind_mean_m_per_s=8.8, wind_diurnal_amp=0.20,
       wind_peak_solar_hour=1.0, altitude_m=1100.0,
       tech_weights={"solar": 0.8, "wind": 2.5, "coal": 0.5, "battery": 0.3, "gas": 0.8},
       places="Amarillo, Dalhart, Dumas, Pampa, Hereford, Canyon, Childress, Borger, "
       "Perryton, Spearman, Memphis, Claude"),
    _t(region_id="VALLEY", region_name="Southern (Rio Grande Valley)",
       load_zone="LZ_SOUTH", timezone=CHI, latitude=26.25,
       longitude=-97.90, population=1_400_000, area_sq_km=22_000.0, peak_kw_per_capita=2.6,
       industrial_share=0.12, electric_heat_share=0.60, annual_mean_f=74.0, annual_amp_f=12.5,
       diurnal_range_f=20.0, dew_point_summer_f=72.0, dew_point_winter_f=53.0,
       cloud_mean_pct=45.0, wind_mean_m_per_s=7.0, wind_diurnal_amp=0.12,
       wind_peak_solar_hour=14.0, altitude_m=40.0,
       tech_weights={"solar": 0.5, "wind": 0.8, "battery": 0.3, "gas": 1.0},
       places="McAllen, Harlingen, Brownsville, Edinburg, Raymondville, Weslaco, Mission, "
       "Rio Grande City, Port Isabel, San Benito, Lyford, Hebbronville"),
)  # fmt: skip
_TEMPLATES = {t.region_id: t for t in REGION_TEMPLATES}

# (from, to, transfer limit [MW]): 'from' is the usual exporter.
_INTERFACES: tuple[tuple[str, str, float], ...] = (
    ("NORTH", "HOUSTON", 7_500.0), ("SOUTH", "NORTH", 6_000.0), ("WEST", "NORTH", 6_500.0),
    ("SOUTH", "HOUSTON", 5_000.0), ("COAST", "HOUSTON", 6_000.0), ("COAST", "SOUTH", 3_800.0),
    ("WEST", "SOUTH", 5_500.0), ("EAST", "NORTH", 4_000.0), ("EAST", "HOUSTON", 3_000.0),
    ("PANHANDLE", "NORTH", 2_500.0), ("PANHANDLE", "WEST", 2_000.0),
    ("VALLEY", "SOUTH", 1_800.0), ("COAST", "VALLEY", 2_000.0),
)  # fmt: skip


def region_traits(region_id: str, regions: pd.DataFrame | None = None) -> RegionTraits:
    """Traits of a region: its template, with the registration data of its row of ``regions``
    when given; an id without a template gets the NORTH template moved to its row."""
    known = regions is None or region_id in set(regions["region_id"])
    if not known or (regions is None and region_id not in _TEMPLATES):
        msg = f"expected a region among {sorted(_TEMPLATES)} or in `regions`; found {region_id!r}"
        raise WorkbenchError(msg)
    base = _TEMPLATES.get(region_id, REGION_TEMPLATES[0])
    if regions is None:
        return base
    row = regions.loc[regions["region_id"] == region_id].iloc[0]
    return replace(
        base, region_id=region_id, region_name=str(row["region_name"]),
        timezone=str(row["timezone"]), latitude=float(row["latitude"]),
        longitude=float(row["longitude"]), population=int(row["population"]),
        area_sq_km=float(row["area_sq_km"]),
    )  # fmt: skip


def design_peak_mw(regions: pd.DataFrame) -> pd.Series:
    """Design (typical annual) peak load of each region [MW], indexed by region_id:
    population times the region's peak per resident."""
    kw = [region_traits(r, regions).peak_kw_per_capita for r in regions["region_id"]]
    values = regions["population"].to_numpy(float) * np.asarray(kw) / 1_000.0
    return pd.Series(values, index=pd.Index(regions["region_id"], name="region_id"), name="peak_mw")


@dataclass(frozen=True)
class Grid:
    """A simulated system: regions, assets (catalog plus engineering columns) and topology."""

    regions: pd.DataFrame
    assets: pd.DataFrame
    topology: pd.DataFrame

    @cached_property
    def interfaces(self) -> pd.DataFrame:
        """Interface rows of the topology (from/to are region ids, limit_mw the transfer limit)."""
        topo = self.topology
        return topo.loc[topo["element_type"] == "interface"].reset_index(drop=True)

    @cached_property
    def nodes(self) -> list[str]:
        """Pricing node ids: the hub bus of each region (``BUS_<REGION>``)."""
        topo = self.topology
        return topo.loc[topo["element_type"] == "bus", "element_id"].tolist()


def make_grid(n_regions: int, rng: np.random.Generator) -> Grid:
    """Build an ERCOT-like grid of ``n_regions`` regions (5 gives a system peak near 76 GW).

    Parameters
    ----------
    n_regions : int
        Number of regions, 1-8; the default profiles use 5 (NORTH, HOUSTON, SOUTH, WEST,
        COAST), whose design peaks span about 3.1-27 GW.
    rng : numpy.random.Generator
        Source of every random choice (populations, unit sizes, places, parameters).

    Returns
    -------
    Grid
        ``regions`` (:data:`REGION_COLUMNS`), ``assets`` (:data:`CATALOG_ASSET_COLUMNS` then
        :data:`ENGINEERING_ASSET_COLUMNS`), ``topology`` (:data:`TOPOLOGY_COLUMNS`). Firm
        capacity (gas, coal, nuclear, hydro) is 13-17 % above the sum of regional design
        peaks; every asset is commissioned before 2023.
    """
    if not 1 <= n_regions <= len(REGION_TEMPLATES):
        msg = f"expected n_regions between 1 and {len(REGION_TEMPLATES)}; found {n_regions}"
        raise WorkbenchError(msg)
    chosen = REGION_TEMPLATES[:n_regions]
    regions = pd.DataFrame(
        {
            "region_id": [t.region_id for t in chosen],
            "region_name": [t.region_name for t in chosen],
            "iso_rto": ISO_RTO,
            "timezone": [t.timezone for t in chosen],
            "population": np.round(
                np.array([t.population for t in chosen]) * rng.uniform(0.96, 1.04, n_regions), -3
            ).astype("int64"),
            "area_sq_km": [t.area_sq_km for t in chosen],
            "latitude": [t.latitude for t in chosen],
            "longitude": [t.longitude for t in chosen],
            "load_zone": [t.load_zone for t in chosen],
        }
    )[REGION_COLUMNS]
    assets = _assets(regions, design_peak_mw(regions), rng)
    return Grid(regions=regions, assets=assets, topology=_topology(regions, rng))


def distance_km(
    lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray
) -> np.ndarray:
    """Great-circle distance [km] between points given in [deg] (broadcasting)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi, dlmb = p2 - p1, np.radians(lon2) - np.radians(lon1)
    h = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * 6371.0 * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def _topology(regions: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Hub buses, 345 kV lines between neighbours and one interface per neighbouring pair.

    Line reactance is 0.32 ohm/km on a 100 MVA, 345 kV base; an interface carries the
    parallel reactance of its lines, so a DC power flow can run on interfaces alone.
    """
    ids = list(regions["region_id"])
    pos = regions.set_index("region_id")[["latitude", "longitude"]]
    z_base_ohm = 345.0**2 / 100.0
    rows: list[dict[str, object]] = [
        {"element_id": f"BUS_{r}", "element_type": "bus", "region_id": r, "voltage_kv": 345.0}
        for r in ids
    ]
    for a, b, limit in _INTERFACES:
        if a not in ids or b not in ids:
            continue
        limit = round(limit * rng.uniform(0.9, 1.1), -1)
        length = float(distance_km(*pos.loc[a], *pos.loc[b])) * 1.15  # routes are not straight
        n_lines = int(np.clip(np.ceil(limit / 1_500.0), 2, 4))
        x_line = 0.32 * length / z_base_ohm * rng.uniform(0.9, 1.1, n_lines)
        for k in range(n_lines):
            rows.append(
                {"element_id": f"LINE_{a}_{b}_{k + 1}", "element_type": "line", "region_id": a,
                 "from_id": f"BUS_{a}", "to_id": f"BUS_{b}", "voltage_kv": 345.0,
                 "limit_mw": round(limit / n_lines / 0.75, -1), "reactance_pu": round(x_line[k], 5)}
            )  # fmt: skip
        rows.append(
            {"element_id": f"IF_{a}_{b}", "element_type": "interface", "region_id": a,
             "from_id": a, "to_id": b, "voltage_kv": 345.0, "limit_mw": limit,
             "reactance_pu": round(1.0 / np.sum(1.0 / x_line), 5)}
        )  # fmt: skip
    topo = pd.DataFrame(rows, columns=TOPOLOGY_COLUMNS)
    return topo.astype({"voltage_kv": "float64", "limit_mw": "float64", "reactance_pu": "float64"})


# ---------------------------------------------------------------------------------- the fleet
_COUNTS = {"nuclear": 4, "coal": 10, "hydro": 3, "gas_cc": 32, "gas_ct": 18, "wind": 24,
           "solar": 20, "battery": 8}  # fmt: skip
# Nameplate per technology as a share of the sum of design peaks (2023-like ERCOT mix).
_SHARE = {"wind": 0.40, "solar": 0.19, "battery": 0.05}
_SIZE_MW = {"nuclear": (1_150, 1_350), "coal": (600, 1_800), "hydro": (60, 240),
            "gas_cc": (300, 2_400), "gas_ct": (150, 1_600), "wind": (150, 2_200),
            "solar": (80, 1_200), "battery": (50, 800)}  # fmt: skip
_LABEL = {
    "solar": "Solar",
    "wind": "Wind",
    "gas_cc": "Energy Center",
    "gas_ct": "Peaking Station",
    "coal": "Steam Electric Station",
    "hydro": "Hydro",
    "battery": "Energy Storage",
}
_DAMS = {"SOUTH": ("Buchanan", "Inks", "Wirtz", "Starcke", "Mansfield", "Canyon"),
         "NORTH": ("Possum Kingdom", "Whitney", "Denison"), "EAST": ("Sam Rayburn",)}  # fmt: skip
_NUCLEAR = (  # site, owner, commissioning of units 1 and 2
    ("Glen Rose", "Lone Star Nuclear", date(1990, 8, 13), date(1993, 8, 3)),
    ("Matagorda Bay", "Matagorda Nuclear Operating Co.", date(1988, 8, 25), date(1989, 6, 19)),
)
_OWNERS = {
    "thermal": ("Lone Star Generation", "Brazos Power Partners", "Gulf Coast Power",
                "Trinity Energy", "Red River Power", "Sabine Power", "Hill Country Public Power"),
    "renewable": ("Permian Renewables", "Caprock Wind Holdings", "Pecos Solar Partners",
                  "Bluebonnet Clean Energy", "Prairie Sky Energy", "Lone Star Generation"),
    "battery": ("Rio Grande Energy Storage", "Caprock Wind Holdings", "Lone Star Generation"),
}  # fmt: skip
# Uniform ranges: heat rate [MMBtu/MWh], variable O&M [USD/MWh], min gen and ramp [share of
# capacity, per minute for ramp], forced outage rate [1/h], mean outage [h].
_SPEC = {
    "gas_cc": {"hr": (6.4, 7.6), "vom": (1.5, 3.5), "min": (0.38, 0.5), "ramp": (0.015, 0.035),
               "fo": (3e-4, 6e-4), "mttr": (36, 96)},
    "gas_ct": {"hr": (9.2, 11.5), "vom": (4.0, 8.0), "min": (0.1, 0.25), "ramp": (0.06, 0.15),
               "fo": (4e-4, 9e-4), "mttr": (12, 48)},
    "coal": {"hr": (9.8, 11.0), "vom": (3.5, 6.0), "min": (0.35, 0.5), "ramp": (0.008, 0.02),
             "fo": (6e-4, 1.2e-3), "mttr": (48, 120)},
    "nuclear": {"hr": (10.3, 10.6), "vom": (2.0, 3.0), "min": (0.9, 0.95), "ramp": (0.002, 0.005),
                "fo": (5e-5, 1.5e-4), "mttr": (100, 300)},
    "hydro": {"vom": (1.0, 3.0), "min": (0.0, 0.0), "ramp": (0.3, 0.6), "fo": (1e-4, 3e-4),
              "mttr": (12, 72)},
    "wind": {"vom": (0.0, 0.0), "min": (0.0, 0.0), "fo": (5e-5, 1.5e-4), "mttr": (6, 24)},
    "solar": {"vom": (0.0, 0.0), "min": (0.0, 0.0), "fo": (5e-5, 1.5e-4), "mttr": (6, 24)},
    "battery": {"vom": (1.0, 3.0), "min": (0.0, 0.0), "ramp": (1.0, 1.0), "fo": (2e-4, 5e-4),
                "mttr": (12, 48)},
}  # fmt: skip
# Delivered fuel [USD/MMBtu]: West Texas gas trades at a discount (Waha hub).
# Coal (Powder River Basin, rail-delivered) is cheaper than gas most days: mid-merit, not a peaker.
_FUEL = {"gas": (2.9, 3.3), "gas_WEST": (1.8, 2.5), "coal": (1.5, 2.0), "nuclear": (0.6, 0.75)}
_PTC_BID = {True: (18.0, 26.0), False: (0.0, 2.0)}  # wind offers below zero [USD/MWh]
_RATED = {True: (10.8, 12.2), False: (12.5, 13.5)}  # rated wind speed, newer / older [m/s]
_CO2_KG_PER_MMBTU = {"gas_cc": 53.07, "gas_ct": 53.07, "coal": 96.0, "nuclear": 0.0}
_YEARS = {"solar": (2015, 2022), "wind": (2001, 2022), "gas_cc": (1998, 2021),
          "gas_ct": (1972, 2020), "coal": (1974, 1992), "nuclear": (1988, 1993),
          "hydro": (1937, 1952), "battery": (2019, 2022)}  # fmt: skip


def _allocate(count: int, weights: np.ndarray) -> np.ndarray:
    """Split ``count`` units over regions in proportion to ``weights`` (largest remainder)."""
    w = np.asarray(weights, float)
    w = w if w.sum() > 0 else np.ones_like(w)
    share = count * w / w.sum()
    n = np.floor(share).astype(int)
    order = np.argsort(-(share - n), kind="stable")
    n[order[: count - n.sum()]] += 1
    return n


def _sizes(rng: np.random.Generator, n: int, total: float, lo: float, hi: float) -> np.ndarray:
    """``n`` lognormal unit sizes [MW] in [lo, hi] summing to about ``total``."""
    s = rng.lognormal(0.0, 0.4, n)
    s = s / s.sum() * total
    for _ in range(4):
        s = np.clip(s, lo, hi)
        s *= total / s.sum()
    return np.round(np.clip(s, lo, hi), 1)


def _assets(regions: pd.DataFrame, peaks: pd.Series, rng: np.random.Generator) -> pd.DataFrame:
    ids = list(regions["region_id"])
    traits = {r: region_traits(r, regions) for r in ids}
    total_peak = float(peaks.sum())
    units: list[tuple[str, str, float]] = []  # (technology, region, capacity)
    for tech in ("nuclear", "coal", "hydro"):
        if tech == "nuclear":
            site = next((r for r in ("COAST", "HOUSTON") if r in ids), ids[0])
            where = [ids[0], ids[0], site, site]
        else:
            counts = _allocate(_COUNTS[tech], np.array([traits[r].weight(tech) for r in ids]))
            where = [r for r, c in zip(ids, counts, strict=True) for _ in range(c)]
        lo, hi = _SIZE_MW[tech]
        units += [
            (tech, r, round(float(c), 1))
            for r, c in zip(where, rng.uniform(lo, hi, len(where)), strict=True)
        ]
    # firm capacity about the design peak: wind, solar and storage carry the reserve margin, so
    # outages, hot weather and a windless evening peak can run the reserves short (scarcity)
    firm_target = total_peak * rng.uniform(0.99, 1.03)
    gas_total = max(firm_target - sum(u[2] for u in units), 0.3 * total_peak)
    totals = {"gas_cc": 0.7 * gas_total, "gas_ct": 0.3 * gas_total}
    totals |= {t: share * total_peak for t, share in _SHARE.items()}
    for tech, total in totals.items():
        key = "gas" if tech.startswith("gas") else tech
        w = np.array([traits[r].weight(key) * (peaks[r] if key == "gas" else 1.0) for r in ids])
        counts = _allocate(_COUNTS[tech], w)
        where = [r for r, c in zip(ids, counts, strict=True) for _ in range(c)]
        sizes = _sizes(rng, len(where), total, *_SIZE_MW[tech])
        units += [(tech, r, float(c)) for r, c in zip(where, sizes, strict=True)]
    units.sort(key=lambda u: (TECHNOLOGIES.index(u[0]), ids.index(u[1])))
    rows, seen = [], {}
    for tech, region, cap in units:
        key = (tech, region)
        if key not in seen:  # a fresh shuffle of the region's towns for each technology
            seen[key] = [str(p) for p in rng.permutation(np.array(traits[region].places))]
        k = len(rows) - sum(1 for r in rows if (r["technology"], r["region_id"]) != key) + 1
        rows.append(_describe((tech, region, cap), k, traits[region], seen[key], rng))
    return pd.DataFrame(rows)


def _describe(
    unit: tuple[str, str, float],
    k: int,
    t: RegionTraits,
    places: list[str],
    rng: np.random.Generator,
) -> dict[str, object]:
    """Row of the k-th unit of a technology in a region: catalog, then engineering columns."""
    tech, region, cap = unit
    spec = _SPEC[tech]
    first, last = _YEARS[tech]
    start = date(first, 1, 1)
    commissioned = start + timedelta(days=int(rng.integers(0, (date(last, 11, 30) - start).days)))
    site = 0 if region == "NORTH" and k <= 2 else 1  # nuclear: two sites of two units
    radius_km = 0.35 * np.sqrt(t.area_sq_km) * np.sqrt(rng.uniform())
    bearing = rng.uniform(0, 2 * np.pi)
    lat = t.latitude + radius_km * np.cos(bearing) / 111.0
    lon = t.longitude + radius_km * np.sin(bearing) / (111.0 * np.cos(np.radians(t.latitude)))
    if tech == "nuclear":
        name = f"{_NUCLEAR[site][0]} Nuclear Unit {2 - k % 2}"
        lat, lon = t.latitude - 0.15 + 0.3 * site, t.longitude - 0.2
        owner_pool = (_NUCLEAR[site][1],)
        commissioned = _NUCLEAR[site][2 - k % 2 + 1]
    else:
        dams = _DAMS.get(region, ())
        if tech == "hydro" and k <= len(dams):
            name = f"{dams[k - 1]} Dam"
        else:
            lap, i = divmod(k - 1, len(places))
            name = f"{places[i]} {_LABEL[tech]}" + (f" {lap + 1}" if lap else "")
        group = {"solar": "renewable", "wind": "renewable", "battery": "battery"}.get(
            tech, "thermal"
        )
        owner_pool = _OWNERS[group]
    row: dict[str, object] = {
        "asset_id": f"{tech.upper()}_{region}_{k:02d}",
        "asset_name": name,
        "technology": tech,
        "region_id": region,
        "bus_id": f"BUS_{region}",
        "capacity_mw": cap,
        "latitude": round(float(lat), 4),
        "longitude": round(float(lon), 4),
        "owner": owner_pool[int(rng.integers(len(owner_pool)))],
        "commission_date": commissioned,
    }
    row |= dict.fromkeys(ENGINEERING_ASSET_COLUMNS, np.nan)
    vom = round(float(rng.uniform(*spec["vom"])), 2)
    row |= {
        "variable_om_usd_per_mwh": vom,
        "marginal_cost_usd_per_mwh": vom,
        "min_gen_mw": round(cap * float(rng.uniform(*spec["min"])), 1),
        "forced_outage_rate": float(rng.uniform(*spec["fo"])),
        "mean_outage_hours": round(float(rng.uniform(*spec["mttr"])), 1),
        "co2_kg_per_mwh": 0.0,
    }
    if "ramp" in spec:
        row["ramp_mw_per_min"] = round(cap * float(rng.uniform(*spec["ramp"])), 2)
    if "hr" in spec:
        fuel_key = "gas" if tech.startswith("gas") else tech
        fuel_key = f"gas_{region}" if f"{fuel_key}_{region}" in _FUEL else fuel_key
        hr = round(float(rng.uniform(*spec["hr"])), 2)
        fuel = round(float(rng.uniform(*_FUEL[fuel_key])), 2)
        row |= {
            "heat_rate_mmbtu_per_mwh": hr,
            "fuel_cost_usd_per_mmbtu": fuel,
            "marginal_cost_usd_per_mwh": round(hr * fuel + vom, 2),
            "co2_kg_per_mwh": round(hr * _CO2_KG_PER_MMBTU[tech], 1),
        }
    if tech == "wind":
        year = commissioned.year  # from 2013 still inside the 10-year production tax credit
        row |= {
            "marginal_cost_usd_per_mwh": -round(float(rng.uniform(*_PTC_BID[year >= 2013])), 2),
            "hub_height_m": 80.0 if year < 2010 else (90.0 if year < 2017 else 100.0),
            "cut_in_m_per_s": round(float(rng.uniform(3.0, 3.5)), 1),
            "rated_m_per_s": round(float(rng.uniform(*_RATED[year >= 2012])), 1),
            "cut_out_m_per_s": float(rng.choice([22.0, 25.0], p=[0.3, 0.7])),
        }  # fmt: skip
    elif tech == "solar":
        fixed = rng.uniform() < (0.5 if commissioned.year < 2017 else 0.1)
        row |= {
            "marginal_cost_usd_per_mwh": -round(float(rng.uniform(0, 3)), 2),
            "tracking": "fixed" if fixed else "single_axis",
            "tilt_deg": round(t.latitude - 5.0, 0) if fixed else 0.0,
            "azimuth_deg": 180.0,
            "dc_ac_ratio": round(float(rng.uniform(1.2, 1.35)), 2),
        }
    elif tech == "battery":
        row |= {
            "storage_mwh": round(cap * float(rng.choice([1.0, 1.5, 2.0], p=[0.5, 0.3, 0.2])), 1),
            "round_trip_efficiency": round(float(rng.uniform(0.82, 0.88)), 3),
        }
    return row
