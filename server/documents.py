"""The server's own document model and protocol edges, so that what the client means is what we analyse.

* Lines: LSP (and every editor) breaks lines only at ``\\n``, ``\\r\\n`` and ``\\r``; pygls' document splits with
  ``str.splitlines()``, which also breaks at form feeds, ``\\x85``, ``\\u2028`` and more, so an incremental change
  after such a character was applied one line off. :class:`LspTextDocument` splits as LSP does.
* Text for analysis: a lone surrogate is legal in JSON but not in UTF-8; :func:`analysable` replaces each with
  U+FFFD, one code point and one UTF-16 unit for another, so every position stays where it was.
* Protocol: every request gets an answer (-32602 for params that do not fit the method, -32002 before
  ``initialize``, -32600 for a second ``initialize`` or anything after ``shutdown``); a client's mistake in a
  notification is logged, never shown to the user.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Sequence
from urllib.parse import unquote

from lsprotocol import types
from pygls.exceptions import (JsonRpcException, JsonRpcInternalError, JsonRpcInvalidParams, JsonRpcInvalidRequest,
                              JsonRpcServerNotInitialized)
from pygls.protocol import LanguageServerProtocol
from pygls.workspace import TextDocument, Workspace

from ..analyzers.lines import lines_with_breaks

log = logging.getLogger("tensorlint.server")

_SURROGATE = re.compile("[\ud800-\udfff]")


def analysable(text: str) -> str:
    """``text`` with each lone surrogate replaced by U+FFFD (positions unchanged in every encoding's units)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text)
    return text


def split_lines(text: str) -> list[str]:
    """Lines with their endings, plus the empty last line that follows a final line break."""
    lines = lines_with_breaks(text)
    if not lines or lines[-1].endswith(("\n", "\r")):
        lines.append("")
    return lines


class LspTextDocument(TextDocument):
    @property
    def lines(self) -> Sequence[str]:
        return tuple(lines_with_breaks(self.source))


class LspWorkspace(Workspace):
    def _create_text_document(self, doc_uri: str, source: str | None = None, version: int | None = None,
                              language_id: str | None = None) -> TextDocument:
        return LspTextDocument(doc_uri, source=source, version=version, language_id=language_id,
                               sync_kind=self._sync_kind, position_codec=self._position_codec)

    def update_text_document(self, text_doc: types.VersionedTextDocumentIdentifier,
                             change: types.TextDocumentContentChangeEvent) -> None:
        if unquote(text_doc.uri) not in self._text_documents:  # the client's mistake: nothing to apply it to
            log.warning("tensorlint: a change for %s, which is not open, ignored", text_doc.uri)
            return
        super().update_text_document(text_doc, change)


class _Refused:
    """A request that cannot be handled (params that do not fit its method, a notification's method sent with an
    id): answered with ``error`` instead of being dropped."""

    jsonrpc = "2.0"

    def __init__(self, msg_id: Any, method: str, error: JsonRpcException) -> None:
        self.id, self.method, self.error = msg_id, method, error


class TensorlintProtocol(LanguageServerProtocol):
    def structure_message(self, data: dict[str, Any]):
        request = "jsonrpc" in data and "id" in data and isinstance(data.get("method"), str)
        try:
            message = super().structure_message(data)
        except (JsonRpcInvalidParams, JsonRpcInternalError) as exc:
            if request:
                cause = exc.__cause__
                reason = str(cause).splitlines()[0] if cause else ""
                return _Refused(data["id"], data["method"], JsonRpcInvalidParams(
                    f"invalid params for {data['method']}" + (f": {reason}" if reason else "")))
            raise  # a notification or a response: the reading loop logs it
        if request and not hasattr(message, "id"):  # structured as a notification: it would get no answer
            return _Refused(data["id"], data["method"], JsonRpcInvalidRequest(
                f"{data['method']} is a notification; it takes no id"))
        return message

    def handle_message(self, message) -> None:
        method = getattr(message, "method", None)
        request = hasattr(message, "id") and method is not None
        if isinstance(message, _Refused):
            log.warning("tensorlint: %s", message.error)
            return self._refuse(message.id, message.error)
        if self._shutdown and method != types.EXIT:
            if request:
                return self._refuse(message.id, JsonRpcInvalidRequest("the server is shutting down"))
            return None
        if self._workspace is None and method not in (types.INITIALIZE, types.EXIT):
            if request:
                return self._refuse(message.id, JsonRpcServerNotInitialized("the server is not initialized"))
            log.warning("tensorlint: %s before initialize ignored", method)
            return None
        if method == types.INITIALIZE and request and self._workspace is not None:
            return self._refuse(message.id, JsonRpcInvalidRequest("initialize may be sent only once"))
        return super().handle_message(message)

    def _refuse(self, msg_id: Any, error: JsonRpcException) -> None:
        self._send_response(msg_id, None, error.to_response_error())

    def adopt_workspace(self) -> None:
        """Called from the initialize handler, right after pygls made its workspace (still empty): make it ours."""
        self._workspace.__class__ = LspWorkspace
