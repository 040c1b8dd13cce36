"""Finding an account's servers from its address: autoconfig over HTTPS, DNS SRV, then the usual
host names probed, against loopback servers (the private Dovecot, the test SMTP server)."""

from __future__ import annotations

import pytest

from mailbag.domain.discovery import PortPlan, ServerChoice
from mailbag.protocols.dns_srv import DnsResolver, SrvTarget
from mailbag.protocols.https_fetch import FetchError, HttpsFetcher
from mailbag.services.discovery import Discovery
from tests.servers.autoconfig import DOMAIN, AutoconfigServer, thunderbird_xml
from tests.servers.dns import start_srv_server
from tests.servers.dovecot import DovecotServer
from tests.servers.smtp import SmtpServer

pytestmark = pytest.mark.dovecot
ADDRESS = f"ann.lee@{DOMAIN}"
AUTOCONFIG = "/mail/config-v1.1.xml"
WELL_KNOWN = "/.well-known/autoconfig/mail/config-v1.1.xml"


class StubResolver:
    """SRV answers from a table; names not in it have none. Remembers what was asked."""

    def __init__(self, answers: dict[str, list[SrvTarget]] | None = None) -> None:
        self.answers = answers or {}
        self.asked: list[str] = []

    async def srv(self, name: str) -> list[SrvTarget]:
        self.asked.append(name)
        return self.answers.get(name, [])


def no_ports() -> PortPlan:
    return PortPlan(ports={})


def discovery(server: AutoconfigServer, dovecot: DovecotServer, resolver: StubResolver | None = None,
              ports: PortPlan | None = None) -> Discovery:
    fetch = HttpsFetcher(ca_file=str(dovecot.ca_file), connect_to=server.connect_to(), timeout=5)
    return Discovery(fetch=fetch, resolver=resolver or StubResolver(), ports=ports or no_ports(),
                     ca_file=str(dovecot.ca_file), probe_timeout=2)


GMAIL_LIKE = [
    {"type": "imap", "hostname": "imap.example.test", "port": "143", "socketType": "STARTTLS"},
    {"type": "imap", "hostname": "imap.example.test", "port": "993", "socketType": "SSL"},
    {"type": "pop3", "hostname": "pop.example.test", "port": "995", "socketType": "SSL",
     "username": "%EMAILLOCALPART%"},
    {"type": "smtp", "hostname": "plain.example.test", "port": "25", "socketType": "plain"},
    {"type": "smtp", "hostname": "smtp.%EMAILDOMAIN%", "port": "587", "socketType": "STARTTLS"},
]


async def test_autoconfig_document_gives_the_servers_tls_first(
    autoconfig_server: AutoconfigServer, dovecot: DovecotServer
) -> None:
    autoconfig_server.serve(f"autoconfig.{DOMAIN}", AUTOCONFIG, thunderbird_xml(GMAIL_LIKE))

    found = await discovery(autoconfig_server, dovecot).find(ADDRESS)

    assert found.source == "autoconfig"
    assert found.imap == ServerChoice("imap", "imap.example.test", 993, "tls", ADDRESS)
    assert found.pop3 == ServerChoice("pop3", "pop.example.test", 995, "tls", "ann.lee")
    # STARTTLS on 587 is taken; the plain-text server on 25 never is.
    assert found.smtp == ServerChoice("smtp", "smtp.example.test", 587, "starttls", ADDRESS)
    assert (f"autoconfig.{DOMAIN}", f"{AUTOCONFIG}?emailaddress={ADDRESS}") in autoconfig_server.asked


async def test_the_well_known_url_is_asked_when_autoconfig_host_has_nothing(
    autoconfig_server: AutoconfigServer, dovecot: DovecotServer
) -> None:
    autoconfig_server.serve(DOMAIN, WELL_KNOWN, thunderbird_xml(GMAIL_LIKE))

    found = await discovery(autoconfig_server, dovecot).find(ADDRESS)

    assert found.source == "autoconfig"
    assert found.where == f"https://{DOMAIN}{WELL_KNOWN}"
    assert found.imap is not None and found.imap.port == 993


async def test_a_redirect_to_plain_http_is_not_followed(
    autoconfig_server: AutoconfigServer, dovecot: DovecotServer
) -> None:
    autoconfig_server.redirects[(f"autoconfig.{DOMAIN}", AUTOCONFIG)] = f"http://{DOMAIN}/evil.xml"
    autoconfig_server.serve(DOMAIN, "/evil.xml", thunderbird_xml(GMAIL_LIKE))

    found = await discovery(autoconfig_server, dovecot).find(ADDRESS)

    assert found.source == "none"
    assert not any(path == "/evil.xml" for _, path in autoconfig_server.asked)


async def test_a_certificate_of_another_ca_is_refused(
    autoconfig_server: AutoconfigServer, dovecot: DovecotServer
) -> None:
    autoconfig_server.serve(f"autoconfig.{DOMAIN}", AUTOCONFIG, thunderbird_xml(GMAIL_LIKE))
    fetch = HttpsFetcher(connect_to=autoconfig_server.connect_to(), timeout=5)  # system CAs only

    found = await Discovery(fetch=fetch, resolver=StubResolver(), ports=no_ports()).find(ADDRESS)

    assert found.source == "none"


