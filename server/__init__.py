"""The top floor: the `tensorlint` CLI and the language server. No analysis logic lives here."""

import functools


@functools.cache
def installed_version() -> str:
    """The installed tensorlint's version ("0" when it is not installed); read once, as finding it scans every
    installed distribution."""
    try:
        from importlib.metadata import version as distribution_version

        return distribution_version("tensorlint")
    except Exception:
        return "0"
