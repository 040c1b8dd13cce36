"""The sample mailbox behind ``mailbag --demo``: a Maildir++ tree with realistic, fixed content.

Everything is made up: people, lists and shops use example.org / example.com / *.example domains.
Dates are relative to ``now``, so the demo always looks fresh; the rest is deterministic.
"""

from __future__ import annotations

import random
import struct
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path

from mailbag.domain.config import AccountConfig
from mailbag.domain.models import ANSWERED, DELETED, DRAFT, FLAGGED, SEEN
from mailbag.protocols.maildir import INBOX, MaildirStore

DEMO_ACCOUNT = "demo"
DEMO_EMAIL = "you@mailbag.example"
DEMO_NAME = "You Example"
_YOU = f"{DEMO_NAME} <{DEMO_EMAIL}>"
_SEED = 20240917

# People and senders (all fictional).
ALICE = "Alice Weber <alice@example.org>"
BOB = "Bob Chen <bob.chen@example.com>"
JUERGEN = "Jürgen Müller <juergen@example.org>"
HANAKO = "山田 花子 <hanako@example.com>"
ZOE = "Zoë Martin 🌻 <zoe@example.org>"
PRIYA = "Priya Natarajan <priya@example.com>"
OLE = "Ole Sørensen <ole@example.org>"
CI = "Build Robot <ci@build.example>"
CALENDAR = "Calendar <calendar@example.com>"
SHOP = "Paper & Pixel Shop <orders@shop.example>"
NEWS = "Weekly Bytes <news@newsletter.example>"
GARDEN_LIST = "garden-club@lists.example.org"
PYDEV_LIST = "python-dev@lists.example.org"


@dataclass(slots=True)
class _Pending:
    folder: str
    date: datetime
    message: EmailMessage
    flags: tuple[str, ...]


def demo_account(maildir: Path) -> AccountConfig:
    """The demo's one account, over the mailbox built at ``maildir``."""
    return AccountConfig(name=DEMO_ACCOUNT, email=DEMO_EMAIL, display_name=DEMO_NAME, default=True,
                         maildir=maildir)


def build_demo_mailbox(root: Path, *, now: datetime | None = None) -> Path:
    """Create the demo Maildir++ tree under ``root`` (which must not hold one yet); returns ``root``."""
    now = now or datetime.now(timezone.utc)
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    builder = _DemoBuilder(now)
    builder.build()
    store = MaildirStore(root, DEMO_ACCOUNT, create=True)
    for folder in ("Sent", "Drafts", "Archive", "Junk", "Trash", "Lists/python-dev"):
        store.create_folder(folder)
    boundary_ids = iter(range(1, 10_000))
    by_folder: dict[str, list[tuple[bytes, tuple[str, ...]]]] = {}
    for item in sorted(builder.pending, key=lambda p: (p.folder, p.date)):
        for part in item.message.walk():
            if part.is_multipart():  # fixed boundaries keep the bytes identical from run to run
                part.set_boundary(f"=_mailbag-demo-{next(boundary_ids):04d}")
        by_folder.setdefault(item.folder, []).append((item.message.as_bytes(), item.flags))
    for folder, messages in by_folder.items():
        store.add_many(folder, messages)
    return root


