"""Every real-world message of the shared corpus renders without an exception, to clean text.

The corpus is not part of the repository: it lies beside the checkout in ``shared/corpus``
(override with MAILBAG_CORPUS). Without it the test is skipped, saying why, except under CI
(``CI`` set), where a missing corpus fails. How fast the corpus renders: python -m bench.parsing
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mailbag.domain.mime import extract_attachment, render_message

CORPUS = Path(
    os.environ.get("MAILBAG_CORPUS")
    or Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
)
MISSING = (
    f"message corpus not found at {CORPUS}: it lies beside the checkout in shared/corpus, "
    "or set MAILBAG_CORPUS to a folder of .eml files"
)
FILES = sorted(CORPUS.rglob("*.eml")) if CORPUS.is_dir() else []


@pytest.mark.parametrize(
    "path",
    FILES or [None],  # without a corpus, one case that says so (never an empty parameter set)
    ids=[str(p.relative_to(CORPUS)) for p in FILES] or ["corpus-missing"],
)
def test_message_renders(path: Path | None) -> None:
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{MISSING} (CI is set, so the corpus must be there)")
        pytest.skip(MISSING)
    raw = path.read_bytes()
    rendered = render_message(raw)
    for attachment in rendered.attachments:
        name, payload = extract_attachment(raw, attachment.part_index)
        assert name == attachment.filename and isinstance(payload, bytes)
    texts = [rendered.subject, rendered.body, *(a.filename for a in rendered.attachments)]
    texts += [address.name for address in (*rendered.from_, *rendered.to, *rendered.cc)]
    for text in texts:
        assert not any(ord(ch) < 32 and ch not in "\n\t" for ch in text)
        assert "\x1b" not in text and not any(0x7F <= ord(ch) <= 0x9F for ch in text)
