"""The configuration file: the documented shape loads, and every mistake gets a one-line message."""

from __future__ import annotations

from pathlib import Path

import pytest
import trustme

from mailbag.domain.config import ConfigError, ServerConfig, load_config, parse_config
from mailbag.protocols.imap import ImapSettings

DOCUMENTED = """\
[ui]
theme = "mailbag-dark"
[keymap]
"cursor_down" = "j,down"     # binding id -> comma-separated keys (Textual key names)
[accounts.work]
email = "me@example.org"
name = "Me Example"          # display name for From:
default = true
[accounts.work.imap]
host = "imap.example.org"
port = 993
security = "tls"              # "tls" (implicit) | "starttls" (required, never falls back) | "none"
username = "me"
password_command = "pass show mail/work"   # or password_env = "VAR", or keyring = true
ca_file = "/path/to/ca.pem"   # optional
[accounts.work.smtp]
host = "smtp.example.org"
port = 465
security = "tls"
username = "me"
password_command = "pass show mail/work"
"""

PATH = Path("config.toml")


def error_for(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        parse_config(text, PATH)
    message = str(info.value)
    assert "\n" not in message and "Traceback" not in message
    return info.value


def minimal(imap_body: str = 'host = "imap.example.org"\n', account: str = "") -> str:
    """An account with an [imap] table of ``imap_body`` (a password source is added when it has none)."""
    if "password_" not in imap_body and "keyring" not in imap_body:
        imap_body += "keyring = true\n"
    return f'[accounts.work]\nemail = "me@example.org"\n{account}[accounts.work.imap]\n{imap_body}'


def test_documented_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    ca = tmp_path / "ca.pem"
    trustme.CA().cert_pem.write_to_path(str(ca))
    path.write_text(DOCUMENTED.replace("/path/to/ca.pem", str(ca)), encoding="utf-8")
    config = load_config(path)
    assert config.path == path
    assert config.ui.theme == "mailbag-dark"
    assert config.keymap == {"cursor_down": "j,down"}
    work = config.accounts["work"]
    assert (work.name, work.email, work.display_name, work.default) == (
        "work",
        "me@example.org",
        "Me Example",
        True,
    )
    assert work.imap == ServerConfig(
        host="imap.example.org",
        port=993,
        security="tls",
        username="me",
        password_command="pass show mail/work",
        ca_file=ca,
    )
    assert work.smtp is not None and (work.smtp.host, work.smtp.port) == ("smtp.example.org", 465)
    assert work.pop3 is None and work.maildir is None
    assert config.default_account() is work


@pytest.mark.parametrize(
    ("protocol", "security", "port"),
    [
        ("imap", "tls", 993),
        ("imap", "starttls", 143),
        ("imap", "none", 143),
        ("smtp", "tls", 465),
        ("smtp", "starttls", 587),
        ("pop3", "tls", 995),
        ("pop3", "starttls", 110),
    ],
)
def test_default_port_by_protocol_and_security(protocol: str, security: str, port: int) -> None:
    text = (
        '[accounts.a]\nemail = "a@example.org"\nmaildir = "/tmp/m"\n'
        f'[accounts.a.{protocol}]\nhost = "h"\nsecurity = "{security}"\nkeyring = true\n'
    )
    server = getattr(parse_config(text, PATH).accounts["a"], protocol)
    assert server.port == port and server.security == security


def test_defaults() -> None:
    config = parse_config(minimal(), PATH)
    account = config.accounts["work"]
    assert account.imap is not None
    assert account.imap.security == "tls"
    assert account.imap.port == 993
    assert account.imap.username == "me@example.org"  # username defaults to the address
    assert account.display_name == "" and account.smtp is None
    assert config.ui.theme == "mailbag-dark" and config.keymap == {}


def test_first_account_is_default_when_none_says_so() -> None:
    text = (
        '[accounts.b]\nemail = "b@example.org"\nmaildir = "/m/b"\n'
        '[accounts.a]\nemail = "a@example.org"\nmaildir = "/m/a"\n'
    )
    config = parse_config(text, PATH)
    assert list(config.accounts) == ["b", "a"]
    assert config.default_account() is config.accounts["b"]


def test_empty_file_has_no_account() -> None:
    assert parse_config("", PATH).default_account() is None


def test_tilde_is_expanded_in_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    trustme.CA().cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    text = minimal('host = "h"\nca_file = "~/ca.pem"\n', account='maildir = "~/Mail"\n')
    account = parse_config(text, PATH).accounts["work"]
    assert account.maildir == tmp_path / "Mail"
    assert account.imap is not None and account.imap.ca_file == tmp_path / "ca.pem"


def test_a_server_without_a_password_source_is_an_error() -> None:
    error = error_for('[accounts.work]\nemail = "me@example.org"\n\n[accounts.work.imap]\nhost = "h"\n')
    assert str(error) == (
        "config.toml:4: accounts.work.imap: no password source: "
        "set password_command, password_env or keyring = true"
        " (or oauth2_token_command, or give the account an [oauth2] table)"
    )


def test_a_missing_ca_file_names_the_key_and_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "ca.pem"
    error = error_for(minimal(f'host = "h"\nca_file = "{missing}"\n'))
    assert str(error) == f"config.toml:5: accounts.work.imap.ca_file: no such file: {missing}"
    error = error_for(minimal(f'host = "h"\nca_file = "{tmp_path}"\n'))
    assert str(error) == f"config.toml:5: accounts.work.imap.ca_file: is not a file: {tmp_path}"
    too_long = tmp_path / ("x" * 300)  # the system's error, not a traceback
    error = error_for(minimal(f'host = "h"\nca_file = "{too_long}"\n'))
    assert str(error) == f"config.toml:5: accounts.work.imap.ca_file: cannot be read (File name too long): {too_long}"


def test_a_ca_file_without_a_pem_certificate_names_the_key_and_what_it_must_be(tmp_path: Path) -> None:
    """A DER certificate, a private key or anything else: said when the config is read, not as
    a TLS library's error at the first connection."""
    for content in (b"\x30\x82\x03\x0d\x30\x82", b"-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n", b"x"):
        wrong = tmp_path / "ca.crt"
        wrong.write_bytes(content)
        error = error_for(minimal(f'host = "h"\nca_file = "{wrong}"\n'))
        assert str(error).startswith(f"config.toml:5: accounts.work.imap.ca_file: {wrong} holds no certificate")
        assert str(error).endswith("it must be PEM text (-----BEGIN CERTIFICATE-----)")


def test_unknown_key_in_server_table_names_its_line_and_suggests() -> None:
    error = error_for(minimal('host = "h"\nusername = "me"\npasword_command = "pass x"\n'))
    assert (error.line, error.key) == (6, "accounts.work.imap.pasword_command")
    assert str(error) == (
        'config.toml:6: accounts.work.imap.pasword_command: unknown key (did you mean "password_command"?)'
    )


def test_two_accounts_on_one_maildir_is_an_error_that_names_the_second() -> None:
    text = (
        '[accounts.home]\nemail = "me@home.example"\nmaildir = "/mail/home"\n\n'
        '[accounts.old]\nemail = "me@old.example"\nmaildir = "/mail/other/../home/"\n'
        '[accounts.old.pop3]\nhost = "pop.old.example"\nusername = "me"\npassword_env = "X"\n'
    )
    assert str(error_for(text)) == (
        "config.toml:7: accounts.old.maildir: /mail/other/../home is the maildir of account home too;"
        " give each account its own"
    )
    assert len(parse_config(text.replace("other/../home/", "old"), PATH).accounts) == 2


def test_unknown_top_level_key_lists_known_keys() -> None:
    error = error_for('[ui]\ntheme = "x"\n\n[colours]\nred = 1\n')
    assert str(error) == "config.toml:4: colours: unknown key (known keys: ui, keymap, accounts, searches)"


def test_bad_security_value_names_its_line() -> None:
    error = error_for(minimal('host = "h"\nport = 993\nsecurity = "ssl"\n'))
    assert str(error) == (
        'config.toml:6: accounts.work.imap.security: must be one of tls, starttls, none, not "ssl"'
    )


@pytest.mark.parametrize("nested", ["[" * 100_000 + "]" * 100_000, "{a = " * 5000 + "1" + "}" * 5000])
def test_values_nested_too_deep_to_read_name_their_line(nested: str) -> None:
    # tomllib reads them recursively: the RecursionError was a traceback.
    assert str(error_for(f'[ui]\ntheme = "dark"\nx = {nested}\n')) == "config.toml:3: values nested too deep to read"


def test_syntax_error_names_its_line() -> None:
    error = error_for('[ui]\ntheme = "dark"\n[accounts.work]\nemail = me@example.org\n')
    assert error.line == 4
    assert str(error).startswith("config.toml:4: TOML syntax error: ")


@pytest.mark.parametrize(
    ("imap_body", "line", "key", "problem"),
    [
        ('host = "h"\nport = 0\n', 5, "accounts.work.imap.port", "0 is out of range (1..65535)"),
        ('host = "h"\nport = 70000\n', 5, "accounts.work.imap.port", "70000 is out of range (1..65535)"),
        ('host = "h"\nport = "993"\n', 5, "accounts.work.imap.port", "must be a number"),
        ("host = 12\n", 4, "accounts.work.imap.host", "must be a string"),
        ('port = 993\n', 3, "accounts.work.imap.host", "required key is missing"),
        ('host = "h"\nkeyring = "yes"\n', 5, "accounts.work.imap.keyring", "must be true or false"),
        (
            'host = "h"\npassword_command = "pass x"\npassword_env = "PW"\n',
            6,
            "accounts.work.imap.password_env",
            "choose one password source, not password_command and password_env",
        ),
    ],
)
def test_wrong_values(imap_body: str, line: int, key: str, problem: str) -> None:
    error = error_for(minimal(imap_body))
    assert (error.line, error.key, error.problem) == (line, key, problem)
    assert str(error) == f"config.toml:{line}: {key}: {problem}"


def test_account_without_a_mail_source() -> None:
    error = error_for('[ui]\n\n[accounts.home]\nemail = "me@example.org"\n')
    assert error.line == 3 and error.key == "accounts.home"
    assert "needs an [imap] or [pop3] table, or a maildir path" in error.problem


def test_missing_email() -> None:
    error = error_for('[accounts.home]\nmaildir = "/m"\n')
    assert str(error) == "config.toml:1: accounts.home.email: required key is missing"


def test_two_defaults_is_an_error() -> None:
    text = (
        '[accounts.a]\nemail = "a@x.org"\nmaildir = "/m"\ndefault = true\n'
        '[accounts.b]\nemail = "b@x.org"\nmaildir = "/n"\ndefault = true\n'
    )
    error = error_for(text)
    assert (error.line, error.key) == (8, "accounts.b.default")


def test_dotted_keys_and_inline_tables_get_lines() -> None:
    text = (
        'accounts.w.email = "w@example.org"\n'
        "\n"
        'accounts.w.imap = { host = "h", port = 99999 }\n'
    )
    error = error_for(text)
    assert (error.line, error.key) == (3, "accounts.w.imap.port")


def test_multiline_strings_do_not_confuse_line_numbers() -> None:
    text = minimal('host = "h"\npassword_command = """\nsecurity = "x"\n"""\nsecurity = "ssl"\n')
    assert error_for(text).line == 8


def test_keymap_values_must_be_key_lists() -> None:
    error = error_for('[keymap]\nquit = "q"\ncursor_down = 5\n')
    assert (error.line, error.key) == (3, "keymap.cursor_down")
    assert parse_config('[keymap]\nquit = "q, ctrl+q"\n', PATH).keymap == {"quit": "q,ctrl+q"}


def test_missing_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == f"{path}: file not found"


def test_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b'[ui]\ntheme = "caf\xe9"\n')
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == f"{path}:2: not valid UTF-8 text"


