"""IMAP on aioimaplib, with linear streaming response handling."""

from app.protocols.imap.client import ImapClient, ImapConnectionError, ImapError, ImapSettings, SelectResult
from app.protocols.imap.protocol import ServerPush

__all__ = ["ImapClient", "ImapConnectionError", "ImapError", "ImapSettings", "SelectResult", "ServerPush"]
