"""Keys are handled one at a time, in the order they were typed, however fast they come.

Textual picks the widget a key goes to when the key arrives, and runs the bindings of an ordinary
key only once it has travelled up from that widget, while a priority binding runs at once. A burst
read from the terminal in one go (``q`` then ``m``, or ``/dave`` Esc ``q``) could thus run the
later key first, or hand a key to a field that an earlier key in the burst closes. :class:`KeyOrder`
holds each key until the one before it has been handled all the way: its bindings have run and
what they set off on the screen (a field closed, the focus moved, a dialog opened) has been
processed. A burst then behaves exactly as the same keys typed slowly. A mouse button pressed
or released takes its turn the same way, so a click acts after the keys typed before it.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from textual import events
from textual.app import App
from textual.message import Message
from textual.message_pump import MessagePump

log = logging.getLogger(__name__)

#: Passes over the app's queue after a key before the next key goes on anyway (a widget that is
#: never idle must not stop the keyboard).
MAX_SETTLE_ROUNDS = 200

#: Input that takes its turn: keys, and mouse buttons (a click is made of a press and a release).
Ordered = events.Key | events.MouseDown | events.MouseUp


class KeyHandled(Message):
    """Sent after a key to the widget that got it; it travels up the same way, so it reaches the
    app once the key's bindings have run."""

    def __init__(self, key: events.Key) -> None:
        super().__init__()
        self.key = key


class KeyOrder:
    """Hands the app's keys to Textual one at a time. ``route`` is Textual's own handling of a
    key that has just arrived (``App.on_event``); the app passes every arriving key to
    :meth:`arrived` and every :class:`KeyHandled` to :meth:`handled`."""

    def __init__(self, app: App[Any], route: Callable[[Ordered], Awaitable[None]]) -> None:
        self._app = app
        self._route = route
        self._held: deque[Ordered] = deque()
        self._current: Ordered | None = None  # the key (or mouse button) being handled
        self._target: MessagePump | None = None  # the widget it went to, until its bindings ran

    async def arrived(self, key: Ordered) -> None:
        """A key (or mouse button) from the terminal: handle it now, or once the input before it
        is done."""
        self._held.append(key)
        if self._target is not None and not self._target.is_attached:
            self._current = None  # its widget went away, and with it the KeyHandled that followed
        if self._current is None:
            await self._send(self._held.popleft())

    def clear(self) -> None:
        """Drop the keys not handled yet (the app is quitting)."""
        self._held.clear()

    async def _send(self, key: Ordered) -> None:
        self._current, self._target = key, None
        await self._route(key)
        if isinstance(key, events.Key) and key.is_forwarded:  # handed to a widget: wait until its bindings have run
            target: MessagePump = self._app.focused or self._app.screen
            if target.post_message(KeyHandled(key)):
                self._target = target
                return
        self._settle(key, 0)

    async def handled(self, message: KeyHandled) -> None:
        """A KeyHandled reached the app: the bindings of the key it followed have run."""
        if message.key is not self._current or self._target is None:
            return
        self._target = None
        if self._app.message_queue_size or not self._quiet():
            self._settle(message.key, 0)
            return
        await self._go_on()  # nothing was set off: the next key goes on at once

    def _settle(self, key: Ordered, rounds: int) -> None:
        self._app.call_later(self._next, key, rounds)

    async def _next(self, key: Ordered, rounds: int) -> None:
        """Go on with the key after ``key`` once the screen has processed what ``key`` set off."""
        await asyncio.sleep(0)  # let the widgets' own loops run
        if key is not self._current:
            return
        if not self._quiet():
            if rounds < MAX_SETTLE_ROUNDS:
                self._settle(key, rounds + 1)
                return
            log.debug("keys: the screen is still busy after %d rounds; going on", rounds)
        await self._go_on()

    async def _go_on(self) -> None:
        """The current key is done: hand over the next one held, if any."""
        self._current = None
        if self._held:
            await self._send(self._held.popleft())

    def _quiet(self) -> bool:
        """True when no widget of the active screen has messages waiting (the app's own queue
        is drained by passing through it: see :meth:`_settle`)."""
        screen = self._app.screen
        return all(node.message_queue_size == 0 for node in screen.walk_children(with_self=True))
