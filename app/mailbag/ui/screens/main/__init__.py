"""The main screen, one module per part (see :mod:`.screen`)."""

from mailbag.ui.screens.main.reading import READER_DEBOUNCE
from mailbag.ui.screens.main.screen import MainScreen
from mailbag.ui.screens.main.search import SEARCH_DEBOUNCE
from mailbag.ui.screens.main.triage import SYNC_TARGETS

__all__ = ["READER_DEBOUNCE", "SEARCH_DEBOUNCE", "SYNC_TARGETS", "MainScreen"]
