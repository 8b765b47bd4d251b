"""Run the simulator: `python -m wildix_simulator --help`."""

from .cli import main

raise SystemExit(main())
