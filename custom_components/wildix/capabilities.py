"""An entry's PBX API capabilities: the probe's table, and a feature turned off alone.

`pbx_capabilities` declares the features and probes them; this module keeps an entry's
table, and turns a feature the PBX refuses, lacks or answers unreadably off with one
log line and a repair issue `missing_permission` naming the feature and what the
credential needs. A later probe (after a reload, e.g. a reauthentication) that finds
the feature usable ends its repair issue.
"""

import logging
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir

from .const import DOMAIN
from .pbx_capabilities import FEATURES, FEATURES_BY_KEY, Capability

_LOGGER = logging.getLogger(__name__)

MISSING_PERMISSION = "missing_permission"


def missing_permission_issue_id(entry_id: str, feature: str) -> str:
    """Return the id of the repair issue of one feature of an entry."""
    return f"{MISSING_PERMISSION}_{entry_id}_{feature}"


class EntryCapabilities:
    """Which PBX API features one entry's credential may use."""

    def __init__(
        self, hass: HomeAssistant, entry: ConfigEntry, company_key: bool
    ) -> None:
        """Start with every feature unknown."""
        self._hass = hass
        self._entry = entry
        self.company_key = company_key
        self.table: dict[str, Capability] = {}

    def usable(self, feature: str) -> bool | None:
        """Return whether a feature is usable; None while not known."""
        row = self.table.get(feature)
        return None if row is None else row.usable

    @callback
    def async_set_table(self, table: dict[str, Capability]) -> None:
        """Take a probe's table: turn refused features off, end the repairs of the rest."""
        for row in table.values():
            if row.usable is False:
                self.async_turn_off(row.feature, row.why)
            else:
                self.table[row.feature] = row
                if row.usable:
                    ir.async_delete_issue(
                        self._hass,
                        DOMAIN,
                        missing_permission_issue_id(self._entry.entry_id, row.feature),
                    )

    @callback
    def async_learnt_usable(self, feature: str) -> None:
        """Note that a feature not known so far answered (its probe had no answer)."""
        if self.usable(feature) is None:
            needs = FEATURES_BY_KEY[feature].needs(self.company_key)
            self.table[feature] = Capability(feature, True, "answered", needs)

    @callback
    def async_turn_off(self, feature: str, why: str) -> None:
        """Turn a feature off alone: one log line and a repair issue (once)."""
        known = self.table.get(feature)
        if known is not None and known.usable is False:
            return
        needs = FEATURES_BY_KEY[feature].needs(self.company_key)
        self.table[feature] = Capability(feature, False, why, needs)
        _LOGGER.warning(
            "%s: the PBX API feature %s is off: %s; it needs %s",
            self._entry.title,
            feature,
            why,
            needs,
        )
        ir.async_create_issue(
            self._hass,
            DOMAIN,
            missing_permission_issue_id(self._entry.entry_id, feature),
            is_fixable=False,
            is_persistent=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=MISSING_PERMISSION,
            translation_placeholders={
                "title": self._entry.title,
                "feature": feature,
                "why": why,
                "needs": needs,
            },
            data={"entry_id": self._entry.entry_id},
        )

    def diagnostics(self) -> list[dict[str, Any]]:
        """Return the table as diagnostics show it, in the declared order."""
        return [
            {
                "feature": row.feature,
                "usable": row.mark,
                "why": row.why,
                "needs": row.needs,
            }
            for feature in FEATURES
            if (row := self.table.get(feature.key)) is not None
        ]


@callback
def async_clear_capability_issues(hass: HomeAssistant, entry_id: str) -> None:
    """Take every feature's repair issue of a removed entry out of Repairs."""
    for feature in FEATURES:
        ir.async_delete_issue(
            hass, DOMAIN, missing_permission_issue_id(entry_id, feature.key)
        )
