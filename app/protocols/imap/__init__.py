"""IMAP on aioimaplib, with linear streaming response handling."""

from app.protocols.imap.client import (
    CopyResult,
    ImapClient,
    ImapConnectionError,
    ImapError,
    ImapSettings,
    SelectResult,
)
from app.protocols.imap.protocol import ServerPush

__all__ = ["CopyResult", "ImapClient", "ImapConnectionError", "ImapError", "ImapSettings", "SelectResult", "ServerPush"]
