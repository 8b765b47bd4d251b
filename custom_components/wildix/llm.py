"""LLM tools: the Wildix intents in the Assist API.

Home Assistant before the `llm` integration's tool platforms (2025.x) offers every
registered intent as a tool by itself and never loads this module.
"""

from homeassistant.components.llm import LLMTools
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import intent
from homeassistant.helpers.llm import (
    LLM_API_ASSIST,
    IntentTool,
    LLMContext,
    Tool,
    ToolAnnotations,
)

from .const import DOMAIN
from .intents import (
    INTENT_CALL,
    INTENT_MISSED_CALLS,
    INTENT_SET_PRESENCE,
    INTENT_VOICEMAIL,
    INTENT_WHO_IS_ON_THE_PHONE,
)
from .voice_users import loaded_hubs

_QUESTION = ToolAnnotations(
    read_only=True, destructive=False, idempotent=True, open_world=False
)
# Tools that act on the PBX: a call rings real phones, a presence is seen by colleagues.
LLM_INTENTS: dict[str, tuple[str, ToolAnnotations]] = {
    INTENT_WHO_IS_ON_THE_PHONE: ("Who is on the phone", _QUESTION),
    INTENT_MISSED_CALLS: ("Missed calls", _QUESTION),
    INTENT_VOICEMAIL: ("New voicemails", _QUESTION),
    INTENT_CALL: ("Call from my phone", ToolAnnotations(destructive=False)),
    INTENT_SET_PRESENCE: (
        "Set presence",
        ToolAnnotations(destructive=False, idempotent=True),
    ),
}


@callback
def async_get_tools(
    hass: HomeAssistant, llm_context: LLMContext, api_id: str
) -> LLMTools | None:
    """Return the Wildix intents as tools of the Assist API while a PBX is loaded."""
    if api_id != LLM_API_ASSIST or not loaded_hubs(hass):
        return None
    tools: list[Tool] = [
        IntentTool(
            f"{DOMAIN}__{handler.intent_type}",
            handler,
            title=LLM_INTENTS[handler.intent_type][0],
            integration=DOMAIN,
            annotations=LLM_INTENTS[handler.intent_type][1],
        )
        for handler in intent.async_get(hass)
        if handler.intent_type in LLM_INTENTS
    ]
    return LLMTools(tools=tools)
