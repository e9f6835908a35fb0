"""torchlint's rules, one module per rule.

In the source tree this is the top-level ``rules/`` directory; installed, it is
the ``torchlint.rules`` package.
"""
