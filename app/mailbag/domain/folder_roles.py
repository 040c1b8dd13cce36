"""The names mail programs and servers give the special folders, for a folder that no attribute
(RFC 6154 SPECIAL-USE) marks: English, as most servers make them, and the names Exchange and
Outlook give them in the languages of their users (German, French, Spanish, Italian, Dutch,
Portuguese), matched whatever their case."""

from __future__ import annotations

from mailbag.domain.models import FolderRole

_NAMES: dict[FolderRole, tuple[str, ...]] = {
    FolderRole.SENT: (
        "sent", "sent items", "sent messages", "sent mail",
        "gesendet", "gesendete elemente", "gesendete objekte",
        "éléments envoyés", "messages envoyés", "envoyés",
        "elementos enviados", "enviados",
        "posta inviata", "inviata",
        "verzonden items", "verzonden",
        "itens enviados",
    ),
    FolderRole.TRASH: (
        "trash", "deleted items", "deleted messages", "bin",
        "papierkorb", "gelöschte elemente", "gelöschte objekte",
        "corbeille", "éléments supprimés",
        "papelera", "elementos eliminados",
        "cestino", "posta eliminata",
        "prullenbak", "verwijderde items",
        "lixeira", "itens excluídos",
    ),
    FolderRole.JUNK: (
        "junk", "spam", "junk e-mail", "junk email", "bulk mail",
        "junk-e-mail", "spamverdacht",
        "courrier indésirable", "indésirables",
        "correo no deseado",
        "posta indesiderata",
        "ongewenste e-mail",
        "lixo eletrônico",
    ),
    FolderRole.DRAFTS: (
        "drafts", "draft",
        "entwürfe", "brouillons", "borradores", "bozze", "concepten", "rascunhos",
    ),
    FolderRole.ARCHIVE: (
        "archive", "archives", "archiv", "archivo", "archivio", "archief", "arquivo",
    ),
}
_ROLE_OF = {name: role for role, names in _NAMES.items() for name in names}


def role_by_name(name: str) -> FolderRole:
    """The role a folder named ``name`` (its last part) has by its name alone."""
    return _ROLE_OF.get(name.strip().casefold(), FolderRole.NONE)
