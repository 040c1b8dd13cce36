"""Attachments saved and opened, a message saved as .eml and piped, from the screen over a real
Maildir account: what lands on disk, and how the programs are started."""

from __future__ import annotations

import json
import os
import stat
import sys
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import pytest
from textual.pilot import Pilot

from mailbag import paths
from mailbag.domain.config import Config
from mailbag.ui.app import MailbagApp
from mailbag.ui.screens.attachments import AttachmentsScreen
from mailbag.ui.screens.dialogs import ChoiceDialog
from mailbag.ui.screens.prompt import PromptScreen
from tests.integration.accounts import imap_account_config, other_client
from tests.servers.messages import BASE_DATE
from tests.ui.fields import put_text
from tests.ui.helpers import screen_text, status_text
from tests.ui.real_services import maildir_config, running, simple_message, wait_until

BIDI_NAME = "invoice\u202eexe.pdf"  # shows as "invoicefdp.exe" where the override is obeyed
HOSTILE_OPEN_NAME = "$(touch pwned); x.dat"


def with_attachments() -> bytes:
    msg = EmailMessage()
    msg["From"] = "Alice <alice@example.test>"
    msg["To"] = "Me <me@example.test>"
    msg["Subject"] = "Files for you"
    msg["Date"] = format_datetime(BASE_DATE.replace(day=28))  # the newest: first in the list
    msg["Message-ID"] = "<files@example.test>"
    msg.set_content("Three files attached.\n")
    msg.add_attachment(b"payload of x\n", maintype="application", subtype="octet-stream", filename="../../x")
    msg.add_attachment(b"%PDF-1.4 not really\n", maintype="application", subtype="pdf", filename=BIDI_NAME)
    msg.add_attachment(b"data to open\n", maintype="application", subtype="x-mailbag-test",
                       filename=HOSTILE_OPEN_NAME)
    return msg.as_bytes()


async def open_attachments(pilot: Pilot, app: MailbagApp) -> AttachmentsScreen:
    """A at once: the list comes once the reader shows the message."""
    await pilot.press("A")
    await wait_until(pilot, lambda: isinstance(app.screen, AttachmentsScreen), "the attachments list")
    screen = app.screen
    assert isinstance(screen, AttachmentsScreen)
    return screen


async def answer_prompt(pilot: Pilot, app: MailbagApp, text: str) -> None:
    """Replace what the prompt offers with ``text`` and press Enter."""
    await wait_until(pilot, lambda: isinstance(app.screen, PromptScreen), "the prompt")
    await pilot.press("ctrl+u")
    await put_text(pilot, text)
    await pilot.press("enter")


def files_in(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file() and not p.is_symlink()}


@pytest.fixture
def mail(tmp_path: Path) -> tuple[Path, Path]:
    """The Maildir and, two levels down, the folder to save into."""
    target = tmp_path / "a" / "b" / "saved"
    target.mkdir(parents=True)
    return tmp_path / "Mail", target


async def test_saving_writes_only_inside_the_chosen_folder_with_clean_names(tmp_path, mail):
    root, target = mail
    config = maildir_config(root, [simple_message(1), with_attachments()])
    async with running(config, tmp_path / "cache.sqlite3", 2, size=(100, 30)) as (app, pilot, store):
        screen = await open_attachments(pilot, app)
        shown = screen_text(app)
        assert "x  application/octet-stream" in shown and "invoiceexe.pdf  application/pdf" in shown
        assert "\u202e" not in shown
        await pilot.press("s")  # the first attachment: "../../x"
        await answer_prompt(pilot, app, str(target))
        await wait_until(pilot, lambda: "Saved" in screen.notice, "saved")
        assert files_in(target) == {"x": b"payload of x\n"}
        assert stat.S_IMODE((target / "x").stat().st_mode) == 0o600
        assert not (tmp_path / "a" / "x").exists() and not (tmp_path / "x").exists()

        await pilot.press("j", "s")  # the bidi override
        await answer_prompt(pilot, app, str(target))
        await wait_until(pilot, lambda: "invoiceexe.pdf" in screen.notice, "saved")
        assert files_in(target)["invoiceexe.pdf"] == b"%PDF-1.4 not really\n"

        other = tmp_path / "all"
        other.mkdir()
        await pilot.press("S")  # every attachment, into another folder
        await answer_prompt(pilot, app, str(other))
        await wait_until(pilot, lambda: "Saved 3 attachments" in screen.notice, "all saved")
        assert sorted(files_in(other)) == ["$(touch pwned); x.dat", "invoiceexe.pdf", "x"]
    assert sorted(tmp_path.rglob("x")) == sorted([target / "x", other / "x"])  # nowhere else


