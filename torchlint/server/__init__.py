"""``torchlint server``: the Language Server Protocol over stdio, for editors.

* :mod:`torchlint.server.pipeline`: lint one in-memory document, incrementally, cancellably;
* :mod:`torchlint.server.query`: what the analysis knows about the expression under the cursor;
* :mod:`torchlint.server.convert`: torchlint's rows and columns to LSP positions, findings to LSP diagnostics;
* :mod:`torchlint.server.cells`: notebook documents (LSP 3.17) joined into one module, and back;
* :mod:`torchlint.server.actions`: quick fixes, ``# noqa`` and fix-all code actions;
* :mod:`torchlint.server.lsp`: the server itself (pygls), scheduling and the handlers.

Only :mod:`torchlint.server.lsp` needs pygls and lsprotocol (``pip install 'torchlint[server]'``).
"""