class _DemoBuilder:
    """Collects the demo messages; nothing touches the disk here."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.rng = random.Random(_SEED)
        self.pending: list[_Pending] = []
        self._ids = 0

    def build(self) -> None:
        self.lake_house()
        self.threads()
        self.long_quoted_thread()
        self.mailing_list()
        self.newsletters_and_receipts()
        self.attachments()
        self.hostile()
        self.notifications()
        self.archive()
        self.drafts_junk_trash()
        self.python_dev()

    # -- plumbing --------------------------------------------------------------------------------

    def ago(self, days: float, hours: float = 0, minutes: float = 0) -> datetime:
        return self.now - timedelta(days=days, hours=hours, minutes=minutes)

    def message(
        self,
        sender: str,
        to: str,
        subject: str,
        date: datetime,
        body: str | None = None,
        *,
        cc: str = "",
        parent: EmailMessage | None = None,
        headers: dict[str, str] | None = None,
    ) -> EmailMessage:
        self._ids += 1
        msg = EmailMessage()
        msg["From"] = sender
        msg["To"] = to
        if cc:
            msg["Cc"] = cc
        msg["Subject"] = subject
        msg["Date"] = format_datetime(date)
        msg["Message-ID"] = f"<demo-{self._ids:04d}.{date:%Y%m%d}@mailbag.example>"
        if parent is not None:
            parent_id = parent["Message-ID"]
            refs = (parent.get("References", "") + " " + parent_id).split()
            msg["In-Reply-To"] = parent_id
            msg["References"] = " ".join(refs)
        for name, value in (headers or {}).items():
            msg[name] = value
        if body is not None:
            msg.set_content(body)
        return msg

    def put(self, folder: str, msg: EmailMessage, *flags: str) -> EmailMessage:
        date = parsedate_to_datetime(msg["Date"])
        self.pending.append(_Pending(folder, date, msg, flags))
        return msg

    def reply(
        self, folder: str, parent: EmailMessage, sender: str, to: str, date: datetime, body: str,
        *flags: str, cc: str = "",
    ) -> EmailMessage:
        """A reply to ``parent`` (its subject after "Re: "), put in ``folder`` with ``flags``."""
        subject = parent["Subject"]
        if not subject.startswith("Re: "):
            subject = f"Re: {subject}"
        return self.put(folder, self.message(sender, to, subject, date, body, cc=cc, parent=parent), *flags)

    def thread(self, subject: str, steps: list[tuple[str, float, str]], to: str = _YOU) -> None:
        """A conversation: (sender, days ago, body) in order; your own turns go to Sent."""
        parent: EmailMessage | None = None
        for index, (sender, days, body) in enumerate(steps):
            mine = sender == _YOU
            recipient = steps[index - 1][0] if mine and index else to
            title = subject if index == 0 else f"Re: {subject}"
            msg = self.message(sender, recipient, title, self.ago(days), body, parent=parent)
            answered = index + 1 < len(steps) and steps[index + 1][0] == _YOU
            if mine:
                self.put("Sent", msg, SEEN)
            else:
                recent = days < 0.5
                flags = () if recent else (SEEN,)
                self.put(INBOX, msg, *flags, *((ANSWERED,) if answered else ()))
            parent = msg

    # -- INBOX -----------------------------------------------------------------------------------

    def lake_house(self) -> None:
        """The newest conversation, the one the demo opens on: five people plan a weekend, with
        two branches, quotes and a signature."""
        start = self.message(
            ALICE, f"{_YOU}, {BOB}, {PRIYA}", "Team weekend at the lake house", self.ago(2.2),
            "Hi all,\n\nthe lake house is booked for the 21st to the 23rd: four bedrooms, a "
            "sauna and a rowing boat.\n\nWhat I still need from you:\n\n- who drives, and how "
            "many seats you have\n- food allergies\n- one idea for the Saturday afternoon\n\n"
            "Alice\n",
        )
        self.put(INBOX, start, SEEN, ANSWERED)
        self.reply(
            INBOX, start, BOB, ALICE, self.ago(1.9),
            "I can drive, four seats. No allergies, but I will bring too many snacks.\n\n"
            "> who drives, and how many seats you have\n",
            SEEN, cc=f"{_YOU}, {PRIYA}",
        )
        mine = self.reply(
            "Sent", start, _YOU, ALICE, self.ago(1.7),
            "Thank you Alice, that was quick!\n\n> who drives, and how many seats you have\n\n"
            "I can take three, leaving Friday at nine.\n\n"
            "> one idea for the Saturday afternoon\n\nA walk round the lake, then the sauna?\n",
            SEEN, cc=f"{BOB}, {PRIYA}",
        )
        priya = self.reply(
            INBOX, mine, PRIYA, _YOU, self.ago(0.6),
            f"On {self.ago(1.7):%a %d %b}, You Example wrote:\n"
            "> A walk round the lake, then the sauna?\n\nYes please! And I'll bring board games "
            "for the evenings: Carcassonne and the one with the trains.\n\nPriya\n",
            SEEN, cc=f"{ALICE}, {BOB}",
        )
        plan = (
            "Hi everyone,\n\n"
            f"On {self.ago(0.6):%a %d %b}, Priya Natarajan wrote:\n"
            "> Yes please! And I'll bring board games for the evenings.\n\n"
            "Perfect, that settles Saturday. Here is the plan so far:\n\n"
            "  Friday    09:00  cars leave from the office (Bob, You)\n"
            "            13:00  lunch on the terrace\n"
            "  Saturday  10:00  walk round the lake, sauna after\n"
            "            19:00  dinner, then Priya's board games\n"
            "  Sunday    11:00  check-out, rowing if the weather holds\n\n"
            "Bob, could you pick up Ole on the way? He lives by the station.\n\n"
            "Looking forward to it!\nAlice\n\n-- \nAlice Weber\nTeam lead, Example Org\n"
        )
        self.reply(INBOX, priya, ALICE, f"{_YOU}, {BOB}, {PRIYA}", self.ago(0, hours=1, minutes=12), plan, cc=OLE)

    def threads(self) -> None:
        self.thread(
            "Übergabe Projekt Nordlicht – Grüße aus München",
            [
                (JUERGEN, 8.4, "Hallo,\n\nanbei die Übergabe für Projekt Nordlicht. Die offenen Punkte "
                 "stehen in der Liste; bei Fragen gern melden.\n\nViele Grüße\nJürgen\n"),
                (_YOU, 8.1, "Danke Jürgen! Ich schaue es mir bis Freitag an.\n"),
                (JUERGEN, 7.9, "Prima. Kleine Ergänzung: Die Schnittstelle zur Abrechnung ist noch "
                 "nicht getestet.\n\nSchöne Grüße\nJürgen\n"),
                (OLE, 6.5, "Jeg kan hjælpe med testen af grænsefladen – sig bare til.\n"),
            ],
        )
        self.thread(
            "会議の議事録（10月分）",
            [
                (HANAKO, 5.6, "お疲れさまです。\n\n10月の会議の議事録を共有します。"
                 "次回は第二水曜日です。\n\n山田\n"),
                (_YOU, 5.2, "ありがとうございます！確認しました。\n"),
                (HANAKO, 4.9, "よろしくお願いします 🙇\n"),
            ],
        )
        self.thread(
            "🎉 Launch party on Friday!",
            [
                (ZOE, 3.3, "Cake at 4pm in the big room 🎂. Bring your own mug ☕.\n\nZoë\n"),
                (BOB, 3.1, "I'll bring the speakers 🎶\n"),
                (ALICE, 2.9, "Is there a vegan option? 🌱\n"),
                (ZOE, 2.8, "Yes! Two of them 🍰\n"),
            ],
        )

    def long_quoted_thread(self) -> None:
        first = self.message(
            PRIYA, _YOU, "Release 2.4 blockers", self.ago(9.2),
            "Hi,\n\nthree things block 2.4:\n\n1. the migration drops empty tags\n"
            "2. the exporter times out on big folders\n3. the docs still show the old config\n\n"
            "Who takes which?\n\nPriya\n",
        )
        self.put(INBOX, first, SEEN, ANSWERED)
        mine = self.reply(
            "Sent", first, _YOU, PRIYA, self.ago(9.0),
            "I'll take the exporter.\n\n> 2. the exporter times out on big folders\n", SEEN,
        )
        second = self.reply(
            INBOX, mine, BOB, _YOU, self.ago(8.6),
            "Migration is mine.\n\n> I'll take the exporter.\n>\n>> three things block 2.4:\n"
            ">> 1. the migration drops empty tags\n",
            SEEN, cc=PRIYA,
        )
        paragraphs = "\n\n".join(
            f"Point {n}: we measured the exporter on a folder of {n * 10_000} messages; it spent "
            f"{n * 3} seconds in the date parser alone, which we can cache per sender."
            for n in range(1, 9)
        )
        long_body = (
            "Replying inline, sorry for the length.\n\n"
            "> Could we ship without the exporter fix?\n\n"
            "No: customers with big folders are exactly the ones who asked for 2.4.\n\n"
            ">> Migration is mine.\n>>\n>>> I'll take the exporter.\n>>>\n"
            ">>>> three things block 2.4:\n>>>> 1. the migration drops empty tags\n"
            ">>>> 2. the exporter times out on big folders\n\n"
            f"Details:\n\n{paragraphs}\n\n"
            "> > > Who takes which?\n\nDone, see above. Let's meet Thursday.\n\n-- \nPriya Natarajan\n"
            "Release manager, Example Org\n"
        )
        third = self.reply(INBOX, second, PRIYA, _YOU, self.ago(7.4), long_body, SEEN, FLAGGED, cc=BOB)
        self.reply(INBOX, third, ALICE, _YOU, self.ago(1.2), "Docs are fixed on main. 🚀\n", cc=f"{BOB}, {PRIYA}")

    def mailing_list(self) -> None:
        topics = [
            ("Tomato seedlings: when to repot?", ZOE, "Mine are 10 cm tall. Too early?\n"),
            ("Swap meet on Saturday", OLE, "Bring cuttings, take cuttings. 10:00 at the shed.\n"),
            ("Compost thermometer recommendations", BOB, "Anything that survives winter?\n"),
            ("Re: Compost thermometer recommendations", PRIYA, "The cheap steel ones are fine.\n"),
            ("Slugs, again", ALICE, "Beer traps or copper tape? The basil is gone.\n"),
            ("Seed library inventory", HANAKO, "We have 42 kinds of beans now 🌱\n"),
        ]
        headers = {
            "List-Id": "Garden Club <garden-club.lists.example.org>",
            "List-Unsubscribe": "<mailto:garden-club-leave@lists.example.org>",
            "Precedence": "list",
        }
        for index, (subject, sender, body) in enumerate(topics):
            days = 15 - index * 2.3 + self.rng.random()
            msg = self.message(
                sender, GARDEN_LIST, f"[garden-club] {subject}", self.ago(days),
                body + "\n_______________________________________________\n"
                "garden-club mailing list\nhttps://lists.example.org/garden-club\n",
                headers=headers,
            )
            self.put(INBOX, msg, *((SEEN,) if index < 4 else ()))

    def newsletters_and_receipts(self) -> None:
        html = (
            "<html><body><h1>Weekly Bytes #142</h1>"
            "<p>This week: <b>terminal tricks</b>, a <i>tiny</i> database, and why "
            "keyboards still matter.</p><ul><li>Ten shell one-liners</li>"
            "<li>Reading mail in a terminal, then and now</li>"
            "<li>Interview: a maintainer on saying no</li></ul>"
            '<p><a href="https://newsletter.example/142">Read online</a> &middot; '
            '<a href="https://newsletter.example/unsubscribe">Unsubscribe</a></p>'
            "</body></html>"
        )
        letter = self.message(NEWS, _YOU, "Weekly Bytes #142: terminal tricks", self.ago(2.1))
        letter.set_content(html, subtype="html")
        self.put(INBOX, letter)

        order = self.message(SHOP, _YOU, "Your order #A-1042 has shipped 📦", self.ago(4.2))
        order.set_content(
            "Hello,\n\nyour order #A-1042 (2 notebooks, 1 fountain pen) is on its way.\n"
            "Tracking: https://shop.example/track/A-1042\n\nThanks for shopping with us!\n"
        )
        order.add_alternative(
            "<html><body><p>Hello,</p><p>your order <b>#A-1042</b> (2 notebooks, 1 fountain pen) "
            'is on its way.</p><p><a href="https://shop.example/track/A-1042">Track it</a></p>'
            "</body></html>",
            subtype="html",
        )
        self.put(INBOX, order, SEEN)

    def attachments(self) -> None:
        invoice = self.message(
            SHOP, _YOU, "Invoice A-1042", self.ago(4.1),
            "Please find your invoice attached.\n\nPaper & Pixel Shop\n",
        )
        invoice.add_attachment(_pdf_bytes("Invoice A-1042"), maintype="application",
                               subtype="pdf", filename="invoice-A-1042.pdf")
        self.put(INBOX, invoice, SEEN)

        photo = self.message(
            ZOE, _YOU, "Photo of the new office plant 🌿", self.ago(1.6),
            "Isn't it lovely? It needs a name.\n\nZoë\n",
        )
        photo.add_attachment(_png_bytes(24, 16), maintype="image", subtype="png",
                             filename="plant.png")
        self.put(INBOX, photo, FLAGGED)

        start = (self.now.astimezone(timezone.utc) + timedelta(days=3)).replace(
            hour=14, minute=0, second=0, microsecond=0
        )
        invite = self.message(
            CALENDAR, _YOU, f"Invitation: Design review @ {start:%a} 14:00 UTC", self.ago(0.9),
            f"Alice Weber invites you to: Design review\nWhen: {start:%A %d %B}, 14:00-15:00 UTC\n"
            "Where: Room Aurora\n",
        )
        invite.add_attachment(_ics(start, "Design review", "Room Aurora").encode(),
                              maintype="text", subtype="calendar", filename="invite.ics")
        self.put(INBOX, invite)

        report = self.message(
            PRIYA, _YOU, "Quarterly numbers + chart", self.ago(6.1),
            "Numbers attached as PDF, the chart as PNG.\n", cc=BOB,
        )
        report.add_attachment(_pdf_bytes("Quarterly report"), maintype="application",
                              subtype="pdf", filename="q3-report.pdf")
        report.add_attachment(_png_bytes(32, 20), maintype="image", subtype="png",
                              filename="chart.png")
        self.put(INBOX, report, SEEN, FLAGGED)

    def hostile(self) -> None:
        subject = (
            "\x1b[31mURGENT\x1b[0m [bold red]verify your account[/] "
            "\x1b]8;;https://phish.example\x07click\x1b]8;;\x07"
        )
        body = (
            "Dear user,\n\n\x1b[2J\x1b[H\x1b[5mYour mailbox is full.\x1b[0m\n\n"
            "[link=https://phish.example/login]Log in here[/link] to keep your mail.\n"
            "[@click=app.quit]Press here[/]   $(rm -rf ~)   \x07\x07\n"
            "\x1b]0;window title hijack\x07\x1b[?1049h\n\n"
            "This message shows that escapes and markup in mail stay inert.\n"
        )
        msg = self.message(
            '"\x1b[1mIT Support\x1b[0m [red]admin[/]" <support@phish.example>', _YOU, subject,
            self.ago(10.6), body,
        )
        self.put(INBOX, msg)

    def notifications(self) -> None:
        builds = ["main", "release-2.4", "docs", "exporter-speedup"]
        verdicts = ["passed ✅", "failed ❌", "passed ✅", "fixed ✅"]
        for n in range(16):
            branch = builds[n % len(builds)]
            verdict = verdicts[(n * 3) % len(verdicts)]
            days = 20 - n * 1.25 + self.rng.random() * 0.5
            msg = self.message(
                CI, _YOU, f"[build #{1200 + n}] {branch}: {verdict}", self.ago(days),
                f"Build #{1200 + n} of {branch} {verdict}.\n\nDuration: "
                f"{self.rng.randint(3, 14)} min {self.rng.randint(0, 59)} s\n"
                f"Log: https://build.example/{1200 + n}\n",
            )
            self.put(INBOX, msg, *((SEEN,) if days > 2 else ()))
        reminders = ["Team standup", "1:1 with Alice", "Dentist", "Garden club swap meet",
                     "Design review", "Quarterly planning"]
        for n, what in enumerate(reminders):
            days = 18 - n * 3 + self.rng.random()
            msg = self.message(CALENDAR, _YOU, f"Reminder: {what}", self.ago(days),
                               f"{what} starts in 15 minutes.\n")
            self.put(INBOX, msg, SEEN)
        singles = [
            (BOB, "Lunch tomorrow?", "Ramen place at 12:30?\n", 0.2, ()),
            (OLE, "Bike for sale", "Selling my old bike, 3 gears, squeaks a bit. 50 EUR.\n", 3.7, (SEEN,)),
            (ALICE, "Can you review my slides?", "Ten slides, promise. Link inside.\n", 1.9, (FLAGGED,)),
            (HANAKO, "Re: お土産ありがとう", "抹茶のお菓子、みんなで食べました！\n", 6.8, (SEEN,)),
            (JUERGEN, "Kurze Frage zur Abrechnung", "Hast du fünf Minuten? Geht um die Zölle.\n", 2.4, (SEEN,)),
            (PRIYA, "Holiday rota", "Please add your days to the rota by Friday.\n", 13.5, (SEEN, FLAGGED)),
            (ZOE, "Book club: next pick?", "I vote for something under 300 pages 📚\n", 11.1, (SEEN,)),
        ]
        for sender, subject, body, days, flags in singles:
            self.put(INBOX, self.message(sender, _YOU, subject, self.ago(days), body), *flags)

    # -- other folders ---------------------------------------------------------------------------

    def archive(self) -> None:
        subjects = [
            "Welcome aboard!", "Your account details", "Team photo", "Wifi password changed",
            "Parking spots", "Kitchen rota", "Conference tickets", "Travel policy update",
            "Re: Conference tickets", "Hotel confirmation", "Expense report approved",
            "Laptop upgrade", "Sommerfest – Anmeldung", "新年会のお知らせ", "Re: Laptop upgrade",
            "Security training", "Fire drill on Tuesday", "Old project wiki", "Retro notes",
            "Goodbye cake for Sam 🎂",
        ]
        senders = [ALICE, BOB, JUERGEN, HANAKO, ZOE, PRIYA, OLE]
        for n, subject in enumerate(subjects):
            sender = senders[self.rng.randrange(len(senders))]
            days = 35 + n * 3 + self.rng.random()
            msg = self.message(sender, _YOU, subject, self.ago(days),
                               f"{subject}\n\n(archived message {n + 1} of {len(subjects)})\n")
            self.put("Archive", msg, SEEN)

    def drafts_junk_trash(self) -> None:
        draft = self.message(
            _YOU, ALICE, "Re: Can you review my slides?", self.ago(0.1),
            "Hi Alice,\n\nslides 3 and 7 could lose a bullet each. Otherwise\n",
        )
        self.put("Drafts", draft, SEEN, DRAFT)
        spam = [
            ("Prince of Examplestan <prince@lottery.example>",
             "You have WON 1.000.000 EXAMPLE-DOLLARS!!!", "Send us your bank details today.\n"),
            ("Cheap Watches <deals@watches.example>", "R0LEX 90% 0FF – today only",
             "Best replicas, free shipping worldwide.\n"),
        ]
        for n, (sender, subject, body) in enumerate(spam):
            self.put("Junk", self.message(sender, _YOU, subject, self.ago(2 + n * 4), body))
        trash = [
            (CI, "[build #1188] main: failed ❌", "Build #1188 of main failed.\n"),
            (SHOP, "Rate your purchase", "How did we do? Tell us in 1 minute.\n"),
        ]
        for n, (sender, subject, body) in enumerate(trash):
            self.put("Trash", self.message(sender, _YOU, subject, self.ago(5 + n * 3), body),
                     SEEN, DELETED)

    def python_dev(self) -> None:
        headers = {
            "List-Id": "Python development <python-dev.lists.example.org>",
            "List-Post": f"<mailto:{PYDEV_LIST}>",
            "Precedence": "list",
        }
        topics = [
            (PRIYA, "PEP draft: frozen dict literals"),
            (BOB, "Re: PEP draft: frozen dict literals"),
            (OLE, "Re: PEP draft: frozen dict literals"),
            (ALICE, "Faster startup by lazy imports – numbers"),
            (JUERGEN, "Re: Faster startup by lazy imports – numbers"),
            (HANAKO, "Unicode 16 tables update"),
            (ZOE, "Build bots: a flaky test on ARM"),
            (BOB, "Re: Build bots: a flaky test on ARM"),
            (PRIYA, "Summary of the language summit"),
            (OLE, "Deprecating an old module"),
        ]
        parents: dict[str, EmailMessage] = {}
        for n, (sender, subject) in enumerate(topics):
            root_subject = subject.removeprefix("Re: ")
            parent = parents.get(root_subject) if subject.startswith("Re: ") else None
            msg = self.message(
                sender, PYDEV_LIST, subject, self.ago(16 - n * 1.5 + self.rng.random()),
                f"{subject}\n\nSome thoughts on this, with numbers to follow.\n",
                parent=parent, headers=headers,
            )
            parents[root_subject] = msg
            self.put("Lists/python-dev", msg, *((SEEN,) if n < 6 else ()))


def _pdf_bytes(title: str) -> bytes:
    """A tiny one-page PDF-like document (enough for a viewer to recognise it)."""
    return (
        b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
        b"2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n"
        b"3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >> endobj\n"
        b"% " + title.encode("ascii") + b"\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    )


def _png_bytes(width: int, height: int) -> bytes:
    """A valid RGB PNG with a simple gradient."""
    rows = b"".join(
        b"\x00" + b"".join(bytes((x * 10 % 256, 120 + y * 4, 90)) for x in range(width))
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(
        b"IEND", b""
    )


def _ics(start: datetime, summary: str, location: str) -> str:
    end = start + timedelta(hours=1)
    stamp = "%Y%m%dT%H%M%SZ"
    utc = timezone.utc
    return "\r\n".join(
        [
            "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//mailbag//demo//EN", "METHOD:REQUEST",
            "BEGIN:VEVENT", "UID:design-review@mailbag.example",
            f"DTSTART:{start.astimezone(utc).strftime(stamp)}",
            f"DTEND:{end.astimezone(utc).strftime(stamp)}",
            f"SUMMARY:{summary}", f"LOCATION:{location}",
            "ORGANIZER;CN=Alice Weber:mailto:alice@example.org",
            "END:VEVENT", "END:VCALENDAR", "",
        ]
    )
