"""The benchmark: harness and its Home Assistant component (the traffic is tests/workload.py)."""
