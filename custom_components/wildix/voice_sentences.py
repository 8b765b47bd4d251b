"""What people say to the built-in Assist agent, in English, Italian, German and French.

Hassil templates: (a|b) one of, [a] optional, {slot} any words (a wildcard).
"""

from typing import Final

from .intents import (
    INTENT_CALL,
    INTENT_MISSED_CALLS,
    INTENT_SET_PRESENCE,
    INTENT_VOICEMAIL,
    INTENT_WHO_IS_ON_THE_PHONE,
)

SENTENCES: Final[dict[str, list[str]]] = {
    INTENT_WHO_IS_ON_THE_PHONE: [
        # en
        "who is (on the phone|on a call|talking on the phone)",
        "is (anyone|anybody|someone) on the phone",
        "is {name} (on the phone|on a call)",
        # it
        "chi (è|e) al telefono",
        "chi sta telefonando",
        "c'è qualcuno al telefono",
        "{name} (è|e) al telefono",
        # de
        "wer (telefoniert|ist am telefon) [gerade]",
        "telefoniert {name} [gerade]",
        "ist {name} [gerade] am telefon",
        # fr
        "qui est au (téléphone|telephone)",
        "qui (téléphone|telephone)",
        "est-ce que {name} est au (téléphone|telephone)",
        "{name} est au (téléphone|telephone)",
    ],
    INTENT_MISSED_CALLS: [
        # en
        "who called me [today]",
        "[do|did] I [have] [any] missed calls [today]",
        "[what are|show] my missed calls [today]",
        "who called {name} [today]",
        "[does|did] {name} have [any] missed calls [today]",
        "missed calls (of|for) {name}",
        # it
        "chi mi ha chiamato [oggi]",
        "[ho] [delle] chiamate perse [oggi]",
        "[quali sono|mostra] le mie chiamate perse",
        "chi ha chiamato {name} [oggi]",
        "chiamate perse (di|per) {name}",
        # de
        "wer hat mich [heute] angerufen",
        "habe ich [heute] verpasste anrufe",
        "[zeige] meine verpassten anrufe",
        "wer hat {name} [heute] angerufen",
        "verpasste anrufe (von|für) {name}",
        # fr
        "qui m'a appelé [aujourd'hui]",
        "[est-ce que] j'ai [eu] des appels manqués [aujourd'hui]",
        "mes appels manqués",
        "qui a appelé {name} [aujourd'hui]",
        "appels manqués (de|pour) {name}",
    ],
    INTENT_CALL: [
        "(call|dial|ring) {name}",
        "(chiama|telefona a) {name}",
        "(ruf|rufe) {name} an",
        "{name} anrufen",
        "(appelle|appeler|téléphone à) {name}",
    ],
    INTENT_SET_PRESENCE: [
        # en
        "set (me|my status|my presence) to {status}",
        "set [the] (status|presence) of {name} to {status}",
        # it
        "(imposta|metti) [il] mio stato (su|a|in) {status}",
        "(mettimi|impostami) (su|in|a) {status}",
        "(imposta|metti) [lo] stato di {name} (su|a|in) {status}",
        # de
        "(setze|setz|stelle|stell) (mich|meinen status) auf {status}",
        "(setze|setz|stelle|stell) den status von {name} auf {status}",
        # fr
        "(mets|mettre|passe) mon statut (sur|à|en) {status}",
        "(mets-moi|passe-moi) (sur|à|en) {status}",
        "(mets|mettre|passe) le statut de {name} (sur|à|en) {status}",
    ],
    INTENT_VOICEMAIL: [
        # en
        "(do I have|have I got|any) [new] voicemail[s]",
        "check my voicemail[s]",
        "does {name} have [any] [new] voicemail[s]",
        "[new] voicemail[s] (of|for) {name}",
        # it
        "[ho] [dei] [nuovi] messaggi (in segreteria|vocali)",
        "controlla la [mia] segreteria",
        "[nuovi] messaggi (in segreteria|vocali) (di|per) {name}",
        # de
        "habe ich [neue] (sprachnachrichten|nachrichten auf der mailbox)",
        "(prüfe|check) [meine] mailbox",
        "hat {name} [neue] sprachnachrichten",
        "[neue] sprachnachrichten (von|für) {name}",
        # fr
        "[est-ce que] j'ai [des] [nouveaux] messages vocaux",
        "consulte ma messagerie",
        "[nouveaux] messages vocaux (de|pour) {name}",
    ],
}

# Words for the speaker where a name may stand ("who called me").
ME: Final = frozenset({"me", "myself", "mich", "mir", "mi", "me stesso", "moi", "io"})

# Spoken presences, in every language, and the status each sets.
STATUS_WORDS: Final[dict[str, str]] = {
    "available": "available",
    "free": "available",
    "online": "available",
    "away": "away",
    "absent": "away",
    "do not disturb": "dnd",
    "dnd": "dnd",
    "disponibile": "available",
    "libero": "available",
    "libera": "available",
    "assente": "away",
    "non disturbare": "dnd",
    "verfügbar": "available",
    "verfugbar": "available",
    "erreichbar": "available",
    "abwesend": "away",
    "nicht stören": "dnd",
    "nicht storen": "dnd",
    "bitte nicht stören": "dnd",
    "disponible": "available",
    "absente": "away",
    "ne pas déranger": "dnd",
    "ne pas deranger": "dnd",
}

# Words that start the end of a presence ("do not disturb until 15:00").
UNTIL: Final = ("until", "till", "fino alle", "fino a", "bis", "jusqu'à", "jusqu'a")
