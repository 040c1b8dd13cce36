"""Message rendering for the reader: headers, body text and the list of attachments.

Parts are numbered in depth-first order over the MIME tree, without descending into attached
messages (message/rfc822 is one attachment); that number is the ``part_index`` that
``extract_attachment`` accepts. Every string that leaves this module has been through
``sanitize``; nothing here raises on a malformed message.
"""

from __future__ import annotations

import email
import email.policy
import mimetypes
import re
import unicodedata
from email.message import Message

from mailbag.domain import parts_inline
from mailbag.domain.headers import decode_bytes, decode_words, parse_address_list, parse_date
from mailbag.domain.html_text import html_to_text
from mailbag.domain.models import Attachment, RenderedMessage
from mailbag.domain.payload import payload_bytes as _payload_bytes
from mailbag.domain.sanitize import clean_line, clean_text

_MAX_DEPTH = 64  # MIME nesting deeper than this is treated as opaque data
_MAX_PARTS = 5000  # parts beyond this are not listed


# --- parsing and headers -----------------------------------------------------------------------


def _parse(raw: bytes) -> Message:
    try:
        return email.message_from_bytes(raw, policy=email.policy.default)
    except Exception:  # the parser is lenient; this is a last resort for pathological input
        return email.message_from_bytes(raw, policy=email.policy.compat32)


def _raw_header(message: Message, name: str) -> str | None:
    """The header's source text (unfolded, 8-bit bytes decoded), bypassing the header registry."""
    try:
        items = message.raw_items() if hasattr(message, "raw_items") else message.items()
        for key, value in items:
            if key.lower() == name:
                return _unfold(_header_str(value))
    except Exception:
        return None
    return None


def _header_str(value: object) -> str:
    if not isinstance(value, str):
        value = str(value)
    try:
        value.encode("utf-8")
        return value
    except UnicodeEncodeError:  # raw 8-bit header bytes, kept by the parser as surrogates
        data = value.encode("utf-8", "surrogateescape")
        return decode_bytes(data, None)


def _unfold(value: str) -> str:
    return re.sub(r"\r?\n[ \t]*", " ", value).strip()


def _header_text(message: Message, name: str) -> str:
    return decode_words(_raw_header(message, name))


# --- the MIME tree -------------------------------------------------------------------------------


def _children(part: Message) -> list[Message]:
    """Sub-parts of a multipart (never of an attached message)."""
    if part.get_content_maintype() != "multipart":
        return []
    payload = part.get_payload()
    return [child for child in payload if isinstance(child, Message)] if isinstance(payload, list) else []


def _parts_in_order(root: Message) -> list[tuple[Message, int]]:
    """Every part with its depth, in part_index order."""
    ordered: list[tuple[Message, int]] = []
    stack: list[tuple[Message, int]] = [(root, 0)]
    while stack and len(ordered) < _MAX_PARTS:
        part, depth = stack.pop()
        ordered.append((part, depth))
        if depth < _MAX_DEPTH:
            stack.extend((child, depth + 1) for child in reversed(_children(part)))
    return ordered


def _disposition(part: Message) -> str:
    try:
        return (part.get_content_disposition() or "").lower()
    except Exception:
        return ""


def _raw_filename(part: Message) -> str | None:
    """The file name from Content-Disposition or Content-Type (RFC 2231 and 2047 decoded).

    Parameters are read from the raw header text, so 8-bit names keep their letters.
    """
    headers = Message(policy=email.policy.compat32)
    for name in ("content-disposition", "content-type"):
        value = _raw_header(part, name)
        if value:
            headers[name] = value
    try:
        filename = headers.get_filename()
    except Exception:
        return None
    if filename is None:
        return None
    return decode_words(_header_str(filename))


def _is_text_body(part: Message) -> bool:
    return part.get_content_type() in ("text/plain", "text/html") and _disposition(part) != "attachment"


