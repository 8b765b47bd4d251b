"""Repair issues an entry raises: its events are rejected, none ever arrived, too many users."""

from enum import StrEnum

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir

from .const import CONF_TRANSPORT, DOMAIN, Transport


class Issue(StrEnum):
    """The problems an entry can report as repair issues."""

    SIGNATURE_REJECTED = "signature_rejected"
    NO_EVENTS = "no_events"
    TOO_MANY_USERS = "too_many_users"
    DIRECTORY_DOUBTFUL = "directory_doubtful"


# Issues whose advice depends on how the events arrive.
TRANSPORT_ISSUES = {Issue.SIGNATURE_REJECTED, Issue.NO_EVENTS}


def issue_id(issue: Issue, entry_id: str) -> str:
    """Return the id of an entry's issue."""
    return f"{issue}_{entry_id}"


@callback
def async_raise_issue(
    hass: HomeAssistant, entry: ConfigEntry, issue: Issue, **placeholders: str
) -> None:
    """Show an issue of an entry in Repairs, in the words of its transport."""
    transport = entry.data[CONF_TRANSPORT]
    webhook = transport == Transport.WEBHOOK
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id(issue, entry.entry_id),
        is_fixable=webhook and issue is Issue.SIGNATURE_REJECTED,
        is_persistent=False,
        severity=ir.IssueSeverity.WARNING
        if issue in (Issue.TOO_MANY_USERS, Issue.DIRECTORY_DOUBTFUL)
        else ir.IssueSeverity.ERROR,
        translation_key=issue
        if webhook or issue not in TRANSPORT_ISSUES
        else f"{issue}_{transport}",
        translation_placeholders={"title": entry.title, **placeholders},
        data={"entry_id": entry.entry_id},
    )


@callback
def async_open_issues(hass: HomeAssistant, entry_id: str) -> set[Issue]:
    """Return the issues of an entry that are in Repairs now."""
    registry = ir.async_get(hass)
    return {
        issue
        for issue in Issue
        if registry.async_get_issue(DOMAIN, issue_id(issue, entry_id)) is not None
    }


@callback
def async_clear_issue(hass: HomeAssistant, entry_id: str, issue: Issue) -> None:
    """Take an entry's issue out of Repairs, if it was there."""
    ir.async_delete_issue(hass, DOMAIN, issue_id(issue, entry_id))


@callback
def async_clear_issues(hass: HomeAssistant, entry_id: str) -> None:
    """Take all issues of a removed entry out of Repairs."""
    for issue in Issue:
        async_clear_issue(hass, entry_id, issue)