async def test_a_file_of_that_name_is_not_replaced_without_asking(tmp_path, mail):
    root, target = mail
    (target / "x").write_bytes(b"old\n")
    config = maildir_config(root, [with_attachments()])
    async with running(config, tmp_path / "cache.sqlite3", 1, size=(100, 30)) as (app, pilot, store):
        screen = await open_attachments(pilot, app)
        await pilot.press("s")
        await answer_prompt(pilot, app, str(target))
        await wait_until(pilot, lambda: isinstance(app.screen, ChoiceDialog), "asked")
        assert "x exists" in screen_text(app)
        assert (target / "x").read_bytes() == b"old\n"
        await pilot.press("escape")  # not saved
        await wait_until(pilot, lambda: "Not saved" in screen.notice, "told")
        assert files_in(target) == {"x": b"old\n"}

        await pilot.press("s")
        await answer_prompt(pilot, app, str(target))
        await wait_until(pilot, lambda: isinstance(app.screen, ChoiceDialog), "asked again")
        await pilot.press("k")  # keep both
        await wait_until(pilot, lambda: "x (1)" in screen.notice, "saved under a new name")
        assert files_in(target) == {"x": b"old\n", "x (1)": b"payload of x\n"}

        await pilot.press("s")
        await answer_prompt(pilot, app, str(target))
        await wait_until(pilot, lambda: isinstance(app.screen, ChoiceDialog), "asked a third time")
        await pilot.press("r")  # replace
        await wait_until(pilot, lambda: files_in(target)["x"] == b"payload of x\n", "replaced")
        assert stat.S_IMODE((target / "x").stat().st_mode) == 0o600


async def test_a_symlink_in_the_folder_is_never_followed(tmp_path, mail):
    root, target = mail
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"keep me\n")
    (target / "x").symlink_to(outside)
    (target / "invoiceexe.pdf").symlink_to(tmp_path / "dangling")
    config = maildir_config(root, [with_attachments()])
    async with running(config, tmp_path / "cache.sqlite3", 1, size=(100, 30)) as (app, pilot, store):
        screen = await open_attachments(pilot, app)
        await pilot.press("S")  # save all: names taken get " (1)"
        await answer_prompt(pilot, app, str(target))
        await wait_until(pilot, lambda: "Saved 3" in screen.notice, "saved")
        assert outside.read_bytes() == b"keep me\n" and not (tmp_path / "dangling").exists()
        assert files_in(target) == {
            "x (1)": b"payload of x\n", "invoiceexe (1).pdf": b"%PDF-1.4 not really\n",
            "$(touch pwned); x.dat": b"data to open\n",
        }

        await pilot.press("s")  # replacing the link replaces the link, not the file it points to
        await answer_prompt(pilot, app, str(target))
        await wait_until(pilot, lambda: isinstance(app.screen, ChoiceDialog), "asked")
        await pilot.press("r")
        await wait_until(pilot, lambda: not (target / "x").is_symlink(), "replaced")
        assert (target / "x").read_bytes() == b"payload of x\n"
        assert outside.read_bytes() == b"keep me\n"


RECORDER = """\
import json, os, stat, sys
path = sys.argv[-1]
with open(os.environ["RECORD_TO"], "w") as out:
    json.dump({
        "argv": sys.argv,
        "data": open(path).read(),
        "folder_mode": stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode),
        "file_mode": stat.S_IMODE(os.stat(path).st_mode),
        "parent": os.getppid(),
    }, out)
"""