class _BodyChooser:
    """Picks the parts that make the body: text/plain preferred over HTML in alternatives."""

    def __init__(self) -> None:
        self.body: list[Message] = []
        self.hidden: set[int] = set()  # text alternatives not shown and not worth listing

    def choose(self, part: Message, depth: int = 0) -> list[Message]:
        if depth > _MAX_DEPTH:
            return []
        children = _children(part)
        subtype = part.get_content_subtype()
        if not children:
            if _is_text_body(part) and _raw_filename(part) is None:
                return [part]
            return [part] if parts_inline.is_inline(part) else []
        if subtype == "alternative":
            return self._alternative(children, depth)
        if subtype == "related":
            return self.choose(children[0], depth + 1)
        chosen: list[Message] = []
        for child in children:
            if _disposition(child) != "attachment" or parts_inline.is_inline(child):
                chosen.extend(self.choose(child, depth + 1))
        return chosen

    def _alternative(self, children: list[Message], depth: int) -> list[Message]:
        options = [self.choose(child, depth + 1) for child in children]
        best: list[Message] | None = None
        for wanted in ("text/plain", "text/html"):
            for option in reversed(options):  # the last alternative is the richest of its kind
                if option and all(p.get_content_type() == wanted for p in option):
                    best = option
                    break
            if best:
                break
        if best is None:
            best = next((option for option in options if option), [])
        calendars = [p for option in options if option is not best for p in option if parts_inline.is_calendar(p)]
        for child, option in zip(children, options):
            if option is not best:
                for part, _ in _parts_in_order(child):
                    if part.get_content_type() in ("text/plain", "text/html") and not _raw_filename(part):
                        self.hidden.add(id(part))
        return best + calendars


# --- body text -----------------------------------------------------------------------------------


def _decoded(part: Message) -> str:
    """A text part's payload as text, in its charset (HTML left as HTML)."""
    try:
        charset = part.get_content_charset()
    except Exception:
        charset = None
    return decode_bytes(_payload_bytes(part), charset)


def _part_text(part: Message, depth: int) -> str:
    if parts_inline.is_inline(part):
        return parts_inline.inline_text(part, depth, _render)
    text = _decoded(part)
    if part.get_content_type() == "text/html":
        return html_to_text(text)
    params = {key.lower(): str(value).lower() for key, value in _params(part)}
    if params.get("format") == "flowed":
        return unflow(text, delsp=params.get("delsp") == "yes")
    return text


def _params(part: Message) -> list[tuple[str, str]]:
    try:
        return [(k, v if isinstance(v, str) else str(v)) for k, v in part.get_params() or []]
    except Exception:
        return []


def unflow(text: str, delsp: bool = False) -> str:
    """Join the soft line breaks of format=flowed text (RFC 3676) into long lines."""
    out: list[str] = []
    current: str | None = None
    current_depth = 0
    for line in text.replace("\r\n", "\n").split("\n"):
        depth = len(line) - len(line.lstrip(">"))
        content = line[depth:]
        if content.startswith(" "):
            content = content[1:]  # space-stuffing
        if current is not None and depth == current_depth:
            current += content
        else:
            if current is not None:
                out.append(">" * current_depth + (" " if current_depth else "") + current)
            current, current_depth = content, depth
        if content.endswith(" ") and content != "-- ":
            if delsp:
                current = current[:-1]
            continue
        out.append(">" * current_depth + (" " if current_depth else "") + current)
        current = None
    if current is not None:
        out.append(">" * current_depth + (" " if current_depth else "") + current)
    return "\n".join(out)


# --- attachments ---------------------------------------------------------------------------------

_UNSAFE_CHARS = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')
_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$", re.IGNORECASE)
_MAX_NAME_BYTES = 200


def safe_filename(name: str | None, fallback: str = "attachment") -> str:
    """A name that is safe to save under: a single path component, printable, not hidden.

    No directories or '..', no leading dots or dashes, no control or bidi characters, no
    reserved device names (CON, NUL...), at most 200 UTF-8 bytes, and the extension is kept.
    """
    text = clean_line(unicodedata.normalize("NFC", name or ""))
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    text = _UNSAFE_CHARS.sub("_", text)
    text = text.strip().lstrip(".-_ ").rstrip(". ")
    if not text:
        return safe_filename(fallback) if fallback and fallback != name else "attachment"
    if _RESERVED.match(text):
        text = "_" + text
    return _cap_length(text)


