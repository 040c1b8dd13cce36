"""A small, fixed mailbox for UI tests and snapshots (dates relative to the frozen NOW)."""

from __future__ import annotations

from datetime import timedelta

from mailbag.domain.events import EventSink
from mailbag.domain.models import ANSWERED, FLAGGED, SEEN, Address, Attachment, Folder, FolderRole
from mailbag.services.api import VirtualFolder
from tests.ui.fake_facade import NOW, FakeFacade

WELCOME_BODY = """Hi,

the quarterly report is attached. Numbers look good this time.

> Can you send the report before Friday?
> > And the slides too, please.

Thanks,
Bob
"""


def sample_facade(sink: EventSink, cls: type[FakeFacade] = FakeFacade) -> FakeFacade:
    """Two accounts, nested folders, a few messages in work/INBOX (newest first); ``cls`` may
    be a FakeFacade subclass."""
    facade = cls(sink, accounts=("work", "home"))
    for folder in (
        Folder("work", "INBOX", "/", FolderRole.INBOX, total=6, unread=2),
        Folder("work", "Drafts", "/", FolderRole.DRAFTS, total=0, unread=0),
        Folder("work", "Sent", "/", FolderRole.SENT, total=12, unread=0),
        Folder("work", "Archive", "/", FolderRole.ARCHIVE, total=40, unread=0),
        Folder("work", "Archive/2025", "/", FolderRole.NONE, total=30, unread=3),
        Folder("work", "Trash", "/", FolderRole.TRASH, total=1, unread=0),
        Folder("work", "lists", "/", FolderRole.NONE, total=0, unread=0),
        Folder("home", "INBOX", "/", FolderRole.INBOX, total=1, unread=1),
    ):
        facade.add_folder(folder)
    add = facade.add_message
    report = add("work", "INBOX", row_id=6, subject="Quarterly report", sender="Bob Builder",
                 sender_email="bob@example.org", date=NOW - timedelta(hours=2),
                 flags=frozenset(), has_attachment=True)
    facade.set_body(report, WELCOME_BODY, [Attachment("report-q1.pdf", "application/pdf", 184_320, 2)])
    add("work", "INBOX", row_id=5, subject="Lunch on Thursday?", sender="Carol Danvers",
        date=NOW - timedelta(days=3), flags=frozenset({SEEN, FLAGGED}), body="Shall we try the new place?\n")
    add("work", "INBOX", row_id=4, subject="Re: Build is green again", sender="CI Robot",
        sender_email="ci@example.org", date=NOW - timedelta(days=20), flags=frozenset({SEEN, ANSWERED}),
        body="All 412 tests pass.\n")
    add("work", "INBOX", row_id=3, subject="Größenänderung — 日本語の件名", sender="Jürgen Weiß",
        date=NOW - timedelta(days=70), flags=frozenset(), body="Unicode body: ça va? 日本語\n")
    add("work", "INBOX", row_id=2, subject="Welcome to the team", sender="Dana Scully",
        date=NOW - timedelta(days=400), body="Welcome aboard!\n")
    add("work", "INBOX", row_id=1, subject="Your account is ready", sender="Example IT",
        date=NOW - timedelta(days=800), body="Your mailbox is set up.\n")
    add("work", "Archive", row_id=20, subject="Old minutes", sender="Eve Archer", date=NOW - timedelta(days=30))
    add("home", "INBOX", row_id=101, subject="Family dinner", sender="Mum", sender_email="mum@example.net",
        date=NOW - timedelta(hours=5), flags=frozenset(), body="Sunday at six?\n")
    facade.add_virtual_folder(VirtualFolder("All inboxes", "folder:INBOX", kind="inboxes"))
    facade.add_virtual_folder(VirtualFolder("Flagged", "is:flagged"))
    return facade


