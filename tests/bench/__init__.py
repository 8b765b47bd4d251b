"""The benchmark: traffic generator, harness and its Home Assistant component."""
