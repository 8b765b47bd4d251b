"""The fixtures' calls as the events that report them, each sequence in time order.

Standard library only: the benchmark's traffic generator builds its calls from these.
Users: 201 Alice Example, 202 Bob Example, 203 Carol Example.
"""

# Alice answers +4930555010203 at 09:15, holds the caller, and the call ends after 62 s.
INBOUND_CALL = "de_w204518_1741079700.3101"
INBOUND_ANSWERED = (
    "call_start_inbound",
    "call_update_inbound_ringing",
    "call_update_inbound_talking",
    "call_update_inbound_hold",
    "call_end_inbound_answered",
)
INBOUND_ANSWERED_LIVE = (
    "call_live_progress_start_inbound",
    "call_live_progress_ringing_inbound",
    "call_live_progress_talking",
    "call_live_progress_hold",
    "call_live_completed_inbound",
)
INBOUND_ANSWERED_RECORDED = "call_completed_inbound_answered_recorded"
# The live events until Alice talks.
INBOUND_TALKING_LIVE = INBOUND_ANSWERED_LIVE[:3]
# What Alice's phone reports meanwhile; `rt` is a second call ringing (MISSED_CALL).
INBOUND_TELEPHONY = (
    "presence_telephony_ringing",
    "presence_telephony_talking",
    "presence_telephony_rt",
    "presence_telephony_registered",
)
# Both event families of the answered call, interleaved as Wildix sends them.
INBOUND_BOTH_FAMILIES = (
    "call_start_inbound",
    "call_live_progress_start_inbound",
    "call_update_inbound_ringing",
    "call_live_progress_ringing_inbound",
    "call_update_inbound_talking",
    "call_live_progress_talking",
    "call_update_inbound_hold",
    "call_live_progress_hold",
    "call_end_inbound_answered",
    "call_live_completed_inbound",
)

# Bob calls +4989555123456 at 09:20; they talk for three minutes.
OUTBOUND_CALL = "de_w204518_1741080000.3107"
OUTBOUND = ("call_start_outbound", "call_update_outbound_talking", "call_end_outbound")
OUTBOUND_LIVE = (
    "call_live_progress_start_outbound",
    "call_live_progress_talking_outbound",
    "call_live_interrupted",
)
OUTBOUND_RECORDED = "call_completed_outbound"

# +4940555777888 rings Alice at 10:02 and gives up.
MISSED_CALL = "de_w204518_1741082520.3188"
INBOUND_MISSED = (
    "call_start_inbound_missed",
    "call_update_inbound_missed_ringing",
    "call_end_inbound_missed",
)
INBOUND_MISSED_LIVE = ("call_live_completed_missed",)
INBOUND_MISSED_RECORDED = "call_completed_inbound_missed"

# Carol calls Bob at 11:30; he rejects the call.
INTERNAL_CALL = "de_w204518_1741087800.3240"
INTERNAL = (
    "call_start_internal",
    "call_update_internal_ringing",
    "call_end_internal_rejected",
)
INTERNAL_LIVE = ("call_live_progress_internal",)

# Presence later in the day: Alice on do-not-disturb at 12:00, Bob away at 12:30,
# Carol available with a location at 13:10.
PRESENCE = (
    "presence_user_dnd",
    "presence_user_away",
    "presence_user_available_with_location",
)

# A busy morning, in time order: Alice answers a call and misses one; Bob talks to an
# outside number while Carol's call rings him; then everyone's presence changes.
BUSY_MORNING = (
    "call_start_inbound",
    "call_update_inbound_ringing",
    "presence_telephony_ringing",
    "call_update_inbound_talking",
    "presence_telephony_talking",
    "call_end_inbound_answered",
    *OUTBOUND[:2],
    *INBOUND_MISSED,
    *INTERNAL[:2],
    *PRESENCE,
)
