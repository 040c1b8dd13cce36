"""Triage: what the keys act on and the requests they send. It is optimistic, and the service
keeps the optimism: once a request is submitted, the service answers for it at once (a moved
row is no longer listed, a flag shows changed, folder counts move), so the screen re-reads the
rows acted on and the counts. A refusal ends the service's entry, and the screen reads again."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from textual import work

from mailbag.domain.folder_names import typed_name
from mailbag.domain.models import FLAGGED, SEEN, ConnectionState, FolderRole, MessageRow
from mailbag.domain.requests import DeleteMessages, MoveMessages, Request, RetryAccount, SetFlags
from mailbag.domain.retry_words import RetryPlan
from mailbag.domain.wording import plural
from mailbag.ui.screens.main.base import MainScreenBase
from mailbag.ui.widgets.message_list import FolderKey

#: Up to this many target rows are read on the UI loop; more are read in a thread first.
SYNC_TARGETS = 2000


class TriageControl(MainScreenBase):
    """Flags, moves, copies, deletes and undo."""

    def _mark_seen(self, row: MessageRow) -> None:
        self._set_flags([row], add=frozenset({SEEN}))

    def refresh_counts(self, accounts: Iterable[str], folder: str | None = None) -> None:
        """Show the folder counts the service has now (every folder of ``accounts``, or only
        ``folder``)."""
        for account in accounts:
            for each in self.facade.folders(account):
                if folder is None or each.name == folder:
                    self.folder_tree.update_counts(account, each.name, each.total, each.unread)

    def _submitted(self, rows: Sequence[MessageRow]) -> None:
        """Triage on ``rows`` was submitted: show what the service says of them now. A read of
        the view still on its way began before the triage, and would bring back the rows it
        took away: the view is read again instead."""
        self.message_list.reread([row.row_id for row in rows])
        self.refresh_counts({row.account for row in rows})
        if self._list_read == self._generation:
            self.reload()

    def triage_target_ids(self) -> list[int]:
        """What a triage key acts on: the marked rows (a marked collapsed thread counts whole);
        else the collapsed thread under the cursor; else the cursor's message."""
        listing = self.message_list
        ids: list[int] = []
        if listing.marked:
            marked = listing.marked
            for index, row_id in enumerate(listing.ids):
                if row_id in marked:
                    ids.extend(listing.thread_at(index))
        elif listing.row_count:
            ids.extend(listing.thread_at(listing.cursor))
        return ids

    def _with_targets(self, act: Callable[[list[MessageRow]], None]) -> None:
        """Run ``act`` on the target rows: at once for a few, after a thread read for many."""
        ids = self.triage_target_ids()
        if not ids:
            self.status.set_notice("No message to act on")
        elif len(ids) <= SYNC_TARGETS:
            act(self.facade.rows(ids))
        else:
            self.status.set_notice(f"Reading {len(ids)} messages…")
            self._read_targets(ids, act)

    @work(thread=True, group="targets")
    def _read_targets(self, ids: list[int], act: Callable[[list[MessageRow]], None]) -> None:
        rows = self.facade.rows(ids)
        self.app.call_from_thread(act, rows)

    @staticmethod
    def _grouped(rows: Sequence[MessageRow]) -> dict[FolderKey, list[MessageRow]]:
        """Rows per (account, folder): one request each (a unified inbox mixes accounts)."""
        groups: dict[tuple[str, str], list[MessageRow]] = {}
        for row in rows:
            key = (row.account, row.folder)
            group = groups.get(key)
            if group is None:
                groups[key] = group = []
            group.append(row)
        return {FolderKey(account, folder): group for (account, folder), group in groups.items()}

    @staticmethod
    def _uids(rows: Sequence[MessageRow]) -> tuple[int, ...]:
        return tuple(sorted(row.uid for row in rows))

    def _set_flags(
        self, rows: Sequence[MessageRow], *, add: frozenset[str] = frozenset(), remove: frozenset[str] = frozenset()
    ) -> None:
        for key, in_folder in self._grouped(rows).items():
            uids = self._uids(in_folder)
            self.facade.submit(SetFlags(account=key.account, folder=key.folder, uids=uids, add=add, remove=remove))
        self._submitted(rows)

    def _toggle(self, rows: list[MessageRow], flag: str, *, add_when: Callable[[MessageRow], bool]) -> None:
        """Add ``flag`` when ``add_when`` holds for any row, else remove it from them all."""
        if any(add_when(row) for row in rows):
            self._set_flags(rows, add=frozenset({flag}))
        else:
            self._set_flags(rows, remove=frozenset({flag}))
        self.message_list.clear_marks()

    def action_toggle_read(self) -> None:
        """Mark read when any target is unread, else mark them all unread."""
        self._with_targets(lambda rows: self._toggle(rows, SEEN, add_when=self.message_list.is_unread))

    def action_toggle_flag(self) -> None:
        """Flag when any target is not flagged, else unflag them all."""
        self._with_targets(lambda rows: self._toggle(rows, FLAGGED, add_when=lambda row: FLAGGED not in row.flags))

    def _remove(self, rows: Sequence[MessageRow], make: Callable[[FolderKey, tuple[int, ...]], Request]) -> None:
        """Send one request per folder; the rows leave the list as the service stops listing them."""
        for key, in_folder in self._grouped(rows).items():
            self.facade.submit(make(key, self._uids(in_folder)))
        self._submitted(rows)

    def action_delete(self) -> None:
        self._with_targets(
            lambda rows: self._remove(
                rows, lambda key, uids: DeleteMessages(account=key.account, folder=key.folder, uids=uids)
            )
        )

    def action_delete_permanently(self) -> None:
        self._with_targets(self._confirm_permanent_delete)

    def _confirm_permanent_delete(self, rows: list[MessageRow]) -> None:
        count = len(rows)
        question = f"Delete {plural(count)} permanently?"

        def answered(yes: bool | None) -> None:
            if yes:
                self._remove(
                    rows,
                    lambda key, uids: DeleteMessages(account=key.account, folder=key.folder, uids=uids, permanent=True),
                )

        from mailbag.ui.screens.dialogs import ConfirmDialog

        self.app.push_screen(ConfirmDialog(question), answered)

    def _move_to_role(self, role: FolderRole) -> None:
        self._with_targets(
            lambda rows: self._remove(
                rows,
                lambda key, uids: MoveMessages(account=key.account, folder=key.folder, uids=uids, target_role=role),
            )
        )

    def action_archive(self) -> None:
        self._move_to_role(FolderRole.ARCHIVE)

    def action_junk(self) -> None:
        self._move_to_role(FolderRole.JUNK)

    def _pick_folder(self, rows: list[MessageRow], *, copy: bool) -> None:
        accounts = {row.account for row in rows}
        if len(accounts) > 1:
            self.status.set_error("Move and copy work within one account: mark messages of one account")
            return
        account = accounts.pop()
        sources = {row.folder for row in rows}
        names = [
            f.name for f in self.facade.folders(account)
            if f.selectable and (copy or len(sources) > 1 or f.name not in sources)
        ]
        count = len(rows)
        title = f"{'Copy' if copy else 'Move'} {plural(count)} to:"
        prefix = self.facade.folder_prefix(account)
        by_shown = {typed_name(name, prefix): name for name in names}  # as the tree shows them

        def chosen(picked: str | None) -> None:
            if picked is None:
                return
            target = by_shown.get(picked, picked)
            if copy:
                for key, in_folder in self._grouped(rows).items():
                    self.facade.submit(
                        MoveMessages(
                            account=key.account, folder=key.folder, uids=self._uids(in_folder), target=target,
                            copy=True, new_folder=target not in names,
                        )
                    )
                self.message_list.clear_marks()
                self.refresh_counts({account})
                return
            moving = [row for row in rows if row.folder != target]
            self._remove(
                moving,
                lambda key, uids: MoveMessages(
                    account=key.account, folder=key.folder, uids=uids, target=target, new_folder=target not in names
                ),
            )

        from mailbag.ui.screens.folder_picker import FolderPicker

        self.app.push_screen(FolderPicker(title, list(by_shown), new_folder=self.facade.makes_folders(account)), chosen)

    def action_move(self) -> None:
        self._with_targets(lambda rows: self._pick_folder(rows, copy=False))

    def action_copy(self) -> None:
        self._with_targets(lambda rows: self._pick_folder(rows, copy=True))

    def action_undo(self) -> None:
        description = self.facade.undo()
        if description is None:
            self.status.set_notice("Nothing to undo")
            return
        self.status.set_notice(f"Undoing: {description}…")
        self.after_rollback()

    def after_rollback(self) -> None:
        """Something was taken back (an undo, a refusal): read the view and the counts again."""
        self.reload()
        self.refresh_counts(self.facade.accounts)

    def action_retry(self) -> None:
        """Connect every account now: after a refused login (once the password is fixed), or
        instead of waiting for the next attempt; ask POP3 servers for new mail, and send the
        actions set aside once more. The status bar says which of these it does."""
        plan = self._retry_plan()  # before the retry puts the actions set aside back
        for account in self.facade.accounts:
            self.facade.submit(RetryAccount(account=account))
        self.status.set_notice(plan.notice)

    def _retry_plan(self) -> RetryPlan:
        reconnecting, checking, connected = [], [], []
        for account in self.facade.accounts:
            local_side = self.status.state(account) in (ConnectionState.ONLINE, ConnectionState.SYNCING)
            if local_side and self.facade.fetches_mail(account):
                checking.append(account)
            elif local_side and not self.status.refused(account):
                connected.append(account)
            else:
                reconnecting.append(account)
        aside = sum(self.facade.set_aside(account) for account in self.facade.accounts)
        return RetryPlan(reconnecting, checking, aside, connected)
