"""PBX API: dialplan switches (day/night, holiday) (`/api/v1/Dialplan/Switches`)."""

from dataclasses import dataclass
import re

from .pbx_transport import (
    MAX_RECORDS,
    PbxTransport,
    flag_field,
    int_field,
    path_segment,
    text_field,
)

ROUTE_SWITCHES = "/api/v1/Dialplan/Switches"  # M/H: canvacanva production, n8n live
ROUTE_SWITCH = "/api/v1/Dialplan/Switches/{id}/"  # M/H: PUT with title and state
# Switch ids are numbers (M/H: every source); only digits go into the write's path, so
# that no id can lead a write off its route.
_SWITCH_ID = re.compile(r"[0-9]{1,18}")


@dataclass(frozen=True, slots=True)
class DialplanSwitch:
    """A dialplan switch (day/night, holiday) (`GET /api/v1/Dialplan/Switches`)."""

    id: str
    title: str
    state: int
    # A tree switch may have more than two states; its range is not documented.
    is_tree: bool


class PbxSwitches(PbxTransport):
    """The dialplan switches."""

    async def async_get_switches(self) -> tuple[DialplanSwitch, ...]:
        """Return the dialplan switches (`result.records` of `{id, title, state}`)."""
        path = ROUTE_SWITCHES
        records, _ = self._records(path, await self._result("GET", path))
        switches: list[DialplanSwitch] = []
        for record in records[:MAX_RECORDS]:
            if not isinstance(record, dict):
                self._deviation(path, "a record that is not an object")
                continue
            switch_id = text_field(record.get("id"), 64)
            state = int_field(record.get("state"))
            if (
                switch_id is None
                or not _SWITCH_ID.fullmatch(switch_id)
                or state is None
            ):
                self._deviation(path, "a switch without a usable `id` or `state`")
                continue
            switches.append(
                DialplanSwitch(
                    id=switch_id,
                    title=text_field(record.get("title")) or switch_id,
                    state=state,
                    is_tree=flag_field(record.get("isTreeType")),
                )
            )
        return tuple(switches)

    async def async_set_switch(self, switch_id: str, title: str, state: int) -> None:
        """Set a dialplan switch's state; the PBX wants its `title` sent too.

        `PUT /api/v1/Dialplan/Switches/{id}/` with `title` and integer `state` (M/H:
        canvacanva production, n8n live, which saw "state must be within valid range").
        """
        if isinstance(state, bool) or not isinstance(state, int) or state < 0:
            raise ValueError(f"a switch state is an integer from 0, not {state!r}")
        if not title:
            raise ValueError("a switch needs its title")
        if not isinstance(switch_id, str) or not _SWITCH_ID.fullmatch(switch_id):
            raise ValueError(f"not a switch id: {switch_id!r}")
        path = ROUTE_SWITCH.format(id=path_segment(switch_id, "switch id"))
        await self._write("PUT", path, json={"title": title, "state": state})