def test_ui_notify_threads_and_saved_searches() -> None:
    config = parse_config(
        '[ui]\nnotify = "both"\nthreads = true\n\n[searches]\n"Flagged" = "is:flagged"\n',
        Path("config.toml"),
    )
    assert config.ui.notify == "both" and config.ui.threads is True
    assert config.searches == {"Flagged": "is:flagged"}


def test_bad_notify_value_names_its_line() -> None:
    error = error_for('[ui]\ntheme = "x"\nnotify = "loud"\n')
    assert str(error) == 'config.toml:3: ui.notify: must be one of bell, desktop, both, none, not "loud"'


def test_ui_layout_is_auto_unless_set_and_must_be_a_known_one() -> None:
    assert parse_config("", Path("config.toml")).ui.layout == "auto"
    assert parse_config('[ui]\nlayout = "stacked"\n', Path("config.toml")).ui.layout == "stacked"
    error = error_for('[ui]\nlayout = "rows"\n')
    assert str(error) == 'config.toml:2: ui.layout: must be one of auto, columns, stacked, not "rows"'


def test_poll_interval_and_subject_threading() -> None:
    config = parse_config(
        '[ui]\nthread_by_subject = true\n\n[accounts.work]\nemail = "me@example.org"\n\n'
        '[accounts.work.imap]\nhost = "h"\npoll_seconds = 120\nkeyring = true\n',
        Path("config.toml"),
    )
    imap = config.accounts["work"].imap
    assert config.ui.thread_by_subject is True
    assert imap is not None and imap.poll_seconds == 120
    assert imap.poll_seconds != ServerConfig("h", 993, "tls", "u").poll_seconds


