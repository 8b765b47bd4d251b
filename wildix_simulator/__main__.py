"""Run the simulator: `python -m wildix_simulator --help`."""

import os
import sys

from .cli import main

try:
    STATUS = main()
    sys.stdout.flush()
except BrokenPipeError:
    # The reader went away (`scripts/simulate --dry-run | head`): stop quietly. Point stdout
    # at devnull so that the interpreter's last flush does not fail again (Python's
    # documentation of SIGPIPE recommends this).
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    STATUS = 1
raise SystemExit(STATUS)
