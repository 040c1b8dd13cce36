"""LIST / STATUS responses to folders: decoded names, roles, counts, hostile names."""

from mailbag.domain.models import FolderRole
from mailbag.protocols.imap.folders import build_folders, parse_list, parse_status
from mailbag.protocols.imap.parser import parse_segments


def listed(*lines: list[bytes]):
    return [parse_list(parse_segments(line)) for line in lines]


def test_roles_from_attributes_inbox_and_well_known_names() -> None:
    entries = listed(
        [rb'* LIST (\HasNoChildren) "." INBOX'],
        [rb'* LIST (\HasNoChildren \Sent) "." "Gesendete Objekte"'],
        [rb'* LIST (\HasNoChildren) "." "Sent Items"'],  # \Sent is claimed above: no role
        [rb'* LIST (\HasNoChildren) "." "INBOX.Deleted Items"'],
        [rb'* LIST (\HasNoChildren) "." Spam'],
        [rb'* LIST (\HasNoChildren) "." Drafts'],
        [rb'* LIST (\Noselect \HasChildren) "." Archive'],
    )
    counts = {"INBOX": {"MESSAGES": 12, "UNSEEN": 3}, "Spam": {"MESSAGES": 4, "UNSEEN": 4}}
    folders = {f.name: f for f in build_folders("acct", entries, counts)}
    assert folders["INBOX"].role is FolderRole.INBOX
    assert (folders["INBOX"].total, folders["INBOX"].unread) == (12, 3)
    assert folders["Gesendete Objekte"].role is FolderRole.SENT
    assert folders["Sent Items"].role is FolderRole.NONE
    assert folders["INBOX.Deleted Items"].role is FolderRole.TRASH
    assert folders["INBOX.Deleted Items"].leaf == "Deleted Items"
    assert (folders["Spam"].role, folders["Spam"].unread) == (FolderRole.JUNK, 4)
    assert folders["Drafts"].role is FolderRole.DRAFTS
    assert folders["Archive"].role is FolderRole.ARCHIVE and not folders["Archive"].selectable


def test_names_are_decoded_kept_for_commands_and_cleaned_for_display() -> None:
    entries = listed(
        [b'* LIST () "/" "Entw&APw-rfe"'],
        [b'* LIST () "/" {21}', b"evil\x1b[2J&AOQ-name\x07\xe2\x80\xae", b""],
        [b'* LIST () "/" "Tab&AAk-and&IA8-RLM"'],
        [b"* LIST () NIL inbox"],
    )
    folders = build_folders("acct", entries, {})
    assert [f.name for f in folders] == [
        "Entwürfe", "evil\x1b[2Jäname\x07\u202e", "Tab\tand\u200fRLM", "INBOX"
    ]
    assert [f.display_name for f in folders] == ["Entwürfe", "eviläname", "Tab andRLM", "INBOX"]
    assert folders[3].delimiter is None


def test_status_response() -> None:
    status = parse_status(parse_segments([b'* STATUS "Sent Items" (MESSAGES 231 UIDNEXT 44292 UNSEEN 2)']))
    assert status is not None
    name, items = status
    assert name == "Sent Items"
    assert items == {"MESSAGES": 231, "UIDNEXT": 44292, "UNSEEN": 2}
    assert parse_status(parse_segments([b"* STATUS"])) is None
    assert parse_list(parse_segments([b"* LIST garbage"])) is None


GMAIL = (
    [rb'* LIST (\HasNoChildren) "/" INBOX'],
    [rb'* LIST (\HasChildren \Noselect) "/" "[Gmail]"'],
    [rb'* LIST (\All \HasNoChildren) "/" "[Gmail]/All Mail"'],
    [rb'* LIST (\Flagged \HasNoChildren) "/" "[Gmail]/Starred"'],
    [rb'* LIST (\HasNoChildren \Important) "/" "[Gmail]/Important"'],
    [rb'* LIST (\HasNoChildren \Sent) "/" "[Gmail]/Sent Mail"'],
)


def test_on_gmail_all_mail_is_the_archive_and_its_views_are_aggregates() -> None:
    folders = {f.name: f for f in build_folders("acct", listed(*GMAIL), {}, gmail=True)}
    assert folders["[Gmail]/All Mail"].role is FolderRole.ARCHIVE
    assert [n for n, f in folders.items() if f.aggregate] == ["[Gmail]/All Mail", "[Gmail]/Starred", "[Gmail]/Important"]
    elsewhere = {f.name: f for f in build_folders("acct", listed(*GMAIL), {})}  # \All on another server
    assert elsewhere["[Gmail]/All Mail"].role is FolderRole.NONE
    with_archive = listed(*GMAIL, [rb'* LIST (\Archive) "/" Archived'])
    roles = {f.name: f.role for f in build_folders("acct", with_archive, {}, gmail=True)}
    assert (roles["Archived"], roles["[Gmail]/All Mail"]) == (FolderRole.ARCHIVE, FolderRole.NONE)


def test_a_server_without_special_use_has_its_folders_known_by_their_names_in_its_users_language() -> None:
    # Exchange without SPECIAL-USE, in German: Trash, Sent and Junk were made anew at the first
    # `d`, sent message and `!`, beside the folders the user already had.
    entries = listed(
        [rb'* LIST (\HasNoChildren) "/" INBOX'],
        [rb'* LIST (\HasNoChildren) "/" "Gel&APY-schte Elemente"'],
        [rb'* LIST (\HasNoChildren) "/" "Gesendete Elemente"'],
        [rb'* LIST (\HasNoChildren) "/" "Junk-E-Mail"'],
        [rb'* LIST (\HasNoChildren) "/" "Entw&APw-rfe"'],
        [rb'* LIST (\HasNoChildren) "/" Archiv'],
        [rb'* LIST (\HasNoChildren) "/" "Projekte/Gesendete Elemente"'],  # not at the top: none
    )
    roles = {f.name: f.role for f in build_folders("acct", entries, {})}
    assert roles == {
        "INBOX": FolderRole.INBOX, "Gelöschte Elemente": FolderRole.TRASH, "Gesendete Elemente": FolderRole.SENT,
        "Junk-E-Mail": FolderRole.JUNK, "Entwürfe": FolderRole.DRAFTS, "Archiv": FolderRole.ARCHIVE,
        "Projekte/Gesendete Elemente": FolderRole.NONE,
    }
