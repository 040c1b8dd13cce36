"""Finding an account's servers from its address: the candidates and how they are ranked.

Pure: what to look up (autoconfig URLs, SRV names, common host names and ports) and which of
the answers to take. Looking them up is the services' job (``mailbag.services.discovery``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import quote

from mailbag.domain.config import Security, default_port

Kind = Literal["imap", "pop3", "smtp"]
KINDS: tuple[Kind, ...] = ("imap", "pop3", "smtp")
#: Which way the servers were found, in the order they are asked.
Source = Literal["autoconfig", "dns", "probe", "none"]

#: Implicit TLS before STARTTLS; plain text is never ranked (never chosen by itself).
_SECURITY_RANK: dict[str, int] = {"tls": 0, "starttls": 1}

#: RFC 6186 / 8314 service names, the implicit-TLS one first.
SRV_SERVICES: tuple[tuple[Kind, str, Security], ...] = (
    ("imap", "_imaps._tcp", "tls"),
    ("imap", "_imap._tcp", "starttls"),
    ("pop3", "_pop3s._tcp", "tls"),
    ("pop3", "_pop3._tcp", "starttls"),
    ("smtp", "_submissions._tcp", "tls"),
    ("smtp", "_submission._tcp", "starttls"),
)

#: The usual host names' first labels, per kind ("" is the domain itself).
COMMON_HOSTS: dict[Kind, tuple[str, ...]] = {
    "imap": ("imap", "mail", ""),
    "pop3": ("pop3", "pop", "mail", ""),
    "smtp": ("smtp", "mail", ""),
}


@dataclass(frozen=True)
class PortPlan:
    """The ports probed per kind and security (the standard ones unless a test says otherwise)."""

    ports: dict[tuple[Kind, Security], int] = field(default_factory=lambda: {
        (kind, security): default_port(kind, security) for kind in KINDS for security in ("tls", "starttls")
    })


@dataclass(frozen=True)
class ServerChoice:
    """One server an account may use."""

    kind: Kind
    host: str
    port: int
    security: Security
    username: str = ""


@dataclass(frozen=True)
class Found:
    """What discovery found: the best server of each kind (None when none), and how."""

    source: Source
    imap: ServerChoice | None = None
    pop3: ServerChoice | None = None
    smtp: ServerChoice | None = None
    where: str = ""  # the URL or name that answered, for the screen

    @property
    def incoming(self) -> ServerChoice | None:
        """The server mail is read from: IMAP where there is one, else POP3."""
        return self.imap or self.pop3

    @property
    def complete(self) -> bool:
        return self.incoming is not None and self.smtp is not None


def split_address(address: str) -> tuple[str, str]:
    """``("me", "example.org")`` for ``me@example.org``; ValueError for what is not an address."""
    local, at, domain = address.strip().rpartition("@")
    domain = domain.strip().lower().rstrip(".")
    if not at or not local or not domain or any(c.isspace() for c in address.strip()):
        raise ValueError(f"{address.strip()!r} is not an email address")
    if "." not in domain and domain != "localhost":
        raise ValueError(f"{domain!r} is not a mail domain")
    return local, domain


def autoconfig_urls(address: str) -> list[str]:
    """Where a domain publishes its Thunderbird autoconfig document, in the order asked."""
    _, domain = split_address(address)
    query = quote(address.strip(), safe="@")
    return [
        f"https://autoconfig.{domain}/mail/config-v1.1.xml?emailaddress={query}",
        f"https://{domain}/.well-known/autoconfig/mail/config-v1.1.xml",
    ]


def srv_names(domain: str) -> list[tuple[Kind, str, Security]]:
    """The SRV names to ask for ``domain``, with the kind and security each one means."""
    return [(kind, f"{service}.{domain}", security) for kind, service, security in SRV_SERVICES]


def probe_candidates(domain: str, plan: PortPlan) -> list[ServerChoice]:
    """Every (host, port) worth probing for ``domain``, best first within each kind."""
    candidates = []
    for (kind, security), port in plan.ports.items():
        for label in COMMON_HOSTS[kind]:
            host = f"{label}.{domain}" if label else domain
            candidates.append(ServerChoice(kind, host, port, security))
    return rank(candidates)


def rank(choices: Iterable[ServerChoice]) -> list[ServerChoice]:
    """The choices that may be taken without asking (TLS or STARTTLS), implicit TLS first; the
    order within one security level is kept."""
    usable = [c for c in choices if c.security in _SECURITY_RANK]
    return sorted(usable, key=lambda c: _SECURITY_RANK[c.security])


def best(choices: Sequence[ServerChoice], kind: Kind) -> ServerChoice | None:
    """The best choice of ``kind``: implicit TLS before STARTTLS; never plain text."""
    ranked = rank(c for c in choices if c.kind == kind)
    return ranked[0] if ranked else None


def found(source: Source, choices: Sequence[ServerChoice], where: str = "") -> Found:
    """The best server of each kind among ``choices``."""
    return Found(source, best(choices, "imap"), best(choices, "pop3"), best(choices, "smtp"), where)


def fill_username(template: str, address: str) -> str:
    """An autoconfig username with its placeholders filled in (%EMAILADDRESS%, %EMAILLOCALPART%,
    %EMAILDOMAIN%); an empty template means the whole address."""
    local, domain = split_address(address)
    if not template:
        return address.strip()
    return (
        template.replace("%EMAILADDRESS%", address.strip())
        .replace("%EMAILLOCALPART%", local)
        .replace("%EMAILDOMAIN%", domain)
    )
