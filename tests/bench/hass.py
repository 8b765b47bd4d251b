"""Start Home Assistant for the benchmark: the real core, HTTP server and webhook path.

The default integrations Home Assistant adds to every installation (frontend,
cloud, backup, assist...) need packages the test environment does not have, and
none of them is on the webhook's path, so they are left out instead of sending
Home Assistant into recovery mode. Run as a script from the configuration
directory, so that `custom_components` is the configuration's, not this repository's.
"""

import cProfile
import os
import sys

from homeassistant import bootstrap
from homeassistant.__main__ import main

KEPT = {"logger", "network", "system_log"}

bootstrap.DEFAULT_INTEGRATIONS.intersection_update(KEPT)
bootstrap.CRITICAL_INTEGRATIONS.clear()

# With WILDIX_BENCH_PROFILE set, the event loop's thread (this one) is profiled from
# the start until the harness asks wildix_bench for the profile ("unprofile").
PROFILE = cProfile.Profile() if os.environ.get("WILDIX_BENCH_PROFILE") else None

if __name__ == "__main__":
    if PROFILE is not None:
        PROFILE.enable()
    sys.exit(main())