def test_bad_poll_interval_names_its_line() -> None:
    error = error_for(minimal('host = "h"\npoll_seconds = 1\n'))
    assert "poll_seconds: 1 is out of range (5..3600)" in str(error)


def test_server_timeout() -> None:
    imap = parse_config(minimal('host = "h"\ntimeout = 2.5\n'), PATH).accounts["work"].imap
    default = parse_config(minimal(), PATH).accounts["work"].imap
    assert imap is not None and imap.timeout == 2.5
    assert default is not None and default.timeout == 30
    assert "imap.timeout: 0 is out of range (1..600)" in str(error_for(minimal('host = "h"\ntimeout = 0\n')))
    assert "imap.timeout: must be a number of seconds" in str(error_for(minimal('host = "h"\ntimeout = "9"\n')))


def test_imap_link_watch_intervals() -> None:
    body = ('host = "h"\nkeepalive_seconds = 10\nkeepalive_timeout = 5\nidle_check_seconds = 30\n'
            "reconnect_max_seconds = 600\n")
    imap = parse_config(minimal(body), PATH).accounts["work"].imap
    assert imap is not None
    assert (imap.keepalive_seconds, imap.keepalive_timeout, imap.idle_check_seconds,
            imap.reconnect_max_seconds) == (10, 5, 30, 600)
    default = parse_config(minimal(), PATH).accounts["work"].imap
    assert default is not None
    assert (default.keepalive_seconds, default.keepalive_timeout, default.idle_check_seconds,
            default.reconnect_max_seconds) == (30, 20, 60, 120)


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("keepalive_seconds = 2", "imap.keepalive_seconds: 2 is out of range (5..3600)"),
        ("keepalive_timeout = 0", "imap.keepalive_timeout: 0 is out of range (1..600)"),
        ("idle_check_seconds = 7200", "imap.idle_check_seconds: 7200 is out of range (10..1800)"),
        ('reconnect_max_seconds = "1m"', "imap.reconnect_max_seconds: must be a number of seconds"),
    ],
)
def test_bad_link_watch_intervals_name_their_line(line: str, problem: str) -> None:
    error = error_for(minimal(f'host = "h"\n{line}\n'))
    assert str(error) == f"config.toml:5: accounts.work.{problem}"


