"""Message rendering for the reader: headers, body text and the list of attachments.

The structure comes from ``mime_structure`` (read from the bytes, every part with its byte
span). Parts are numbered in depth-first order over the MIME tree, without descending into
attached messages (message/rfc822 is one attachment); that number is the ``part_index`` that
``extract_attachment`` accepts, and each listed attachment carries its span, so that
``extract_part`` decodes it alone. Every string that leaves this module has been through
``sanitize``; nothing here raises on a malformed message.
"""

from __future__ import annotations

import mimetypes
import re
import unicodedata
import urllib.parse

from mailbag.domain import parts_inline
from mailbag.domain.deadline import Deadline
from mailbag.domain.enriched_text import enriched_to_text
from mailbag.domain.headers import decode_bytes, decode_words, parse_address_list, parse_date
from mailbag.domain.html_text import html_to_text
from mailbag.domain.mime_structure import DEFAULT_LIMITS, Limits, MimePart, Structure, read_part, read_structure
from mailbag.domain.models import Attachment, RenderedMessage
from mailbag.domain.payload import text_of
from mailbag.domain.sealed_parts import sealed_text
from mailbag.domain.sanitize import clean_line, clean_text

_TEXT_TYPES = ("text/plain", "text/html")
#: Formatted text shown as plain text (RFC 1896, and RFC 1341's text/richtext before it).
_ENRICHED_TYPES = ("text/enriched", "text/richtext")
#: The kinds of text read in a way of their own; any other text/* is read as text/plain
#: (RFC 2046 4.1.4: text/x-diff, text/csv, text/markdown...).
_BODY_TYPES = _TEXT_TYPES + _ENRICHED_TYPES
_SOURCE_SHOWN = 1024 * 1024  # bytes of a message's source shown when reading it was cut short before its text
_MESSAGE_TYPES = ("message/rfc822", "message/global")


def _other_text(part: MimePart) -> bool:
    """A text part of a subtype read as plain text (see :data:`_BODY_TYPES`), not one the
    reader summarises (a calendar, returned headers): shown in the body and listed too, as the
    file it often is (a patch, a table), to be saved."""
    return part.maintype == "text" and part.content_type not in _BODY_TYPES and not parts_inline.is_inline(part)


def _header_text(part: MimePart, name: str) -> str:
    return decode_words(part.header(name))


def _is_text_body(part: MimePart) -> bool:
    return part.maintype == "text" and part.disposition != "attachment"


class _BodyChooser:
    """Picks the parts that make the body: text/plain preferred over HTML in alternatives."""

    def __init__(self) -> None:
        self.hidden: set[int] = set()  # indexes of text alternatives not shown and not worth listing

    def choose(self, part: MimePart) -> list[MimePart]:
        children = part.children
        if not children:
            if _is_text_body(part) and (part.filename is None or part.disposition == "inline"):
                return [part]  # a named text part too when its sender asks for it inline (a patch)
            return [part] if parts_inline.is_inline(part) else []
        if part.subtype == "alternative":
            return self._alternative(children)
        if part.subtype == "related":
            return self.choose(children[0])
        chosen: list[MimePart] = []
        for child in children:
            if child.disposition != "attachment" or parts_inline.is_inline(child):
                chosen.extend(self.choose(child))
        return chosen

    def _alternative(self, children: list[MimePart]) -> list[MimePart]:
        options = [self.choose(child) for child in children]
        best: list[MimePart] | None = None
        for wanted in _TEXT_TYPES:
            for option in reversed(options):  # the last alternative is the richest of its kind
                if option and all(p.content_type == wanted for p in option):
                    best = option
                    break
            if best:
                break
        if best is None:
            best = next((option for option in options if option), [])
        calendars = [p for option in options if option is not best for p in option if parts_inline.is_calendar(p)]
        for child, option in zip(children, options):
            if option is not best:
                for part in _walk(child):
                    if (part.content_type in _BODY_TYPES or _other_text(part)) and part.filename is None:
                        self.hidden.add(part.index)
        return best + calendars


def _walk(part: MimePart) -> list[MimePart]:
    """``part`` and every part below it, depth-first."""
    ordered: list[MimePart] = []
    stack = [part]
    while stack:
        current = stack.pop()
        ordered.append(current)
        stack.extend(reversed(current.children))
    return ordered


# --- body text -----------------------------------------------------------------------------------


def _part_text(part: MimePart, data: bytes, limits: Limits, deadline: Deadline, depth: int) -> str:
    if parts_inline.is_inline(part):
        return _inline_text(part, limits, deadline, depth)
    text = text_of(part, data)
    if part.content_type == "text/html":
        return html_to_text(text, deadline)
    if part.content_type in _ENRICHED_TYPES:
        return _enriched(part, text)
    if part.params.get("format", "").lower() == "flowed":
        return unflow(text, delsp=part.params.get("delsp", "").lower() == "yes")
    return text


def _enriched(part: MimePart, text: str) -> str:
    """The text of a text/enriched or text/richtext part."""
    return enriched_to_text(text, richtext=part.content_type == "text/richtext")


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


