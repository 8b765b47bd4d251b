"""Start Home Assistant for the benchmark: the real core, HTTP server and webhook path.

The default integrations Home Assistant adds to every installation (frontend,
cloud, backup, assist...) need packages the test environment does not have, and
none of them is on the webhook's path, so they are left out instead of sending
Home Assistant into recovery mode. Run as a script from the configuration
directory, so that `custom_components` is the configuration's, not this repository's.
"""

import cProfile
import gc
import os
import sys
import time

from homeassistant import bootstrap
from homeassistant.__main__ import main

KEPT = {"logger", "network", "system_log"}

bootstrap.DEFAULT_INTEGRATIONS.intersection_update(KEPT)
bootstrap.CRITICAL_INTEGRATIONS.clear()

# With WILDIX_BENCH_PROFILE set, the event loop's thread (this one) is profiled from
# the start until the harness asks wildix_bench for the profile ("unprofile").
PROFILE = cProfile.Profile() if os.environ.get("WILDIX_BENCH_PROFILE") else None
# The collections of the garbage collector meanwhile, in seconds: all of them, and
# those that started while wildix's own code ran (the profile counts them as its
# time, but a collection goes through the whole heap, nearly all Home Assistant's).
COLLECTIONS = {"all": 0.0, "in_wildix": 0.0}
_WILDIX = f"custom_components{os.sep}wildix{os.sep}"
_began = 0.0


def _time_collection(phase: str, _info: dict[str, int]) -> None:
    global _began  # noqa: PLW0603
    if phase == "start":
        _began = time.perf_counter()
        return
    took = time.perf_counter() - _began
    COLLECTIONS["all"] += took
    # The code that allocated when the collection started, to which the profile
    # counts its time (or to a built-in that code called).
    if _WILDIX in sys._getframe(1).f_code.co_filename:
        COLLECTIONS["in_wildix"] += took


if __name__ == "__main__":
    if PROFILE is not None:
        gc.callbacks.append(_time_collection)
        PROFILE.enable()
    sys.exit(main())
