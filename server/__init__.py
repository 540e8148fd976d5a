"""The top floor: the `tensorlint` CLI and the language server. No analysis logic lives here."""