def _attachment_name(part: MimePart) -> str:
    name = part.filename
    if not name and part.content_type in _MESSAGE_TYPES:
        inner = part.inner(Limits(max_depth=0, max_parts=1))
        subject = _header_text(inner.root, "subject") if inner is not None else ""
        name = f"{subject[:80].replace('/', '_').replace(chr(92), '_')}.eml" if subject else "message.eml"
    elif name and part.content_type in _MESSAGE_TYPES and "." not in name:
        name += ".eml"
    if not name:
        name = _located_name(part)
    if not name and part.content_type == "message/partial":  # saved in order, joined: the message
        name = f"part {part.params.get('number', '')} of {part.params.get('total', '')}.txt"
    if not name:
        extension = mimetypes.guess_extension(part.content_type, strict=False) or ".bin"
        name = f"attachment{extension}"
    return safe_filename(name)


def _located_name(part: MimePart) -> str:
    """The file name at the end of the part's Content-Location (RFC 2557: ``Photo25.jpg``,
    ``http://example.org/a/report.pdf``), when it ends in one with an extension; else ""."""
    location = decode_words(part.header("content-location")).strip()
    name = urllib.parse.unquote(urllib.parse.urlsplit(location).path.rpartition("/")[2]) if location else ""
    stem, dot, extension = name.rpartition(".")
    return name if stem and dot and extension.isalnum() and len(extension) <= 10 else ""


def _is_attachment(part: MimePart, body: set[int], hidden: set[int]) -> bool:
    if part.index in body and parts_inline.kept_elsewhere(part):
        return False
    if part.index in body and not (parts_inline.stays_listed(part) or _other_text(part) or part.filename):
        return False
    if part.index in hidden or part.children:
        return False
    if part.maintype == "multipart":
        return False  # a multipart whose parts could not be split: its text is shown as the body
    if part.disposition == "attachment" or part.filename is not None:
        return True
    return part.content_type not in _BODY_TYPES


def _resource_forks(parts: list[MimePart]) -> set[int]:
    """The Mac resource forks of files sent as AppleDouble (RFC 1740), which only a Mac reads:
    the file itself is the part after, under the same name."""
    return {
        child.index
        for part in parts
        if part.content_type == "multipart/appledouble" and len(part.children) > 1
        for child in part.children
        if child.content_type == "application/applefile"
    }


def _attachment(part: MimePart) -> Attachment:
    return Attachment(
        filename=_attachment_name(part),
        content_type=clean_line(part.content_type),
        size=part.encoded_size(),
        part_index=part.index,
        section=part.section,
        start=part.start,
        end=part.end,
    )


# --- public API ----------------------------------------------------------------------------------


def render_message(raw: bytes, limits: Limits = DEFAULT_LIMITS, deadline: Deadline | None = None) -> RenderedMessage:
    """Decode a whole message for the reader, within ``limits`` and ``deadline`` (by default the
    time one message may take, from now) for the whole of it, attached messages included: when
    the time is up, what was read is shown with a notice. Never raises on any input."""
    deadline = deadline or Deadline()
    try:
        message = _render(read_structure(raw, limits, deadline=deadline), limits, deadline)
    except Exception:
        return RenderedMessage(
            subject="", from_=(), to=(), cc=(), date=None, body=clean_text(decode_bytes(raw, None))
        )
    if deadline.reached:
        notice = deadline.notice()
        if not message.body.strip():  # cut before any text: the source shows what there is
            message.body = clean_text(decode_bytes(raw[:_SOURCE_SHOWN], None))
            message.body_was_html = False
            notice = f"Reading this message took over {deadline.seconds:g} s: its source is shown instead."
        message.notices = (*(n for n in message.notices if n != deadline.notice()), notice)
    return message


def _render(structure: Structure, limits: Limits, deadline: Deadline, depth: int = 0) -> RenderedMessage:
    """The message for the reader; ``depth`` counts the attached messages it is inside."""
    root = structure.root
    notices = structure.limits_hit
    chooser = _BodyChooser()
    body_parts = chooser.choose(root)
    body_ids = {part.index for part in body_parts}
    body = _join_texts(body_parts, limits, deadline, notices, depth)
    if not body.strip():
        # Nothing readable chosen: show the first inline text part even if it has a file name
        # (it stays in the attachment list), or the text of a multipart that did not split.
        fallback = _fallback_body(structure.parts, exclude=body_ids)
        if fallback:
            body_parts = fallback
            body = _join_texts(fallback, limits, deadline, notices, depth)
    sealed = (sealed_text(structure.parts) or "") if not body.strip() else ""
    if sealed:
        body = ""
    hidden = chooser.hidden | _resource_forks(structure.parts)
    attachments = [_attachment(part) for part in structure.parts if _is_attachment(part, body_ids, hidden)]
    return RenderedMessage(
        subject=_header_text(root, "subject"),
        from_=parse_address_list(root.header("from")),
        to=parse_address_list(root.header("to")),
        cc=parse_address_list(root.header("cc")),
        date=parse_date(root.header("date")),
        body=clean_text(body),
        body_was_html=any(part.content_type == "text/html" for part in body_parts),
        attachments=attachments,
        message_id=clean_line(root.header("message-id") or ""),
        notices=tuple(notices),
        sealed=sealed,
    )