def _cap_length(text: str) -> str:
    if len(text.encode("utf-8")) <= _MAX_NAME_BYTES:
        return text
    stem, dot, ext = text.rpartition(".")
    if not dot or not stem or len(ext) > 16 or " " in ext:
        stem, ext = text, ""
    suffix = f".{ext}" if ext else ""
    budget = _MAX_NAME_BYTES - len(suffix.encode("utf-8"))
    stem = stem.encode("utf-8")[:budget].decode("utf-8", "ignore").rstrip(". ")
    return stem + suffix


def _attachment_name(part: Message) -> str:
    name = _raw_filename(part)
    content_type = part.get_content_type()
    if not name and content_type in ("message/rfc822", "message/global"):
        inner = _inner_message(part)
        subject = _header_text(inner, "subject") if inner is not None else ""
        name = f"{subject[:80]}.eml" if subject else "message.eml"
    elif name and content_type in ("message/rfc822", "message/global") and "." not in name:
        name += ".eml"
    if not name:
        extension = mimetypes.guess_extension(content_type, strict=False) or ".bin"
        name = f"attachment{extension}"
    return safe_filename(name)


def _inner_message(part: Message) -> Message | None:
    if part.get_content_maintype() != "message":
        return None
    payload = part.get_payload()
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        return payload[0]
    return None


