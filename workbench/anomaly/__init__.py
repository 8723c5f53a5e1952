"""Anomaly detection: pure computation on frames and arrays (only ``workbench.io`` touches storage).

- :mod:`.frequency` — the frequency-excursion rule as a streaming detector
  (:class:`~.frequency.stream.FrequencyDetector`) and in batch (:mod:`.frequency.batch`), ROCOF
  alarms, disturbance characterisation, forced oscillations;
- :mod:`.detectors` — sensor detectors (rules, Isolation Forest, LSTM autoencoder, ensemble),
  driven by :func:`.sensor.detect_sensor_anomalies`;
- :mod:`.evaluation` — :func:`~.evaluation.score_events`, event-level P/R/F1 against labels;
- :mod:`.sweep` — frames for ``gold.frequency_events`` and ``gold.anomaly_events``.
"""
