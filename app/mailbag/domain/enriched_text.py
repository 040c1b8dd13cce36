"""text/enriched (RFC 1896) and its forerunner text/richtext (RFC 1341 7.1.3) as plain text, as
mutt shows them: the formatting commands left out, their text kept.

In text/enriched a single line break is a space and each further one a line break, except inside
``<nofill>``, where lines are kept as they are; ``<<`` is a ``<``; what ``<param>`` holds is no
text. In text/richtext every line break is a space; ``<nl>`` breaks the line, ``<np>`` the page
(shown as a blank line) and ``<lt>`` is a ``<``. Linear in the input: one pass, no recursion.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r"<<|<(/?)([A-Za-z0-9-]{1,60})>|\r\n|\n|[^<\r\n]+|<|\r")


def enriched_to_text(source: str, richtext: bool = False) -> str:
    """The text of ``source``, a text/enriched body (text/richtext with ``richtext``)."""
    out: list[str] = []
    nofill = 0  # inside <nofill>: line breaks kept
    param = 0  # inside <param>: not text
    breaks = 0  # line breaks met in a row, not yet written
    for match in _TOKEN.finditer(source):
        token = match.group()
        if token in ("\r\n", "\n"):
            if param:
                continue
            if nofill or richtext:
                out.append("\n" if nofill else " ")
            else:
                breaks += 1
            continue
        if breaks:
            out.append(" " if breaks == 1 else "\n" * (breaks - 1))
            breaks = 0
        name = match.group(2)
        if name is not None:
            name = name.lower()
            closing = bool(match.group(1))
            if name == "param" and not richtext:
                param = max(param - 1, 0) if closing else param + 1
            elif name == "nofill" and not richtext:
                nofill = max(nofill - 1, 0) if closing else nofill + 1
            elif richtext and not closing and name in ("nl", "np", "lt"):
                out.append({"nl": "\n", "np": "\n\n", "lt": "<"}[name])
            continue
        if param:
            continue
        out.append("<" if token == "<<" else token)
    if breaks > 1:
        out.append("\n" * (breaks - 1))
    return "".join(out)
