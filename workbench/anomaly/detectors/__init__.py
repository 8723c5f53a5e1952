"""Sensor detectors by role: rules, Isolation Forest, LSTM autoencoder, ensemble."""