def test_compress_is_on_unless_the_imap_table_says_no() -> None:
    default = parse_config(minimal(), PATH).accounts["work"].imap
    assert default is not None and default.compress is True
    imap = parse_config(minimal('host = "h"\ncompress = false\n'), PATH).accounts["work"].imap
    assert imap is not None and imap.compress is False
    assert ImapSettings.of(imap, "password").compress is False
    assert str(error_for(minimal('host = "h"\ncompress = "no"\n'))).startswith(
        "config.toml:5: accounts.work.imap.compress: must be true or false"
    )
    smtp = minimal() + '[accounts.work.smtp]\nhost = "s"\nkeyring = true\ncompress = true\n'
    assert "smtp.compress: unknown key" in str(error_for(smtp))


def test_link_watch_intervals_belong_to_imap_only() -> None:
    text = minimal() + '[accounts.work.smtp]\nhost = "s"\nkeyring = true\nkeepalive_seconds = 10\n'
    assert "smtp.keepalive_seconds: unknown key" in str(error_for(text))


def test_theme_file_mistakes_name_the_file_line_and_key(tmp_path: Path) -> None:
    from mailbag.ui.themes import ThemeError, load_theme

    bad = tmp_path / "bad.toml"
    bad.write_text("name = 'bad'\n[colors]\nprimary = '#ffffff'\nprimry = '#ffffff'\n")
    with pytest.raises(ThemeError) as info:
        load_theme(bad)
    assert str(info.value).startswith(f"{bad}:4: colors.primry: unknown colour (known: primary, ")

    bad.write_text("name = 'bad'\n\n[colors\nprimary = '#ffffff'\n")
    with pytest.raises(ThemeError) as info:
        load_theme(bad)
    assert str(info.value).startswith(f"{bad}:3: TOML syntax error: ")

    bad.write_text("name = 'bad'\nx = " + "[" * 100_000 + "]" * 100_000 + "\n")
    with pytest.raises(ThemeError) as info:
        load_theme(bad)
    assert str(info.value) == f"{bad}:2: values nested too deep to read"

    bad.write_text("name = 'bad'\n\n[colors]\nsecondary = '#ffffff'\n")
    with pytest.raises(ThemeError) as info:
        load_theme(bad)
    assert str(info.value) == f"{bad}:3: colors: must set at least primary"