@pytest.mark.parametrize("flags", ["; needsterminal", ""], ids=["terminal", "desktop"])
async def test_opening_runs_the_mailcap_program_with_an_argument_list_on_a_private_copy(
    tmp_path, mail, monkeypatch, flags
):
    root, _ = mail
    recorder = tmp_path / "recorder.py"
    recorder.write_text(RECORDER)
    record = tmp_path / "record.json"
    mailcap = tmp_path / "mailcap"
    mailcap.write_text(f"application/x-mailbag-test; {sys.executable} {recorder} %s{flags}\n")
    monkeypatch.setenv("MAILCAPS", str(mailcap))
    monkeypatch.setenv("RECORD_TO", str(record))
    monkeypatch.chdir(tmp_path)
    started: list[tuple[object, ...]] = []

    def audit(event: str, args: tuple[object, ...]) -> None:
        if event == "subprocess.Popen":
            started.append(args)

    sys.addaudithook(audit)
    config = maildir_config(root, [with_attachments()])
    async with running(config, tmp_path / "cache.sqlite3", 1, size=(100, 30)) as (app, pilot, store):
        screen = await open_attachments(pilot, app)
        await pilot.press("j", "j", "enter")  # the one named "$(touch pwned); x.dat"
        await wait_until(pilot, lambda: record.exists() and record.stat().st_size > 0, "the program ran")
        await wait_until(pilot, lambda: "x.dat" in screen.notice or "Closed" in screen.notice, "told")
    seen = json.loads(record.read_text())
    copy = Path(seen["argv"][-1])
    assert seen["argv"] == [str(recorder), str(copy)]  # one argument for the path: no shell split it
    assert seen["parent"] == os.getpid()  # started by mailbag itself, not by a shell
    assert seen["data"] == "data to open\n"
    assert seen["folder_mode"] == 0o700 and seen["file_mode"] == 0o600
    assert copy.name == "touch_pwned_x.dat"
    assert copy.parent.parent == paths.runtime_dir() and copy.parent.name.startswith(f"open-{os.getpid()}-")
    assert not list(tmp_path.rglob("pwned"))
    ours = [args for args in started if list(args[1]) [:1] == [sys.executable]]  # type: ignore[call-overload]
    assert ours and all(not args[1][0].endswith("sh") for args in started if args[1])  # type: ignore[index]
    if flags:  # a terminal program's copy goes once it ends
        assert not copy.exists()


async def test_a_message_is_saved_as_eml_with_its_bytes_as_stored(tmp_path, mail):
    root, target = mail
    config = maildir_config(root, [with_attachments()])
    (original,) = [p.read_bytes() for p in root.glob("*/*") if p.is_file() and b"<files@" in p.read_bytes()]
    async with running(config, tmp_path / "cache.sqlite3", 1, size=(100, 30)) as (app, pilot, store):
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(app.screen, PromptScreen), "the prompt")
        assert "Files for you.eml" in screen_text(app)  # the name offered
        await answer_prompt(pilot, app, f"{target}/")
        await wait_until(pilot, lambda: "Saved" in status_text(app), "saved")
    assert files_in(target) == {"Files for you.eml": original}


async def test_pipe_gives_the_command_the_raw_message_and_shows_its_output(tmp_path, mail):
    root, target = mail
    config = maildir_config(root, [with_attachments()])
    (original,) = [p.read_bytes() for p in root.glob("*/*") if p.is_file() and b"<files@" in p.read_bytes()]
    out = target / "piped"
    async with running(config, tmp_path / "cache.sqlite3", 1, size=(100, 30)) as (app, pilot, store):
        await pilot.press("|")
        await answer_prompt(pilot, app, f"cat > '{out}'; wc -c < '{out}' | tr -d ' '")
        await wait_until(pilot, lambda: f"Piped: {len(original)}" in status_text(app), "the output shown")
        assert out.read_bytes() == original

        await pilot.press("|")
        await answer_prompt(pilot, app, "exit 3")
        await wait_until(pilot, lambda: "Piped: exit status 3" in status_text(app), "the status shown")


async def test_over_imap_the_eml_and_the_pipe_get_the_bytes_the_server_sends(dovecot, mail_user, tmp_path, mail):
    _, target = mail
    dovecot.deliver_many(mail_user.name, [with_attachments()])
    client = other_client(dovecot, mail_user)
    client.select("INBOX", readonly=True)
    _, data = client.uid("FETCH", "1:*", "(BODY.PEEK[])")
    client.logout()
    server_bytes = data[0][1]
    assert isinstance(server_bytes, bytes) and server_bytes != with_attachments()  # delivery added headers
    config = Config(path=None, accounts={"home": imap_account_config(dovecot, mail_user, name="home")})
    async with running(config, tmp_path / "cache.sqlite3", 1, size=(100, 30)) as (app, pilot, store):
        await pilot.press("enter")  # the body is fetched when the message is opened
        await wait_until(pilot, lambda: "Three files attached." in app.main_screen.reader.body.text, "shown")
        await pilot.press("s")
        await answer_prompt(pilot, app, f"{target}/")
        await wait_until(pilot, lambda: "Saved" in status_text(app), "saved")
        await pilot.press("|")
        await answer_prompt(pilot, app, f"cat > '{target}/piped'")
        await wait_until(pilot, lambda: "Piped: done" in status_text(app), "piped")
    assert files_in(target) == {"Files for you.eml": server_bytes, "piped": server_bytes}
