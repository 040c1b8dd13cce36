"""POP3 (RFC 1939 with CAPA, STLS, SASL PLAIN and APOP): a client on asyncio streams."""
