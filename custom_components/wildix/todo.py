"""To-do lists: each user's callbacks, missed calls not returned yet; they complete themselves."""

from collections.abc import Mapping
from types import MappingProxyType

# Defined in todo/entity.py since 2025.x and only re-exported by the package.
from homeassistant.components.todo import TodoItem, TodoListEntity  # type: ignore[attr-defined]
from homeassistant.components.todo.const import TodoItemStatus, TodoListEntityFeature
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .call_log_texts import CallLogTexts
from .callbacks import Callback
from .const import DOMAIN
from .entity import WildixEntity, async_add_user_entities
from .hub import WildixConfigEntry
from .people import check_may_act_for

PARALLEL_UPDATES = 0

CALLBACKS = EntityDescription(key="callbacks", translation_key="callbacks")


async def async_setup_entry(
    hass: HomeAssistant,
    entry: WildixConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the callbacks of every user, known now or later."""
    hub = entry.runtime_data
    async_add_user_entities(
        hub,
        async_add_entities,
        lambda extension: (WildixCallbacksTodo(hub, CALLBACKS, extension),),
    )


class WildixCallbacksTodo(WildixEntity, TodoListEntity):
    """A user's callbacks: check, rename or delete them; calls complete them too."""

    extension: str
    # The callbacks and the way of showing them that were rendered last.
    _shown: tuple[object, ...] | None = None
    # Each item as rendered last, by uid, and the way it was rendered.
    _rendered: Mapping[str, tuple[Callback, TodoItem]] = MappingProxyType({})
    _rendered_way: tuple[object, ...] | None = None
    _attr_supported_features = (
        TodoListEntityFeature.UPDATE_TODO_ITEM | TodoListEntityFeature.DELETE_TODO_ITEM
    )

    async def async_added_to_hass(self) -> None:
        """Follow the user's callbacks."""
        await super().async_added_to_hass()
        self.async_on_remove(
            self.hub.signals.connect(
                self.hub.call_history.signal_callbacks(self.extension),
                self._async_changed,
            )
        )
        self._async_update_items()

    async def async_update_todo_item(self, item: TodoItem) -> None:
        """Check, uncheck or rename a callback."""
        await self._async_check_user()
        history = self.hub.call_history
        items = history.callback_list(self.extension)
        if (uid := item.uid) is None or uid not in items.items:
            raise self._unknown(uid)
        current = items.items[uid]
        rendered = history.render().callback_summary(current)
        if item.summary is not None and item.summary != rendered:
            items.rename(uid, item.summary)
        if item.status is not None:
            items.set_done(
                uid,
                item.status == TodoItemStatus.COMPLETED,
                int(dt_util.utcnow().timestamp() * 1000),
            )
        history.async_callbacks_edited(self.extension)

    async def async_delete_todo_items(self, uids: list[str]) -> None:
        """Delete callbacks."""
        await self._async_check_user()
        history = self.hub.call_history
        items = history.callback_list(self.extension)
        if unknown := [uid for uid in uids if uid not in items.items]:
            raise self._unknown(unknown[0])
        items.delete(uids)
        history.async_callbacks_edited(self.extension)

    async def _async_check_user(self) -> None:
        """Let only admins, automations and the user's own person edit the list."""
        user_id = None if self._context is None else self._context.user_id
        user = None if user_id is None else await self.hass.auth.async_get_user(user_id)
        check_may_act_for(
            self.hass, self.hub.entry.options, user, self.extension, self.entity_id
        )

    def _unknown(self, uid: str | None) -> ServiceValidationError:
        return ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="unknown_callback",
            translation_placeholders={"uid": str(uid)},
        )

    @callback
    def _async_changed(self) -> None:
        if self._async_update_items():
            self.async_write_ha_state()

    @callback
    def _async_update_items(self) -> bool:
        """Render the callbacks; return whether they differ from the ones shown."""
        history = self.hub.call_history
        callback_list = history.callback_list(self.extension)
        # The same version of the same list, shown the same way, renders the same.
        shown = (callback_list, callback_list.version, history.generation)
        if shown == self._shown:
            return False
        self._shown = shown
        # Items are replaced, never changed: an item rendered the same way before
        # (the same texts, privacy and time zone) keeps its rendering.
        way = (history.generation, dt_util.get_default_time_zone())
        if way != self._rendered_way:
            self._rendered_way = way
            self._rendered = {}
        render = history.render()
        rendered: dict[str, tuple[Callback, TodoItem]] = {}
        for uid, item in callback_list.items.items():
            if (before := self._rendered.get(uid)) is None or before[0] is not item:
                before = (item, _todo_item(render, item))
            rendered[uid] = before
        self._rendered = rendered
        items = [todo_item for _, todo_item in rendered.values()]
        if items == self._attr_todo_items:
            return False
        self._attr_todo_items = items
        return True


def _todo_item(render: CallLogTexts, item: Callback) -> TodoItem:
    """Return a callback as a to-do item."""
    return TodoItem(
        summary=render.callback_summary(item),
        uid=item.uid,
        status=TodoItemStatus.COMPLETED if item.done else TodoItemStatus.NEEDS_ACTION,
        description=render.callback_description(item),
    )
