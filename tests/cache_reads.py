"""Reads of the cache that a test expects to find something: they fail the test when it is not."""

from __future__ import annotations

from mailbag.domain.models import FolderState, MessageSummary
from mailbag.store.store import Store


def cached_summary(store: Store, account: str, folder: str, uid: int) -> MessageSummary:
    """The cached summary of ``uid`` in ``folder``, which must be there."""
    summary = store.summary(account, folder, uid)
    assert summary is not None, f"{folder} {uid} is not cached"
    return summary


def cached_flags(store: Store, account: str, folder: str, uid: int) -> frozenset[str]:
    """The cached flags of ``uid`` in ``folder``, which must be there."""
    return cached_summary(store, account, folder, uid).flags


def cached_state(store: Store, account: str, folder: str) -> FolderState:
    """The cached state (UIDVALIDITY, UIDNEXT, ...) of ``folder``, which must be there."""
    state = store.folder_state(account, folder)
    assert state is not None, f"{folder} has no cached state"
    return state
