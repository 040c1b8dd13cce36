"""The cache's version, apart from the schema so that reading it needs no SQLAlchemy."""

#: Bump when a CACHE table changes shape: the cache is then rebuilt from the server.
CACHE_VERSION = 6
