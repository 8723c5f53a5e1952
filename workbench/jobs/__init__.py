"""jobs layer (see DESIGN.md): notebooks promoted to scheduled jobs.

- :mod:`.spec` — job specs (``pipelines/papermill/*.yaml``), validated strictly;
- :mod:`.runner` — one run through papermill (kernel ``gridmind``) or marimo, with retries;
- :mod:`.runs` — the run log, ``ops.job_runs``;
- :mod:`.scheduler` — cron schedules with timezones, catch-up, one instance, graceful stop;
- :mod:`.context` — what a job notebook calls: ``record_metrics``, ``publish`` (one transaction);
- :mod:`.forecast_jobs`, :mod:`.models`, :mod:`.registry_models`, :mod:`.sweeps` — the bodies of
  the forecast and anomaly-sweep jobs.
"""