_LEADING_BLANK_LINES = re.compile(r"\A(?:[ \t]*\n)+")


def _inline_text(part: MimePart, limits: Limits, deadline: Deadline, depth: int) -> str:
    return parts_inline.inline_text(
        part, depth, lambda inner, level: _render(inner, limits, deadline, level), lambda part: part.inner(limits, deadline)
    )


def body_sources(raw: bytes, limits: Limits = DEFAULT_LIMITS, deadline: Deadline | None = None) -> list[tuple[str, str]]:
    """The parts the reader's body is made of, before any conversion: (content type, text) for
    each, so HTML stays HTML (the links list reads its anchors); a part shown inline (an
    attached message, a bounce, an invitation) as the text the reader shows. Never raises."""
    deadline = deadline or Deadline()
    try:
        structure = read_structure(raw, limits, deadline=deadline)
        parts = _BodyChooser().choose(structure.root)
        sources = [_source(part, limits, deadline) for part in parts]
        if not any(text.strip() for _, text in sources):
            exclude = {part.index for part in parts}
            sources = [_source(part, limits, deadline) for part in _fallback_body(structure.parts, exclude)]
        return sources
    except Exception:
        return [("text/plain", decode_bytes(raw, None))]


def _source(part: MimePart, limits: Limits, deadline: Deadline) -> tuple[str, str]:
    if parts_inline.is_inline(part):
        return "text/plain", _inline_text(part, limits, deadline, 0)
    text = text_of(part, part.payload()[: limits.max_text_bytes])
    if part.content_type in _ENRICHED_TYPES:
        return "text/plain", _enriched(part, text)
    return part.content_type, text


def _join_texts(parts: list[MimePart], limits: Limits, deadline: Deadline, notices: list[str], depth: int) -> str:
    """The body parts' texts, trimmed of blank lines around them, one blank line apart, within
    the limits on size and time (a cut is added to ``notices``); a calendar met twice (inline
    and attached) is summarised once."""
    texts = []
    calendars: set[str] = set()
    budget = limits.max_text_bytes
    for part in parts:
        if deadline.passed():
            break  # render_message says so
        data = part.payload()
        if len(data) > budget:
            notices.append(f"The text is cut at {_size(limits.max_text_bytes)}: the rest is not shown.")
            data = data[:budget]
        budget -= len(data)
        text = _part_text(part, data, limits, deadline, depth).replace("\r\n", "\n").replace("\r", "\n")
        text = _LEADING_BLANK_LINES.sub("", text.rstrip())
        if parts_inline.is_calendar(part):
            if text in calendars:
                continue
            calendars.add(text)
        if text:
            texts.append(text)
        if budget <= 0:
            break
    return "\n\n".join(texts)


def _size(count: int) -> str:
    return f"{count // (1024 * 1024)} MB" if count >= 1024 * 1024 else f"{count // 1024} KB"


def _fallback_body(parts: list[MimePart], exclude: set[int]) -> list[MimePart]:
    """What to show of a message whose body has no text: its first text part (named or inline),
    else the text of a multipart that did not split, else its first text attachment (as mutt
    and Thunderbird show one by default: a report or a log sent with no words around it)."""
    for part in parts:
        if part.children or part.index in exclude:
            continue
        if _is_text_body(part):
            return [part]
        if part.maintype == "multipart":
            return [part]
    for part in parts:
        if not part.children and part.index not in exclude and part.content_type in _BODY_TYPES:
            return [part]
    return []


def extract_part(raw: bytes, attachment: Attachment) -> tuple[str, bytes]:
    """The safe file name and decoded payload of one listed attachment, read alone from its span
    in ``raw`` (the message it was listed from): the rest of the message is not parsed again.

    An attached message (message/rfc822) comes back as its bytes. An attachment listed without
    a span (made elsewhere than ``render_message``) is found by its number instead.
    """
    if not 0 <= attachment.start < attachment.end <= len(raw):
        return extract_attachment(raw, attachment.part_index)
    part = read_part(raw, attachment.start, attachment.end)
    if part.content_type != attachment.content_type and not part.header("content-type"):
        part.content_type = attachment.content_type  # a digest's parts are message/rfc822 by default
    return _attachment_name(part), _decoded(part)


def extract_attachment(raw: bytes, part_index: int) -> tuple[str, bytes]:
    """The safe file name and decoded payload of the part numbered ``part_index``.

    An attached message (message/rfc822) comes back as its bytes. Raises ValueError when the
    message has no such part.
    """
    parts = read_structure(raw).parts
    if not 0 <= part_index < len(parts):
        raise ValueError(f"no part {part_index} in this message ({len(parts)} parts)")
    part = parts[part_index]
    if part.children:
        raise ValueError(f"part {part_index} is a multipart container, not an attachment")
    return _attachment_name(part), _decoded(part)


def _decoded(part: MimePart) -> bytes:
    if part.content_type in _MESSAGE_TYPES:
        return part.payload() if part.transfer_encoding in ("base64", "quoted-printable") else part.body()
    return part.payload()
