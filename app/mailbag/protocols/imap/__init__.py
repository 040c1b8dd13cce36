"""IMAP on aioimaplib, with linear streaming response handling."""

from mailbag.protocols.imap.client import CopyResult, FromUid, ImapClient, ImapSettings, SelectResult
from mailbag.protocols.imap.errors import ImapAuthError, ImapConnectionError, ImapError, ImapSessionEnded
from mailbag.protocols.imap.protocol import ServerPush

__all__ = ["CopyResult", "FromUid", "ImapAuthError", "ImapClient", "ImapConnectionError", "ImapError", "ImapSessionEnded", "ImapSettings", "SelectResult", "ServerPush"]
