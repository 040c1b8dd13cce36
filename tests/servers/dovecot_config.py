"""The dovecot.conf of the private test server, written from a template."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

#: Loopback addresses of the variant listeners (clients connect from 127.0.0.1, so Dovecot
#: does not count them as local).
UNTRUSTED_HOST = "127.0.0.2"
NO_NOTIFY_HOST = "127.0.0.3"
#: A plain IMAP listener that looks like a minimal older server: it advertises IMAP4rev1 and
#: nothing optional (no IDLE, MOVE, UIDPLUS, CONDSTORE, SPECIAL-USE, NOTIFY ...), and lays the
#: folders out Courier/Cyrus style: the Inbox's children as ``INBOX.Sent``, ``.`` separated.
#: Dovecot still accepts the commands it no longer advertises (mailbag must not send them), and
#: still sends special-use attributes in LIST and COPYUID codes.
COMPAT_HOST = "127.0.0.4"
#: What the compat listener advertises once logged in (and before, with STARTTLS and AUTH=).
COMPAT_CAPABILITY = "IMAP4rev1"
#: An IMAP listener (implicit TLS) whose sessions offer COMPRESS=DEFLATE (RFC 4978), as Gmail,
#: Fastmail and many Dovecot installations do; the others leave it out, so that the figures of
#: the benchmarks, which use them, are those of a link without it.
COMPRESS_HOST = "127.0.0.5"

SPECIAL_FOLDERS = {
    "Drafts": r"\Drafts",
    "Sent": r"\Sent",
    "Trash": r"\Trash",
    "Junk": r"\Junk",
    "Archive": r"\Archive",
}


@dataclass(frozen=True)
class ConfigParams:
    """Everything that varies between two test servers."""

    base: Path
    imap_port: int
    imaps_port: int
    pop3_port: int
    pop3s_port: int
    lmtp_port: int
    mail_uid: int
    mail_gid: int
    login_user: str
    internal_user: str
    privileged: bool
    internal_group: str | None = None
    #: A listener on UNTRUSTED_HOST: Dovecot sees a non-local client there, not a secure one, and
    #: keeps its default ``disable_plaintext_auth = yes`` (LOGINDISABLED until STARTTLS).
    untrusted_imap_port: int = 0
    #: A plain IMAP listener on NO_NOTIFY_HOST whose sessions run without mailbox list indexes,
    #: so the server offers no NOTIFY there.
    no_notify_imap_port: int = 0
    #: A plain IMAP listener on COMPAT_HOST (see there).
    compat_imap_port: int = 0
    #: An implicit-TLS IMAP listener on COMPRESS_HOST (see there).
    compress_imaps_port: int = 0

    @property
    def users_dir(self) -> Path:
        """One passwd-file per user, named after the user."""
        return self.base / "users"

    @property
    def home_root(self) -> Path:
        return self.base / "home"

    @property
    def log_path(self) -> Path:
        return self.base / "dovecot.log"

    @property
    def cert_file(self) -> Path:
        return self.base / "server.pem"

    @property
    def key_file(self) -> Path:
        return self.base / "server.key"


def render(p: ConfigParams) -> str:
    """Return a complete dovecot.conf that reads nothing from /etc/dovecot."""
    mailboxes = "\n".join(
        f"  mailbox {name} {{\n    special_use = {flag}\n    auto = subscribe\n  }}"
        for name, flag in SPECIAL_FOLDERS.items()
    )
    # A namespace's separator cannot be set in a local block (Dovecot 2.3 ignores it there, and
    # the folders' special_use too, so LIST still shows \Trash etc. on the compat listener):
    # the userdb sets it by the address the client reached.
    separator = f"%{{if;%{{lip}};eq;{COMPAT_HOST};.;/}}"
    # Without root, login processes cannot chroot.
    no_chroot = "" if p.privileged else "  chroot =\n"
    group = "" if p.internal_group is None else f"default_internal_group = {p.internal_group}\n"
    return f"""\
# Private mailbag test server. Generated; do not edit.
base_dir = {p.base}/run
state_dir = {p.base}/state
instance_name = mailbag-test-{p.imap_port}
log_path = {p.log_path}
info_log_path = {p.log_path}
log_timestamp = "%Y-%m-%d %H:%M:%S "

listen = 127.0.0.1
protocols = imap pop3 lmtp
default_login_user = {p.login_user}
default_internal_user = {p.internal_user}
{group}first_valid_uid = 1
first_valid_gid = 1

ssl = yes
ssl_cert = <{p.cert_file}
ssl_key = <{p.key_file}
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_username_format = %Ln
auth_failure_delay = 0
auth_cache_size = 0

passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%Ln {p.users_dir}/%Ln
}}
userdb {{
  driver = static
  args = uid={p.mail_uid} gid={p.mail_gid} home={p.home_root}/%Ln \\
    namespace/inbox/separator={separator}
}}

mail_location = mdbox:~/mdbox
mail_fsync = never
mailbox_list_index = yes
mailbox_idle_check_interval = 1 secs
mail_plugins = $mail_plugins notify

namespace inbox {{
  inbox = yes
  separator = /
{mailboxes}
}}

local {UNTRUSTED_HOST} {{
  disable_plaintext_auth = yes
}}
local {NO_NOTIFY_HOST} {{
  protocol imap {{
    mailbox_list_index = no
  }}
}}
local {COMPRESS_HOST} {{
  protocol imap {{
    mail_plugins = $mail_plugins imap_zlib
  }}
}}
local {COMPAT_HOST} {{
  namespace inbox {{
    prefix = INBOX.
  }}
  protocol imap {{
    imap_capability = {COMPAT_CAPABILITY}
    mailbox_list_index = no
  }}
}}

protocol imap {{
  mail_max_userip_connections = 200
  imap_idle_notify_interval = 1 mins
}}
protocol pop3 {{
  mail_max_userip_connections = 200
  pop3_uidl_format = %08Xu%08Xv
}}
protocol lmtp {{
  postmaster_address = postmaster@example.test
}}

service imap-login {{
  inet_listener imap {{
    port = {p.imap_port}
  }}
  inet_listener imaps {{
    port = {p.imaps_port}
    ssl = yes
  }}
  inet_listener imap_untrusted {{
    address = {UNTRUSTED_HOST}
    port = {p.untrusted_imap_port}
  }}
  inet_listener imap_no_notify {{
    address = {NO_NOTIFY_HOST}
    port = {p.no_notify_imap_port}
  }}
  inet_listener imap_compat {{
    address = {COMPAT_HOST}
    port = {p.compat_imap_port}
  }}
  inet_listener imaps_compress {{
    address = {COMPRESS_HOST}
    port = {p.compress_imaps_port}
    ssl = yes
  }}
{no_chroot}}}
service pop3-login {{
  inet_listener pop3 {{
    port = {p.pop3_port}
  }}
  inet_listener pop3s {{
    port = {p.pop3s_port}
    ssl = yes
  }}
{no_chroot}}}
service lmtp {{
  inet_listener lmtp {{
    port = {p.lmtp_port}
  }}
}}
service anvil {{
  # Nobody may reach the penalty socket, which turns off Dovecot's growing
  # delay after failed logins (tests log in wrongly on purpose, all from
  # 127.0.0.1).
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
{no_chroot}}}
"""
