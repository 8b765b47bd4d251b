"""Constants of the Wildix integration."""

from enum import StrEnum
from typing import Final

DOMAIN: Final = "wildix"
MANUFACTURER: Final = "Wildix"

CONF_SECRET: Final = "secret"
CONF_CLOUDHOOK: Final = "cloudhook"
CONF_TRANSPORT: Final = "transport"
CONF_QUEUE_URL: Final = "queue_url"
CONF_ACCESS_KEY_ID: Final = "access_key_id"
CONF_SECRET_ACCESS_KEY: Final = "secret_access_key"
# The optional PBX API connection: the form's section and fields, and the entry's data.
CONF_PBX_API: Final = "pbx_api"
CONF_PBX_URL: Final = "pbx_url"
CONF_API_TOKEN: Final = "api_token"
CONF_VERIFY_SSL: Final = "verify_ssl"

# Options; the durations are kept in the units the options form shows.
CONF_EXTENSIONS: Final = "extensions"
CONF_STALE_CALL_TIMEOUT: Final = "stale_call_timeout"  # hours
CONF_MAX_EVENT_AGE: Final = "max_event_age"  # minutes
CONF_SHOW_REMOTE: Final = "show_remote"
CONF_MAX_USERS: Final = "max_users"
CONF_PASS_THROUGH: Final = "pass_through"
CONF_MISSED_INTERNAL: Final = "missed_internal"
CONF_INBOX_DAYS: Final = "inbox_days"  # days voicemails and recordings are kept
CONF_CALL_LOG_DAYS: Final = "call_log_days"
CONF_CALL_LOG_CALLS: Final = "call_log_calls"

EVENT_WEBHOOK: Final = "wildix_webhook"
EVENT_CALL: Final = "wildix_event"

MAX_BODY_BYTES: Final = 1024 * 1024
DUPLICATE_CACHE_SIZE: Final = 4096
# How long a delivery is remembered across a restart, to drop it if it comes again.
DUPLICATE_MEMORY: Final = 24 * 3600.0
DEFAULT_MAX_EVENT_AGE: Final = 600.0
SAVE_DELAY: Final = 10.0
EXPIRY_INTERVAL: Final = 60.0

RECENT_DELIVERIES: Final = 50
REJECTION_STREAK: Final = 5
REJECTION_WINDOW: Final = 600.0
NO_EVENTS_GRACE: Final = 24 * 3600.0


class Transport(StrEnum):
    """How Wildix delivers events to Home Assistant."""

    WEBHOOK = "webhook"
    SQS = "sqs"
