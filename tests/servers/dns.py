"""A DNS server on loopback (UDP) that answers SRV questions from a table, with dnspython."""

from __future__ import annotations

import asyncio
from typing import cast

import dns.message
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset


class SrvServer(asyncio.DatagramProtocol):
    """``records``: name (without the final dot) -> [(priority, weight, port, target)]; other
    names are answered NXDOMAIN."""

    def __init__(self, records: dict[str, list[tuple[int, int, int, str]]]) -> None:
        self.records = records
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        query = dns.message.from_wire(data)
        response = dns.message.make_response(query)
        question = query.question[0]
        name = question.name.to_text().rstrip(".")
        if name not in self.records:
            response.set_rcode(dns.rcode.NXDOMAIN)
        elif question.rdtype == dns.rdatatype.SRV:
            texts = [f"{p} {w} {port} {target}." for p, w, port, target in self.records[name]]
            response.answer.append(dns.rrset.from_text(question.name, 300, dns.rdataclass.IN,
                                                       dns.rdatatype.SRV, *texts))
        assert self.transport is not None
        self.transport.sendto(response.to_wire(), addr)

    @property
    def port(self) -> int:
        assert self.transport is not None
        return int(self.transport.get_extra_info("sockname")[1])


async def start_srv_server(records: dict[str, list[tuple[int, int, int, str]]]) -> SrvServer:
    loop = asyncio.get_running_loop()
    _, server = await loop.create_datagram_endpoint(lambda: SrvServer(records), local_addr=("127.0.0.1", 0))
    return server
