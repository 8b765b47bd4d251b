"""Real Home Assistant harness: end-to-end and browser tests, demo and screenshots."""