def threaded_facade(sink: EventSink) -> FakeFacade:
    """One folder with a reply chain (Plan <- Re: Plan <- Re: Re: Plan, and a second reply) and two
    single messages."""
    facade = FakeFacade(sink)
    facade.add_folder(Folder("work", "INBOX", "/", FolderRole.INBOX, total=6, unread=1))
    add = facade.add_message
    add("work", "INBOX", row_id=1, subject="Plan", sender="Ann", date=NOW - timedelta(hours=6))
    add("work", "INBOX", row_id=2, subject="Re: Plan", sender="Bob", date=NOW - timedelta(hours=5))
    add("work", "INBOX", row_id=3, subject="Re: Re: Plan", sender="Ann", date=NOW - timedelta(hours=1),
        flags=frozenset())
    add("work", "INBOX", row_id=4, subject="Re: Plan", sender="Cy", date=NOW - timedelta(hours=4))
    add("work", "INBOX", row_id=5, subject="Lonely", sender="Dee", date=NOW - timedelta(hours=2))
    add("work", "INBOX", row_id=6, subject="Zebra facts", sender="Eve", date=NOW - timedelta(hours=3))
    facade.set_parent(2, 1)
    facade.set_parent(3, 2)
    facade.set_parent(4, 1)
    return facade


REPLY_BODY = """Hi Ann,

thanks, comments inline.

On Mon, 3 Mar 2026 at 09:12, Ann Example <ann@example.org> wrote:
> Here is the plan for the release:
> 1. freeze on Monday
> 2. tag on Wednesday
>
> On Sun, 2 Mar 2026, Bob Builder <bob@example.org> wrote:
>> Can we ship the exporter fix first?
>>> It times out on big folders,
>>> anything over 10k messages.
>> I think it is worth a week.

Monday is fine with me. The exporter fix can wait for 2.5.

> Who writes the release notes?

I will.

-- 
Carol Danvers
Release manager
"""

EARLIER_BODY = """Sounds good, Monday it is.
Ann Example writes:
> Shall we freeze on Monday?
> > Bob Builder wrote:
> >> Not before the exporter fix.
> > It is in now.
-- 
Bob
"""


def reply_facade(sink: EventSink) -> FakeFacade:
    """One folder with two replies full of quotes: three levels, attributions and signatures; the
    second fits the reader at 80x24."""
    facade = FakeFacade(sink)
    facade.add_folder(Folder("work", "INBOX", "/", FolderRole.INBOX, total=2, unread=0))
    facade.add_message("work", "INBOX", row_id=2, subject="Re: Release plan", sender="Carol Danvers",
                       sender_email="carol@example.org", date=NOW - timedelta(hours=1), body=REPLY_BODY)
    facade.add_message("work", "INBOX", row_id=1, subject="Re: Release plan", sender="Bob Builder",
                       sender_email="bob@example.org", date=NOW - timedelta(hours=3), body=EARLIER_BODY)
    return facade


CROWDED_SUBJECT = "Minutes of the steering group"


def crowded_facade(sink: EventSink) -> FakeFacade:
    """One message to 22 people, copied to 5, with 300 attachments."""
    facade = FakeFacade(sink)
    facade.add_folder(Folder("work", "INBOX", "/", FolderRole.INBOX, total=1, unread=0))
    row = facade.add_message("work", "INBOX", row_id=1, subject=CROWDED_SUBJECT, date=NOW, has_attachment=True)
    to = tuple(Address(f"Member {i}", f"member{i}@example.org") for i in range(22))
    cc = tuple(Address("", f"observer{i}@example.org") for i in range(5))
    files = [Attachment(f"scan-{i:03d}.pdf", "application/pdf", 20_000, i + 2) for i in range(300)]
    facade.set_body(row, "See the scans.\n", files, to=to, cc=cc)
    return facade


def huge_facade(sink: EventSink) -> FakeFacade:
    """One message to 50,000 people, then one with 10,000 attachments."""
    facade = FakeFacade(sink)
    facade.add_folder(Folder("work", "INBOX", "/", FolderRole.INBOX, total=2, unread=0))
    crowd = facade.add_message("work", "INBOX", row_id=1, subject="To everyone", date=NOW)
    everyone = tuple(Address(f"Person {i}", f"p{i}@example.org") for i in range(50_000))
    facade.set_body(crowd, "Hello all.\n", to=everyone)
    files = facade.add_message("work", "INBOX", row_id=2, subject="Every file", date=NOW - timedelta(hours=1),
                               has_attachment=True)
    facade.set_body(files, "All of them.\n",
                    [Attachment(f"file-{i:05d}.bin", "application/octet-stream", 100, i + 2) for i in range(10_000)])
    return facade
