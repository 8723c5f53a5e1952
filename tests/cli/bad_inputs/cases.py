"""The corpus: every file-taking and parameter-taking command, with inputs it must refuse.

A case is a command line with placeholders — ``{file:NAME}`` for a file of
:func:`tests.cli.bad_inputs.files.make_files`, ``{out}`` for an output path that must not appear,
``{tmp}`` for the test's folder — and the words of which at least one must be in the one-line error
(the bad value, option or file it names), so a refusal for the wrong reason does not pass.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Case:
    id: str
    argv: tuple[str, ...]
    mention: tuple[str, ...]
    subprocess: bool = False  # run as a real process with a time limit (commands that serve)


def _file_cases(
    command: str, base: tuple[str, ...], names: dict[str, tuple[str, ...]]
) -> list[Case]:
    """One case per bad file; ``base`` has ``{file}`` where the file goes."""
    cases = []
    for name, mention in names.items():
        argv = tuple(f"{{file:{name}}}" if a == "{file}" else a for a in base)
        cases.append(Case(f"{command}-file-{name}", argv, mention))
    return cases


def _option_cases(
    command: str, base: tuple[str, ...], options: dict[str, tuple[tuple[str, ...], tuple[str, ...]]]
) -> list[Case]:
    """One case per bad option on the good file; ``options`` maps id to (extra args, mention)."""
    argv = _good(base)
    return [
        Case(f"{command}-opt-{name}", argv + extra, mention)
        for name, (extra, mention) in options.items()
    ]


FILE_MENTIONS: dict[str, tuple[str, ...]] = {
    "missing": ("no_such_file",),
    "directory": ("a_folder",),
    "empty": ("empty",),
    "empty_parquet": ("empty",),
    "header_only": ("header_only", "rows", "empty"),
    "wrong_columns": ("timestamp", "value"),
    "non_numeric": ("n/a", "numeric", "value"),
    "all_nan": ("value", "missing", "nan"),
    "inf": ("inf", "finite"),
    "duplicates": ("duplicate",),
    "mixed_zones": ("zone", "offset", "timestamp"),
    "unsorted": ("sort", "increasing"),
    "one_row": ("row", "history", "one_row"),
    "huge_gap": ("gap", "missing", "history"),
    "bad_timestamps": ("not a time", "timestamp"),
    "binary": ("binary",),
    "binary_parquet": ("binary",),
    "unsupported": ("xlsx", "table.xlsx"),
}


def _files(*names: str) -> dict[str, tuple[str, ...]]:
    return {name: FILE_MENTIONS[name] for name in names}


FORECAST = (
    "forecast", "backtest", "{file}", "--time-col", "timestamp", "--target", "value",
    "--output", "{out}.parquet",
)  # fmt: skip
DETECT = (
    "anomaly", "detect", "{file}", "--time-col", "timestamp", "--value-col", "value",
    "--output", "{out}.parquet",
)  # fmt: skip
FREQUENCY = (
    "anomaly", "frequency", "{file}", "--time-col", "timestamp", "--value-col", "value",
    "--output", "{out}.parquet",
)  # fmt: skip
ARBITRAGE = (
    "market", "arbitrage", "{file}", "--time-col", "timestamp", "--price-col", "value",
    "--energy-mwh", "100", "--power-mw", "25", "--output", "{out}.parquet",
)  # fmt: skip


def _good(argv: tuple[str, ...]) -> tuple[str, ...]:
    """``argv`` with the good file where ``{file}`` is."""
    return tuple("{file:good}" if a == "{file}" else a for a in argv)


def _replace(base: tuple[str, ...], option: str, value: str) -> tuple[str, ...]:
    """``base`` with the value after ``option`` replaced."""
    out = list(base)
    out[out.index(option) + 1] = value
    return tuple(out)


CASES: list[Case] = [
    *_file_cases("forecast", FORECAST, _files(*(n for n in FILE_MENTIONS if n != "unsorted"))),
    *_option_cases(
        "forecast",
        FORECAST,
        {
            "freq": (("--freq", "fortnightly"), ("fortnightly", "--freq")),
            "horizon-negative": (("--horizon", "-1"), ("-1", "horizon")),
            "horizon-word": (("--horizon", "soon"), ("soon", "horizon")),
            "issue-time": (("--issue-time", "25:00"), ("25:00", "issue")),
            "tz": (("--tz", "Bogus/Zone"), ("Bogus/Zone",)),
            "model": (("--model", "lightgbn"), ("lightgbn",)),
            "sktime-model": (("--model", "sktime:NoSuch"), ("NoSuch",)),
            "test-window": (
                ("--test-start", "2024-02-20", "--test-end", "2024-02-01"),
                ("test-start", "test-end", "2024-02-20"),
            ),
            "test-start": (("--test-start", "someday"), ("someday",)),
            "retrain": (("--retrain", "sometimes"), ("sometimes",)),
            "quantile-range": (("--quantiles", "0.1,1.5"), ("1.5",)),
            "quantile-word": (("--quantiles", "low,high"), ("low",)),
            "duplicates-mode": (("--duplicates", "maybe"), ("maybe",)),
            "future-covariate": (("--future-covariates", "nosuch_col"), ("nosuch_col",)),
            "past-covariate": (("--past-covariates", "nosuch_col"), ("nosuch_col",)),
            "target-missing": (("--target", "nosuch_target"), ("nosuch_target",)),
            "report-dir": (("--report", "{tmp}/files"), ("files", "folder", "directory")),
        },
    ),
    Case(
        "forecast-opt-output-dir",
        _good(_replace(FORECAST, "--output", "{tmp}/files")),
        ("files", "folder", "directory"),
    ),
    Case(
        "forecast-opt-output-suffix",
        _good(_replace(FORECAST, "--output", "{out}.txt")),
        (".txt", "parquet"),
    ),
    *_file_cases(
        "detect",
        DETECT,
        _files(
            "missing",
            "directory",
            "empty",
            "empty_parquet",
            "header_only",
            "wrong_columns",
            "non_numeric",
            "all_nan",
            "mixed_zones",
            "one_row",
            "bad_timestamps",
            "binary",
            "binary_parquet",
            "unsupported",
        ),
    ),
    *_option_cases(
        "detect",
        DETECT,
        {
            "method": (("--method", "magic"), ("magic",)),
            "gap-word": (("--gap", "a while"), ("a while", "gap")),
            "gap-negative": (("--gap", "-5s"), ("-5s", "gap")),
            "group-col": (("--group-col", "nosuch_col"), ("nosuch_col",)),
        },
    ),
    *_file_cases(
        "frequency",
        FREQUENCY,
        _files(
            "missing",
            "directory",
            "empty",
            "empty_parquet",
            "header_only",
            "wrong_columns",
            "non_numeric",
            "all_nan",
            "inf",
            "mixed_zones",
            "one_row",
            "bad_timestamps",
            "binary",
            "binary_parquet",
            "unsupported",
        ),
    ),
    *_option_cases(
        "frequency",
        FREQUENCY,
        {
            "band-negative": (("--band", "-0.05"), ("-0.05", "band")),
            "band-zero": (("--band", "0"), ("band",)),
            "count-zero": (("--count", "0"), ("count",)),
            "window-word": (("--window", "briefly"), ("briefly", "window")),
            "window-negative": (("--window", "-5s"), ("-5s", "window")),
            "nominal-zero": (("--nominal", "0"), ("nominal",)),
            "nominal-negative": (("--nominal", "-60"), ("-60", "nominal")),
            "group-col": (("--group-col", "nosuch_col"), ("nosuch_col",)),
            "quality-col": (("--quality-col", "nosuch_col"), ("nosuch_col",)),
        },
    ),
    Case(
        "frequency-cube-start-after-end",
        (
            "anomaly",
            "frequency",
            "--start",
            "2024-03-21T12:00",
            "--end",
            "2024-03-21T11:00",
            "--output",
            "{out}.parquet",
        ),
        ("start", "end"),
    ),
    Case(
        "frequency-cube-start-word",
        ("anomaly", "frequency", "--start", "lunchtime", "--output", "{out}.parquet"),
        ("lunchtime",),
    ),
    *_file_cases(
        "arbitrage",
        ARBITRAGE,
        _files(*FILE_MENTIONS),
    ),
    *_option_cases(
        "arbitrage",
        ARBITRAGE,
        {
            "efficiency-above-one": (("--efficiency", "1.5"), ("1.5", "efficiency")),
            "efficiency-zero": (("--efficiency", "0"), ("efficiency",)),
            "cycles-negative": (("--cycles-per-day", "-1"), ("-1", "cycles")),
            "soc-above-one": (("--initial-soc", "2"), ("initial", "soc")),
            "soc-negative": (("--initial-soc", "-0.1"), ("-0.1", "soc")),
            "tz": (("--tz", "Bogus/Zone"), ("Bogus/Zone",)),
            "forecast-col": (("--forecast-col", "nosuch_col"), ("nosuch_col",)),
        },
    ),
    *(
        Case(f"arbitrage-opt-{name}", _good(_replace(ARBITRAGE, option, value)), mention)
        for name, option, value, mention in (
            ("energy-negative", "--energy-mwh", "-1", ("energy",)),
            ("energy-zero", "--energy-mwh", "0", ("energy",)),
            ("energy-nan", "--energy-mwh", "nan", ("energy", "nan")),
            ("power-zero", "--power-mw", "0", ("power",)),
            ("power-negative", "--power-mw", "-5", ("power",)),
            ("power-inf", "--power-mw", "inf", ("power", "inf")),
            ("output-dir", "--output", "{tmp}/files", ("files", "folder", "directory")),
            ("output-suffix", "--output", "{out}.txt", (".txt", "parquet")),
        )
    ),
    Case("spreads-tz", ("market", "spreads", "--tz", "Bogus/Zone"), ("Bogus/Zone",)),
    Case("spreads-table", ("market", "spreads", "--table", "silver.nosuch"), ("silver.nosuch",)),
    Case("spreads-catalog", ("market", "spreads", "--catalog", "{tmp}/nope.yaml"), ("nope.yaml",)),
    Case(
        "spreads-output-dir",
        ("market", "spreads", "--output", "{tmp}/files"),
        ("files", "folder", "directory"),
    ),
    Case("lmp-threshold-negative", ("market", "lmp", "--threshold", "-1"), ("threshold", "-1")),
    Case("lmp-threshold-nan", ("market", "lmp", "--threshold", "nan"), ("threshold", "nan")),
    Case("lmp-table", ("market", "lmp", "--table", "gold.nosuch"), ("gold.nosuch",)),
    *(
        Case(f"meters-{name}", ("meters", "aggregate", *extra, "--output", out), mention)
        for name, extra, out, mention in (
            ("freq", ("--freq", "7min"), "{out}.parquet", ("7min",)),
            ("freq-word", ("--freq", "often"), "{out}.parquet", ("often",)),
            ("start-word", ("--start", "dawn"), "{out}.parquet", ("dawn",)),
            (
                "start-after-end",
                ("--start", "2024-03-02", "--end", "2024-03-01"),
                "{out}.parquet",
                ("start", "end"),
            ),
            ("engine", ("--engine", "spark"), "{out}.parquet", ("spark",)),
            ("dataset", ("--dataset", "silver.nosuch"), "{out}.parquet", ("silver.nosuch",)),
            ("output-dir", (), "{tmp}/files", ("files", "folder", "directory")),
            ("output-suffix", (), "{out}.csv", (".csv", "parquet")),
        )
    ),
    Case("catalog-describe-unknown", ("catalog", "describe", "gold.nosuch"), ("gold.nosuch",)),
    Case(
        "catalog-describe-missing-file",
        ("catalog", "describe", "gold.fact_load", "--catalog", "{tmp}/nope.yaml"),
        ("nope.yaml",),
    ),
    Case(
        "catalog-describe-directory",
        ("catalog", "describe", "gold.fact_load", "--catalog", "{tmp}/files"),
        ("files",),
    ),
    Case(
        "catalog-describe-binary",
        ("catalog", "describe", "gold.fact_load", "--catalog", "{file:binary}"),
        ("binary",),
    ),
    Case(
        "catalog-describe-empty",
        ("catalog", "describe", "gold.fact_load", "--catalog", "{file:empty}"),
        ("empty",),
    ),
    Case("catalog-list-layer", ("catalog", "list", "--layer", "platinum"), ("platinum",)),
    Case(
        "catalog-list-missing-file",
        ("catalog", "list", "--catalog", "{tmp}/nope.yaml"),
        ("nope.yaml",),
    ),
    Case("models-show-unknown", ("models", "show", "nosuch_model"), ("nosuch_model",)),
    Case("models-show-stage", ("models", "show", "load_NORTH", "--stage", "golden"), ("golden",)),
    Case(
        "models-promote-stage",
        ("models", "promote", "load_NORTH", "1", "--stage", "golden"),
        ("golden",),
    ),
    Case("models-promote-version", ("models", "promote", "load_NORTH", "-1"), ("-1", "version")),
    Case("models-show-version", ("models", "show", "load_NORTH", "--version", "0"), ("version",)),
    Case("jobs-run-unknown", ("jobs", "run", "no_such_job"), ("no_such_job",)),
    Case(
        "jobs-run-model", ("jobs", "run", "day_ahead_load", "-p", "model=lightgbn"), ("lightgbn",)
    ),
    Case(
        "jobs-run-sktime-model",
        ("jobs", "run", "day_ahead_load", "-p", "model=sktime:NoSuch"),
        ("NoSuch",),
    ),
    Case(
        "jobs-run-date",
        ("jobs", "run", "day_ahead_load", "-p", "issue_date=2024-13-45"),
        ("2024-13-45",),
    ),
    Case(
        "jobs-run-date-word",
        ("jobs", "run", "day_ahead_load", "-p", "issue_date=tomorrowish"),
        ("tomorrowish",),
    ),
    Case("jobs-run-no-equals", ("jobs", "run", "day_ahead_load", "-p", "model"), ("model", "=")),
    Case(
        "jobs-run-unknown-param",
        ("jobs", "run", "day_ahead_load", "-p", "nosuch_param=1"),
        ("nosuch_param",),
    ),
    Case(
        "jobs-run-jobs-dir",
        ("jobs", "run", "day_ahead_load", "--jobs-dir", "{tmp}/no_jobs"),
        ("no_jobs",),
    ),
    Case(
        "jobs-backfill-window",
        ("jobs", "backfill", "day_ahead_load", "--start", "2024-03-10", "--end", "2024-03-01"),
        ("start", "end"),
    ),
    Case(
        "jobs-backfill-start-word",
        ("jobs", "backfill", "day_ahead_load", "--start", "soon", "--end", "2024-03-01"),
        ("soon",),
    ),
    Case(
        "jobs-backfill-last-days-zero",
        ("jobs", "backfill", "day_ahead_load", "--last-days", "0"),
        ("1 day or more", "0"),
    ),
    Case(
        "jobs-backfill-last-days-and-start",
        ("jobs", "backfill", "day_ahead_load", "--last-days", "3", "--start", "2024-03-01"),
        ("--last-days", "--start"),
    ),
    Case("jobs-backfill-no-window", ("jobs", "backfill", "day_ahead_load"), ("--start", "--end")),
    Case("jobs-history-limit-negative", ("jobs", "history", "--limit", "-5"), ("-5", "limit")),
    Case("jobs-history-limit-zero", ("jobs", "history", "--limit", "0"), ("limit",)),
    Case("jobs-list-jobs-dir", ("jobs", "list", "--jobs-dir", "{tmp}/no_jobs"), ("no_jobs",)),
    Case("build-layer", ("build", "--layer", "platinum"), ("platinum",)),
    Case("build-since-word", ("build", "--since", "lately"), ("lately",)),
    Case("build-since-date", ("build", "--since", "2024-13-01"), ("2024-13-01",)),
    Case("demo-build-profile", ("demo", "build", "--profile", "huge"), ("huge",)),
    Case("demo-build-days-zero", ("demo", "build", "--days", "0"), ("days",)),
    Case("demo-build-days-negative", ("demo", "build", "--days", "-3"), ("-3", "days")),
    Case("demo-build-start", ("demo", "build", "--start", "2024-02-30"), ("2024-02-30",)),
    Case("sim-report-out-file", ("sim", "report", "--out", "{file:good}"), ("good.csv",)),
    Case("serve-port-negative", ("serve", "--port", "-1"), ("port", "-1"), subprocess=True),
    Case("serve-port-large", ("serve", "--port", "70000"), ("port", "70000"), subprocess=True),
    Case("serve-auth", ("serve", "--auth", "kerberos"), ("kerberos",), subprocess=True),
]