async def test_srv_records_when_there_is_no_autoconfig(
    autoconfig_server: AutoconfigServer, dovecot: DovecotServer
) -> None:
    resolver = StubResolver({
        f"_imap._tcp.{DOMAIN}": [SrvTarget(0, 1, 143, "mx.example.test")],
        f"_imaps._tcp.{DOMAIN}": [SrvTarget(10, 1, 993, "imap2.example.test"),
                                   SrvTarget(0, 1, 993, "imap1.example.test")],
        f"_submission._tcp.{DOMAIN}": [SrvTarget(0, 1, 587, "smtp.example.test")],
    })

    found = await discovery(autoconfig_server, dovecot, resolver).find(ADDRESS)

    assert found.source == "dns"
    assert found.imap == ServerChoice("imap", "imap1.example.test", 993, "tls", ADDRESS)
    assert found.smtp == ServerChoice("smtp", "smtp.example.test", 587, "starttls", ADDRESS)
    assert f"_submissions._tcp.{DOMAIN}" in resolver.asked and f"_pop3s._tcp.{DOMAIN}" in resolver.asked


async def test_autoconfig_wins_over_srv_and_srv_fills_what_it_lacks(
    autoconfig_server: AutoconfigServer, dovecot: DovecotServer
) -> None:
    autoconfig_server.serve(f"autoconfig.{DOMAIN}", AUTOCONFIG, thunderbird_xml(GMAIL_LIKE[:2]))
    resolver = StubResolver({
        f"_imaps._tcp.{DOMAIN}": [SrvTarget(0, 1, 993, "srv-imap.example.test")],
        f"_submissions._tcp.{DOMAIN}": [SrvTarget(0, 1, 465, "srv-smtp.example.test")],
    })

    found = await discovery(autoconfig_server, dovecot, resolver).find(ADDRESS)

    assert found.source == "autoconfig"
    assert found.imap is not None and found.imap.host == "imap.example.test"
    assert found.smtp == ServerChoice("smtp", "srv-smtp.example.test", 465, "tls", ADDRESS)


async def test_probes_find_the_servers_that_answer_and_prefer_implicit_tls(
    autoconfig_server: AutoconfigServer, dovecot: DovecotServer, smtp_server: SmtpServer
) -> None:
    ports = PortPlan(ports={
        ("imap", "tls"): dovecot.imaps_port, ("imap", "starttls"): dovecot.imap_port,
        ("pop3", "tls"): dovecot.pop3s_port, ("pop3", "starttls"): dovecot.pop3_port,
        ("smtp", "tls"): smtp_server.tls_port, ("smtp", "starttls"): smtp_server.port,
    })
    address = "ann@localhost"

    found = await discovery(autoconfig_server, dovecot, ports=ports).find(address)

    assert found.source == "probe"
    assert found.imap == ServerChoice("imap", "localhost", dovecot.imaps_port, "tls", address)
    assert found.pop3 == ServerChoice("pop3", "localhost", dovecot.pop3s_port, "tls", address)
    assert found.smtp == ServerChoice("smtp", "localhost", smtp_server.tls_port, "tls", address)


async def test_probes_take_starttls_where_there_is_no_implicit_tls(
    autoconfig_server: AutoconfigServer, dovecot: DovecotServer, smtp_server: SmtpServer
) -> None:
    ports = PortPlan(ports={
        ("imap", "starttls"): dovecot.imap_port,
        ("pop3", "starttls"): dovecot.pop3_port,
        ("smtp", "starttls"): smtp_server.port,
    })

    found = await discovery(autoconfig_server, dovecot, ports=ports).find("ann@localhost")

    assert found.imap == ServerChoice("imap", "localhost", dovecot.imap_port, "starttls", "ann@localhost")
    assert found.pop3 == ServerChoice("pop3", "localhost", dovecot.pop3_port, "starttls", "ann@localhost")
    assert found.smtp == ServerChoice("smtp", "localhost", smtp_server.port, "starttls", "ann@localhost")


async def test_nothing_found_says_so(autoconfig_server: AutoconfigServer, dovecot: DovecotServer) -> None:
    found = await discovery(autoconfig_server, dovecot).find(ADDRESS)

    assert found.source == "none" and found.incoming is None and found.smtp is None


async def test_srv_records_asked_of_a_dns_server() -> None:
    server = await start_srv_server({
        f"_imaps._tcp.{DOMAIN}": [(10, 5, 993, "b.example.test"), (0, 5, 993, "a.example.test")],
        f"_submission._tcp.{DOMAIN}": [(0, 0, 587, "smtp.example.test")],
        f"_pop3s._tcp.{DOMAIN}": [(0, 0, 0, ".")],  # "no such service here" (RFC 2782)
    })
    try:
        resolver = DnsResolver(timeout=5, nameservers=["127.0.0.1"], port=server.port)
        found = await Discovery(fetch=lambda url: _refused(url), resolver=resolver, ports=no_ports()).find(ADDRESS)
    finally:
        assert server.transport is not None
        server.transport.close()

    assert found.source == "dns"
    assert found.imap == ServerChoice("imap", "a.example.test", 993, "tls", ADDRESS)
    assert found.pop3 is None
    assert found.smtp == ServerChoice("smtp", "smtp.example.test", 587, "starttls", ADDRESS)


async def _refused(url: str) -> bytes:
    raise FetchError(f"{url}: no such host")


async def test_a_port_that_speaks_another_protocol_or_offers_no_starttls_is_not_taken(
    autoconfig_server: AutoconfigServer, dovecot: DovecotServer, smtp_server: SmtpServer
) -> None:
    ports = PortPlan(ports={
        ("imap", "tls"): smtp_server.tls_port,  # SMTP where IMAP is looked for
        ("pop3", "starttls"): dovecot.imap_port,  # IMAP where POP3 is
        ("smtp", "tls"): dovecot.pop3s_port,  # POP3 where SMTP is
    })

    found = await discovery(autoconfig_server, dovecot, ports=ports).find("ann@localhost")

    assert found.source == "none"
