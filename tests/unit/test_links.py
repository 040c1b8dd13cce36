"""The links of a message: URLs in plain text, anchors in HTML with their real targets, the
phishing tell, and mailto links as the fields of a new message."""

from __future__ import annotations

import base64

from mailbag.domain.compose import Identity, new_draft
from mailbag.domain.links import Link, find_urls, html_links, message_links, text_links
from mailbag.domain.mailto import parse_mailto
from mailbag.services.browser import browser_command


def msg(headers: str, body: str) -> bytes:
    return (headers.strip("\n") + "\n\n" + body).replace("\n", "\r\n").encode("utf-8")


def test_urls_in_text_lose_the_punctuation_around_them_but_keep_their_own_brackets() -> None:
    text = (
        "See https://en.wikipedia.org/wiki/Mutt_(email_client). Or <http://example.org/a?b=1&c=2>,\n"
        "(mailto:help@example.org) and \"https://example.net/x\"; not https:// alone."
    )
    assert [url for _, _, url in find_urls(text)] == [
        "https://en.wikipedia.org/wiki/Mutt_(email_client)",
        "http://example.org/a?b=1&c=2",
        "mailto:help@example.org",
        "https://example.net/x",
    ]
    start, end, url = find_urls(text)[0]
    assert text[start:end] == url


def test_a_plain_text_body_lists_each_url_once() -> None:
    links = text_links("Go to https://a.example/1 and https://b.example/2, then https://a.example/1 again")
    assert links == [Link("https://a.example/1"), Link("https://b.example/2")]


def test_an_anchor_gives_its_href_not_its_text() -> None:
    html = (
        '<p>Your parcel: <a href="https://track.example/A-1042?utm=x&amp;id=7">Track it</a>.</p>'
        '<p>Or read <a href="mailto:help@shop.example?subject=Parcel">help@shop.example</a>, '
        "or https://shop.example/faq written out.</p>"
        '<a href="#top">top</a><a>no href</a>'
        "<script>var u = 'https://script.example/';</script>"
    )
    assert html_links(html) == [
        Link("https://track.example/A-1042?utm=x&id=7", "Track it"),
        Link("mailto:help@shop.example?subject=Parcel", "help@shop.example"),
        Link("https://shop.example/faq"),
    ]


def test_javascript_and_file_targets_are_listed_but_cannot_be_opened() -> None:
    html = (
        '<a href=" java&#10;script:alert(1)">Open</a>'
        '<a href="file:///etc/passwd">passwords</a>'
        '<a href="JavaScript:void(0)">x</a>'
        '<a href="HTTPS://Example.org/">ok</a>'
    )
    links = html_links(html)
    assert [link.target for link in links] == [
        "javascript:alert(1)",  # what a browser reads: the line break inside does not hide it
        "file:///etc/passwd",
        "JavaScript:void(0)",
        "HTTPS://Example.org/",
    ]
    assert [link.openable for link in links] == [False, False, False, True]


def test_text_naming_another_domain_than_the_target_is_the_phishing_tell() -> None:
    html = (
        '<a href="https://paypal.com.evil.example/login">https://www.paypal.com/login</a>'
        '<a href="https://evil.example/">paypal.com</a>'
        '<a href="mailto:eve@evil.example">bob@example.org</a>'
        '<a href="https://www.example.org/account">example.org</a>'
        '<a href="https://mail.example.org/">www.example.org</a>'
        '<a href="https://example.org/">Log in to your account</a>'
    )
    assert [link.text_domain for link in html_links(html)] == [
        "paypal.com",
        "paypal.com",
        "example.org",
        "",
        "",  # a subdomain of the domain named
        "",  # text that names no domain
    ]


def test_text_and_target_are_cleaned_of_control_characters_and_bidi_overrides() -> None:
    html = '<a href="https://example.org/\u202egnp.exe">\x1b[31mred\u202e text</a>'
    assert html_links(html) == [Link("https://example.org/gnp.exe", "red text")]


def test_the_links_of_a_message_are_those_of_the_body_the_reader_shows() -> None:
    html = '<p><a href="https://example.org/html-only">Read online</a></p>'
    raw = msg(
        """
Subject: newsletter
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="m"
""",
        f"""--m
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: base64

{base64.b64encode(html.encode()).decode()}
--m
Content-Type: text/plain; name=notes.txt
Content-Disposition: attachment; filename=notes.txt

https://example.org/in-an-attachment
--m--
""",
    )
    assert message_links(raw) == [Link("https://example.org/html-only", "Read online")]
    assert message_links(msg("Subject: s", "Plain https://example.org/p\n")) == [Link("https://example.org/p")]


def test_a_forwarded_message_shown_in_the_body_gives_its_links_too() -> None:
    raw = msg(
        """
Subject: Fwd: offer
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="m"
""",
        """--m
Content-Type: text/plain

See below.
--m
Content-Type: message/rfc822

Subject: offer
Content-Type: text/html

<p><a href="https://inner.example/offer">the offer</a></p>
--m--
""",
    )
    assert [link.target for link in message_links(raw)] == ["https://inner.example/offer"]


def test_a_mailto_link_fills_recipients_subject_and_body_but_no_hidden_recipient() -> None:
    fields = parse_mailto(
        "MAILTO:ann@example.org,bob%40example.org?cc=carol@example.org&subject=Hello%20there%0D%0ABcc:%20x@y"
        "&bcc=eve@evil.example&body=Line%201%0ALine+2&to=dave@example.org"
    )
    assert fields.to == "ann@example.org, bob@example.org, dave@example.org"
    assert fields.cc == "carol@example.org"
    assert fields.subject == "Hello there Bcc: x@y"  # one line: no header can be added
    assert fields.body == "Line 1\nLine+2"
    assert "eve" not in repr(fields)


def test_a_new_draft_from_a_mailto_keeps_the_signature_below_the_body() -> None:
    fields = parse_mailto("mailto:ann@example.org?subject=Hi&body=Hello")
    draft = new_draft(
        Identity("work", "me@example.org", "Me", "Me\nexample.org"),
        to=fields.to,
        subject=fields.subject,
        body=fields.body,
    )
    assert (draft.to, draft.subject) == ("ann@example.org", "Hi")
    assert draft.body == "Hello\n\n-- \nMe\nexample.org\n"


def test_the_browser_is_the_first_entry_of_browser_else_xdg_open_as_an_argument_list() -> None:
    url = "https://example.org/a?b=$(id);c"
    assert browser_command(url, {}) == ["xdg-open", url]
    assert browser_command(url, {"BROWSER": "firefox"}) == ["firefox", url]
    assert browser_command(url, {"BROWSER": "'/opt/my browser/run' --new-tab %s:lynx"}) == [
        "/opt/my browser/run", "--new-tab", url
    ]
    assert browser_command(url, {"BROWSER": ":w3m"}) == ["w3m", url]
