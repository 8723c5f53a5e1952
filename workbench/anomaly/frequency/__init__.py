"""Grid frequency: the excursion rule (streaming and batch), ROCOF, disturbances, oscillations."""
