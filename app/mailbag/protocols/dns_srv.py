"""DNS SRV look-ups (RFC 2782) for RFC 6186 service discovery, with dnspython."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SrvTarget:
    """One SRV answer."""

    priority: int
    weight: int
    port: int
    target: str  # without the final dot


class DnsResolver:
    """Asks the system's DNS servers (dnspython's async resolver), or ``nameservers`` on ``port``."""

    def __init__(self, timeout: float = 5.0, nameservers: list[str] | None = None, port: int = 53) -> None:
        self.timeout = timeout
        self.nameservers = nameservers
        self.port = port

    async def srv(self, name: str) -> list[SrvTarget]:
        """The SRV answers for ``name``, as the server gave them; [] when there are none."""
        import dns.asyncresolver
        import dns.exception

        resolver = dns.asyncresolver.Resolver(configure=self.nameservers is None)
        if self.nameservers is not None:
            resolver.nameservers = list(self.nameservers)
            resolver.port = self.port
        try:
            answer = await resolver.resolve(name, "SRV", lifetime=self.timeout)
        except dns.exception.DNSException:  # no such name, no answer, no server, timed out
            return []
        return [
            SrvTarget(int(r.priority), int(r.weight), int(r.port), str(r.target).rstrip("."))
            for r in answer
        ]


def by_preference(targets: list[SrvTarget]) -> list[SrvTarget]:
    """The answers to use, best first (lowest priority, then highest weight); none when the
    service is declared absent (a target of ".", RFC 2782)."""
    return sorted((t for t in targets if t.target), key=lambda t: (t.priority, -t.weight))
