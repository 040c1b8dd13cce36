"""Compact text forms of the values the cache stores per message.

Flags and folder attributes are IMAP atoms (no spaces): sorted and joined by spaces. Address lists and
References use the ASCII unit/record separators, which decoded header text never contains (the header
decoder strips control characters); any stray separator is replaced by a space so a value cannot leak
into its neighbour.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone

from mailbag.domain.models import Address

_UNIT = "\x1f"  # between the name and the address of one mailbox
_RECORD = "\x1e"  # between mailboxes, and between References ids
_SEPARATORS = str.maketrans({_UNIT: " ", _RECORD: " "})

_ZONES: dict[int, timezone] = {0: timezone.utc}


def encode_atoms(atoms: Iterable[str]) -> str:
    """Flags or attributes as one string: sorted, space-separated."""
    return " ".join(sorted(atoms))


def decode_atoms(value: str) -> frozenset[str]:
    """The inverse of :func:`encode_atoms`."""
    return frozenset(value.split()) if value else frozenset()


def _clean(value: str) -> str:
    if _UNIT in value or _RECORD in value:
        return value.translate(_SEPARATORS)
    return value


def encode_addresses(addresses: Iterable[Address]) -> str:
    """An address list as one string."""
    return _RECORD.join(f"{_clean(a.name)}{_UNIT}{_clean(a.email)}" for a in addresses)


def decode_addresses(value: str) -> tuple[Address, ...]:
    """The inverse of :func:`encode_addresses`."""
    if not value:
        return ()
    result = []
    for item in value.split(_RECORD):
        name, _, email = item.partition(_UNIT)
        result.append(Address(name=name, email=email))
    return tuple(result)


def encode_ids(ids: Iterable[str]) -> str:
    """Message-ids (References) as one string."""
    return _RECORD.join(_clean(i) for i in ids)


def decode_ids(value: str) -> tuple[str, ...]:
    """The inverse of :func:`encode_ids`."""
    return tuple(value.split(_RECORD)) if value else ()


def encode_date(value: datetime | None) -> tuple[int | None, int]:
    """An aware datetime as (UTC epoch seconds, zone offset in seconds); naive ones count as UTC."""
    if value is None:
        return None, 0
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    offset = value.utcoffset()
    return math.floor(value.timestamp()), int(offset.total_seconds()) if offset else 0


def decode_date(epoch: int | None, offset: int) -> datetime | None:
    """The inverse of :func:`encode_date`: the same instant, in the zone it was written in."""
    if epoch is None:
        return None
    zone = _ZONES.get(offset)
    if zone is None:
        zone = _ZONES.setdefault(offset, timezone(timedelta(seconds=offset)))
    return datetime.fromtimestamp(epoch, zone)
