"""Directory safety: a listing that cannot be trusted removes nobody.

A PBX's directory answer removes the users it no longer lists, but only when it is
provably complete and plausible: not empty, every page read without repeats, as many
records as its `total`, and not more than half of the known users gone at once. Anything
else keeps every user, is logged once, and becomes a repair issue when it lasts for
DOUBTFUL_POLLS polls in a row.
"""

from collections.abc import Collection
import logging

from homeassistant.core import HomeAssistant, callback

from .issues import Issue, async_clear_issue, async_raise_issue
from .pbx_directory import Directory

_LOGGER = logging.getLogger(__name__)

# Polls in a row with a doubtful directory before a repair issue says so.
DOUBTFUL_POLLS = 3


def doubt(directory: Directory, known: Collection[str]) -> str | None:
    """Return why a directory must not remove users, or None when it may.

    `known` are the users an earlier trusted directory listed.
    """
    if directory.incomplete is not None:
        return directory.incomplete
    if not directory.colleagues:
        return "the PBX listed no user"
    listed = {colleague.extension for colleague in directory.colleagues}
    lost = sum(extension not in listed for extension in known)
    if lost * 2 > len(known):
        return f"it would remove {lost} of the {len(known)} users at once"
    return None


class DirectoryGuard:
    """Counts doubtful directories in a row; logs the first and raises the issue."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Start with no doubt."""
        self._hass = hass
        self._entry_id = entry_id
        self.doubtful = 0

    @callback
    def async_judged(self, why: str | None) -> None:
        """Take the verdict on a newly read directory."""
        entry = self._hass.config_entries.async_get_entry(self._entry_id)
        if entry is None:
            return
        if why is None:
            if self.doubtful:
                _LOGGER.info("%s: the PBX's directory is complete again", entry.title)
                async_clear_issue(self._hass, entry.entry_id, Issue.DIRECTORY_DOUBTFUL)
            self.doubtful = 0
            return
        self.doubtful += 1
        if self.doubtful == 1:
            _LOGGER.warning(
                "%s: the PBX's directory cannot be trusted (%s); no user is removed",
                entry.title,
                why,
            )
        if self.doubtful == DOUBTFUL_POLLS:
            async_raise_issue(self._hass, entry, Issue.DIRECTORY_DOUBTFUL, reason=why)