def _encoded_size(part: Message, depth: int = 0) -> int:
    """Decoded size, estimated from the encoded payload (nothing is decoded)."""
    try:
        declared = int(str(part.get_param("size", header="content-disposition") or ""))
    except (ValueError, TypeError):
        declared = -1
    if declared >= 0:
        return declared
    inner = _inner_message(part)
    if inner is not None:
        if depth > 8:
            return 0
        return sum(_encoded_size(sub, depth + 1) for sub, _ in _parts_in_order(inner))
    payload = part.get_payload()
    if not isinstance(payload, str):
        return 0
    encoding = str(part.get("content-transfer-encoding", "") or "").strip().lower()
    if encoding == "base64":
        whitespace = payload.count("\n") + payload.count("\r") + payload.count(" ")
        length = len(payload) - whitespace
        return max(0, length * 3 // 4 - payload.rstrip().endswith("=") - payload.rstrip().endswith("=="))
    if encoding == "quoted-printable":
        return max(0, len(payload) - 2 * payload.count("=") - payload.count("\r"))
    return len(payload)


def _is_attachment(part: Message, body_ids: set[int], hidden: set[int]) -> bool:
    if id(part) in body_ids and not parts_inline.stays_listed(part):
        return False
    if id(part) in hidden or _children(part):
        return False
    if part.get_content_maintype() == "multipart":
        return False  # a multipart whose parts could not be parsed: its text is shown as the body
    if _disposition(part) == "attachment" or _raw_filename(part) is not None:
        return True
    return part.get_content_type() not in ("text/plain", "text/html")


# --- public API ----------------------------------------------------------------------------------


def render_message(raw: bytes) -> RenderedMessage:
    """Decode a whole message for the reader. Never raises on any input."""
    try:
        return _render(_parse(raw))
    except Exception:
        try:
            return _render(email.message_from_bytes(raw, policy=email.policy.compat32))
        except Exception:
            return RenderedMessage(
                subject="", from_=(), to=(), cc=(), date=None, body=clean_text(decode_bytes(raw, None))
            )


def _render(message: Message, depth: int = 0) -> RenderedMessage:
    """The message for the reader; ``depth`` counts the attached messages it is inside."""
    chooser = _BodyChooser()
    body_parts = chooser.choose(message)
    body_ids = {id(part) for part in body_parts}
    body = _join_texts(body_parts, depth)
    if not body.strip():
        # Nothing readable chosen: show the first inline text part even if it has a file name
        # (it stays in the attachment list), or the text of a multipart that did not parse.
        fallback = _fallback_body(message, exclude=body_ids)
        if fallback:
            body_parts = fallback
            body = _join_texts(fallback, depth)

    attachments: list[Attachment] = []
    for index, (part, _) in enumerate(_parts_in_order(message)):
        if _is_attachment(part, body_ids, chooser.hidden):
            attachments.append(
                Attachment(
                    filename=_attachment_name(part),
                    content_type=clean_line(part.get_content_type()),
                    size=_encoded_size(part),
                    part_index=index,
                )
            )
    return RenderedMessage(
        subject=_header_text(message, "subject"),
        from_=parse_address_list(_raw_header(message, "from")),
        to=parse_address_list(_raw_header(message, "to")),
        cc=parse_address_list(_raw_header(message, "cc")),
        date=parse_date(_raw_header(message, "date")),
        body=clean_text(body),
        body_was_html=any(part.get_content_type() == "text/html" for part in body_parts),
        attachments=attachments,
        message_id=clean_line(_raw_header(message, "message-id") or ""),
    )


_LEADING_BLANK_LINES = re.compile(r"\A(?:[ \t]*\n)+")


def body_sources(raw: bytes) -> list[tuple[str, str]]:
    """The parts the reader's body is made of, before any conversion: (content type, text) for
    each, so HTML stays HTML (the links list reads its anchors); a part shown inline (an
    attached message, a bounce, an invitation) as the text the reader shows. Never raises."""
    try:
        message = _parse(raw)
        parts = _BodyChooser().choose(message)
        sources = [_source(part) for part in parts]
        if not any(text.strip() for _, text in sources):
            sources = [_source(part) for part in _fallback_body(message, exclude={id(part) for part in parts})]
        return sources
    except Exception:
        return [("text/plain", decode_bytes(raw, None))]


def _source(part: Message) -> tuple[str, str]:
    if parts_inline.is_inline(part):
        return "text/plain", parts_inline.inline_text(part, 0, _render)
    return part.get_content_type(), _decoded(part)


def _join_texts(parts: list[Message], depth: int) -> str:
    """The body parts' texts, trimmed of blank lines around them, one blank line apart; a
    calendar met twice (inline and attached) is summarised once."""
    texts = []
    calendars: set[str] = set()
    for part in parts:
        text = _part_text(part, depth).replace("\r\n", "\n").replace("\r", "\n")
        text = _LEADING_BLANK_LINES.sub("", text.rstrip())
        if parts_inline.is_calendar(part):
            if text in calendars:
                continue
            calendars.add(text)
        if text:
            texts.append(text)
    return "\n\n".join(texts)


def _fallback_body(message: Message, exclude: set[int]) -> list[Message]:
    for part, _ in _parts_in_order(message):
        if _children(part) or id(part) in exclude:
            continue
        if _is_text_body(part) and _disposition(part) != "attachment":
            return [part]
        if part.get_content_maintype() == "multipart" and isinstance(part.get_payload(), str):
            return [part]
    return []


def extract_attachment(raw: bytes, part_index: int) -> tuple[str, bytes]:
    """The safe file name and decoded payload of the part numbered ``part_index``.

    An attached message (message/rfc822) comes back as its bytes. Raises ValueError when the
    message has no such part.
    """
    parts = _parts_in_order(_parse(raw))
    if not 0 <= part_index < len(parts):
        raise ValueError(f"no part {part_index} in this message ({len(parts)} parts)")
    part = parts[part_index][0]
    if _children(part):
        raise ValueError(f"part {part_index} is a multipart container, not an attachment")
    inner = _inner_message(part)
    if inner is not None:
        try:
            data = inner.as_bytes(policy=email.policy.compat32)
        except Exception:
            data = str(inner).encode("utf-8", "surrogateescape")
        return _attachment_name(part), data
    return _attachment_name(part), _payload_bytes(part)
