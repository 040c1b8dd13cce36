"""Finding an account's servers from its address, all ways at once.

Asked concurrently: the domain's autoconfig document, its DNS SRV records (RFC 6186 / 8314), and
the usual host names probed on the usual ports. The answer is taken by source in that order,
kind by kind: what autoconfig names wins, SRV fills what it lacks, probes fill the rest. Once a
better source has answered for every kind, the others are cancelled.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from mailbag.domain.autoconfig import AutoconfigError, parse_autoconfig
from mailbag.domain.discovery import (
    KINDS,
    Found,
    Kind,
    PortPlan,
    ServerChoice,
    autoconfig_urls,
    best,
    probe_candidates,
    split_address,
    srv_names,
)
from mailbag.protocols.dns_srv import DnsResolver, SrvTarget, by_preference
from mailbag.protocols.https_fetch import FetchError, HttpsFetcher
from mailbag.protocols.imap.probe import imap_conversation
from mailbag.protocols.pop3.probe import pop3_conversation
from mailbag.protocols.probe import Conversation, probe
from mailbag.protocols.smtp.probe import smtp_conversation

log = logging.getLogger(__name__)

#: GET a URL's body; raises FetchError (or OSError, TimeoutError) when it cannot.
Fetcher = Callable[[str], Awaitable[bytes]]

_CONVERSATIONS: dict[Kind, Conversation] = {
    "imap": imap_conversation,
    "pop3": pop3_conversation,
    "smtp": smtp_conversation,
}


class SrvResolver(Protocol):
    async def srv(self, name: str) -> list[SrvTarget]: ...


class Discovery:
    """Finds servers for an address. ``fetch``, ``resolver``, ``ports`` and ``ca_file`` are
    the network's ways in (tests point them at loopback servers and a test CA)."""

    def __init__(
        self,
        *,
        fetch: Fetcher | None = None,
        resolver: SrvResolver | None = None,
        ports: PortPlan | None = None,
        ca_file: str | None = None,
        probe_timeout: float = 3.0,
    ) -> None:
        self.fetch = fetch or HttpsFetcher()
        self.resolver = resolver or DnsResolver()
        self.ports = ports or PortPlan()
        self.ca_file = ca_file
        self.probe_timeout = probe_timeout

    async def find(self, address: str) -> Found:
        """The servers for ``address`` (``Found("none")`` when nothing answered)."""
        _, domain = split_address(address)
        steps = [
            asyncio.ensure_future(self.from_autoconfig(address)),
            asyncio.ensure_future(self.from_srv(domain, address)),
            asyncio.ensure_future(self.from_probes(domain, address)),
        ]
        answers: list[Found] = []
        try:
            for step in steps:
                answer = await step
                answers.append(answer)
                if all(_pick(answers, kind) is not None for kind in ("imap", "smtp")):
                    break  # nothing a later source says would be taken
        finally:
            for step in steps:
                step.cancel()
            await asyncio.gather(*steps, return_exceptions=True)
        return _merge(answers)

    async def from_autoconfig(self, address: str) -> Found:
        """The servers the domain's autoconfig document lists: both places are asked at once,
        and the first in order that lists a server is taken."""
        urls = autoconfig_urls(address)
        answers = await asyncio.gather(*(self._autoconfig(url, address) for url in urls))
        return next((a for a in answers if a.incoming is not None or a.smtp is not None), Found("none"))

    async def _autoconfig(self, url: str, address: str) -> Found:
        try:
            document = await self.fetch(url)
            choices = parse_autoconfig(document, address)
        except (FetchError, AutoconfigError, OSError, TimeoutError) as exc:
            log.info("autoconfig %s: %s", url, exc)
            return Found("none")
        return _found("autoconfig", choices, url.split("?")[0])

    async def from_srv(self, domain: str, address: str) -> Found:
        """The servers the domain's SRV records name."""
        names = srv_names(domain)
        answers = await asyncio.gather(*(self.resolver.srv(name) for _, name, _ in names),
                                       return_exceptions=True)
        choices = []
        for (kind, name, security), answer in zip(names, answers):
            if isinstance(answer, BaseException):
                log.info("SRV %s: %s", name, answer)
                continue
            choices += [ServerChoice(kind, t.target, t.port, security, address.strip()) for t in by_preference(answer)]
        return _found("dns", choices, domain)

    async def from_probes(self, domain: str, address: str) -> Found:
        """The usual host names that answer on the usual ports, as their protocol should."""
        candidates = probe_candidates(domain, self.ports)
        answers = await asyncio.gather(*(self._probe(c) for c in candidates))
        choices = [
            ServerChoice(c.kind, c.host, c.port, c.security, address.strip())
            for c, ok in zip(candidates, answers) if ok
        ]
        return _found("probe", choices, f"the usual host names of {domain}")

    async def _probe(self, choice: ServerChoice) -> bool:
        return await probe(
            choice.host, choice.port, implicit_tls=choice.security == "tls",
            conversation=_CONVERSATIONS[choice.kind], timeout=self.probe_timeout, ca_file=self.ca_file,
        )


def _found(source: str, choices: list[ServerChoice], where: str) -> Found:
    picked = {kind: best(choices, kind) for kind in KINDS}
    if not any(picked.values()):
        return Found("none")
    return Found(source, picked["imap"], picked["pop3"], picked["smtp"], where)  # type: ignore[arg-type]


def _pick(answers: list[Found], kind: str) -> ServerChoice | None:
    for answer in answers:
        server = answer.incoming if kind == "imap" else answer.smtp
        if server is not None:
            return server
    return None


def _merge(answers: list[Found]) -> Found:
    """Kind by kind, the first source's server; the source and place of the incoming one."""
    incoming = next((a for a in answers if a.incoming is not None), None)
    smtp = _pick(answers, "smtp")
    if incoming is None:
        with_smtp = next((a for a in answers if a.smtp is not None), None)
        if with_smtp is None:
            return Found("none")
        return Found(with_smtp.source, smtp=smtp, where=with_smtp.where)
    return Found(incoming.source, incoming.imap, incoming.pop3, smtp, incoming.where)
