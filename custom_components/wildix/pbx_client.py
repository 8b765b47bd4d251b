"""Wildix PBX REST API client: every resource module over one transport.

The routes live in one module per resource, named after it: `pbx_info` (personal
info, version, ping), `pbx_directory`, `pbx_registrations`, `pbx_presence`,
`pbx_switches`, `pbx_calls`. `pbx_transport` documents how to add one.
"""

from .pbx_calls import PbxCalls
from .pbx_directory import PbxDirectory
from .pbx_info import PbxInfo
from .pbx_presence import PbxPresence
from .pbx_registrations import PbxRegistrations
from .pbx_switches import PbxSwitches


class PbxClient(
    PbxInfo,
    PbxDirectory,
    PbxRegistrations,
    PbxPresence,
    PbxSwitches,
    PbxCalls,
):
    """A client of one PBX's REST API, acting with one Bearer token."""