SIGNED = """\
[ui]
editor = "vim -c 'set tw=72'"
[accounts.work]
email = "me@example.org"
maildir = "/tmp/mail"
{signature}
"""


def test_the_address_book_command_is_a_string_of_the_ui_table() -> None:
    text = SIGNED.format(signature="").replace("[ui]\n", '[ui]\naddress_command = "khard email --parsable %s"\n')
    assert parse_config(text, PATH).ui.address_command == "khard email --parsable %s"
    assert parse_config(SIGNED.format(signature=""), PATH).ui.address_command == ""
    wrong = SIGNED.format(signature="").replace("[ui]\n", "[ui]\naddress_command = 3\n")
    assert str(error_for(wrong)).startswith("config.toml:2: ui.address_command: must be")


def test_signature_text_or_file_and_the_editor(tmp_path: Path) -> None:
    config = parse_config(SIGNED.format(signature='signature = "Me\\nexample.org"'), PATH)
    assert config.accounts["work"].signature == "Me\nexample.org"
    assert config.ui.editor == "vim -c 'set tw=72'"
    sig = tmp_path / "sig.txt"
    sig.write_text("From a file\n", encoding="utf-8")
    config = parse_config(SIGNED.format(signature=f'signature_file = "{sig}"'), PATH)
    assert config.accounts["work"].signature == "From a file\n"
    assert parse_config(SIGNED.format(signature=""), PATH).accounts["work"].signature == ""


def test_signature_mistakes_name_the_line(tmp_path: Path) -> None:
    missing = tmp_path / "nope.txt"
    error = error_for(SIGNED.format(signature=f'signature_file = "{missing}"'))
    assert str(error) == f"config.toml:6: accounts.work.signature_file: no such file: {missing}"
    error = error_for(SIGNED.format(signature=f'signature = "x"\nsignature_file = "{missing}"'))
    assert str(error) == "config.toml:7: accounts.work.signature_file: choose signature or signature_file, not both"
    assert str(error_for(SIGNED.format(signature="signature = 3"))) == (
        "config.toml:6: accounts.work.signature: must be a string"
    )


def test_save_sent_is_an_smtp_key() -> None:
    smtp = '\n[accounts.work.smtp]\nhost = "smtp.h"\npassword_env = "P"\n'
    config = parse_config(minimal() + smtp + "save_sent = false\n", PATH)
    default = parse_config(minimal() + smtp, PATH)
    assert config.accounts["work"].smtp is not None and not config.accounts["work"].smtp.save_sent
    assert default.accounts["work"].smtp is not None and default.accounts["work"].smtp.save_sent
    assert "imap.save_sent: unknown key" in str(error_for(minimal('host = "h"\nsave_sent = false\n')))
    assert "smtp.save_sent: must be true or false" in str(error_for(minimal() + smtp + 'save_sent = "no"\n'))


def test_gmails_smtp_server_keeps_the_sent_copy_itself_unless_told_otherwise() -> None:
    gmail = '\n[accounts.work.smtp]\nhost = "smtp.gmail.com"\npassword_env = "P"\n'
    account = parse_config(minimal() + gmail, PATH).accounts["work"]
    assert account.smtp is not None and not account.smtp.save_sent  # a second copy, else
    account = parse_config(minimal() + gmail + "save_sent = true\n", PATH).accounts["work"]
    assert account.smtp is not None and account.smtp.save_sent


def test_a_certificate_pin_is_read_in_any_usual_spelling() -> None:
    digits = "AB:" * 31 + "CD"
    config = parse_config(minimal(f'host = "h"\ntls_fingerprint = "SHA256:{digits}"\n'), PATH)
    imap = config.accounts["work"].imap
    assert imap is not None and imap.tls_fingerprint == "sha256:" + "ab" * 31 + "cd"


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ('tls_fingerprint = "sha1:' + "ab" * 20 + '"',
         "must be \"sha256:\" and the 64 hex digits of the certificate's SHA-256"),
        ('tls_fingerprint = "sha256:' + "ab" * 31 + '"',
         "must be \"sha256:\" and the 64 hex digits of the certificate's SHA-256"),
        ('security = "none"\ntls_fingerprint = "sha256:' + "ab" * 32 + '"',
         'needs TLS: security = "none" has no certificate to pin'),
    ],
    ids=["not sha256", "too short", "no TLS"],
)
def test_a_wrong_certificate_pin_names_the_key(body: str, problem: str) -> None:
    error = error_for(minimal(f'host = "h"\n{body}\n'))
    assert error.key == "accounts.work.imap.tls_fingerprint" and error.problem == problem
