"""A private Dovecot that also takes OAuth2 logins (OAUTHBEARER, XOAUTH2): its oauth2 passdb asks
the test provider's introspection endpoint (:mod:`tests.servers.token_endpoint`) whether a token
is good and whose it is. A second instance, so the session's Dovecot stays as it is."""

from __future__ import annotations

from tests.servers.dovecot import DovecotServer

PLAIN_MECHANISMS = "auth_mechanisms = plain login\n"


class OAuthDovecot(DovecotServer):
    """:class:`DovecotServer` with the oauth2 passdb pointed at ``introspection_url``."""

    def __init__(self, introspection_url: str) -> None:
        self.introspection_url = introspection_url
        super().__init__()

    def _prepare(self) -> None:
        super()._prepare()
        settings = self.base / "oauth2.conf.ext"
        settings.write_text(
            "introspection_mode = post\n"
            f"introspection_url = {self.introspection_url}\n"
            "force_introspection = yes\n"
            "username_attribute = username\n"
            "active_attribute = active\n"
            "active_value = true\n"
        )
        settings.chmod(0o644)
        config = self.config_path.read_text()
        assert PLAIN_MECHANISMS in config
        config = config.replace(
            PLAIN_MECHANISMS, "auth_mechanisms = plain login oauthbearer xoauth2\n"
        ).replace(
            "passdb {\n  driver = passwd-file\n",
            "passdb {\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n"
            f"  args = {settings}\n}}\npassdb {{\n  driver = passwd-file\n  mechanisms = plain login\n",
        )
        # The static userdb looks a user up in the passdbs unless told not to, and the oauth2
        # passdb answers no lookup (deliveries over LMTP would fail).
        config = config.replace("driver = static\n  args = uid=", "driver = static\n  args = allow_all_users=yes uid=")
        self.config_path.write_text(config)
