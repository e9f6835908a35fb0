"""The site gate: after the byte prefilter, before LibCST.

The prefilter matches words anywhere, comments and docstrings included, so a
file that merely *defines* ``def backward(self, ...)`` or says "backward" in a
docstring still passes it.  The engine parses every such file with CPython's
``ast`` anyway (its syntax check runs before LibCST), so the same tree tells,
for almost nothing more, whether the file holds a *site* where a rule can
fire: a call of some name, a keyword argument, or an attribute assignment.
A file with no site for any selected rule is never handed to LibCST, which is
by far the largest cost of a run.

Rules declare their sites (see :class:`torchlint.registry.Rule`):

* ``site_calls``: callee names (the last part of ``a.b.name(...)``); an entry
  starting with ``~`` matches any callee name that contains the rest;
* ``site_keywords``: keyword argument names of any call;
* ``site_stores``: attribute names assigned to (``x.requires_grad = ...``);
* ``site_bases``: names of base classes of a class defined in the file
  (``LightningModule``: Lightning backpropagates what its ``training_step``
  returns).

A rule that declares none of them has no gate: it always runs.  Names bound by
``from m import name as alias`` and by plain ``alias = a.b.name`` assignments
count as their original name, so renaming a function cannot hide its calls.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, field


@dataclass
class Sites:
    calls: set = field(default_factory=set)
    keywords: set = field(default_factory=set)
    stores: set = field(default_factory=set)
    bases: set = field(default_factory=set)

    def call_matches(self, pattern: str) -> bool:
        if pattern.startswith("~"):
            part = pattern[1:]
            return any(part in c for c in self.calls)
        return pattern in self.calls


def _last_name(node) -> str | None:
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return None


def summarize(tree: ast.AST) -> Sites:
    """Callee names, keyword names and stored attribute names of a module."""
    s = Sites()
    aliases: dict = {}  # alias -> set of original names
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = _last_name(node.func)
            if name is not None:
                s.calls.add(name)
            for kw in node.keywords:
                if kw.arg is not None:
                    s.keywords.add(kw.arg)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, (ast.Store, ast.Del)):
            s.stores.add(node.attr)
        elif isinstance(node, ast.ClassDef):
            s.bases.update(n for n in map(_last_name, node.bases) if n is not None)
        elif isinstance(node, (ast.ImportFrom, ast.Import)):
            for a in node.names:
                if a.asname:
                    aliases.setdefault(a.asname, set()).add(a.name.rsplit(".", 1)[-1])
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.NamedExpr)):
            value = node.value
            original = _last_name(value) if value is not None else None
            if original is None:
                continue
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                alias = _last_name(t)  # ``bw = ...`` and ``self.bw = ...``
                if alias is not None:
                    aliases.setdefault(alias, set()).add(original)
    # an alias of an alias still counts: follow the chains to a fixed point
    changed = True
    while changed:
        changed = False
        for alias, originals in aliases.items():
            if alias in s.calls and not originals <= s.calls:
                s.calls |= originals
                changed = True
    return s


def has_site(rule, sites: Sites) -> bool:
    """Whether ``rule`` can fire on a module with these sites (True for a rule without a gate)."""
    calls = getattr(rule, "site_calls", ())
    keywords = getattr(rule, "site_keywords", ())
    stores = getattr(rule, "site_stores", ())
    bases = getattr(rule, "site_bases", ())
    if not (calls or keywords or stores or bases):
        return True
    return (any(sites.call_matches(c) for c in calls)
            or any(k in sites.keywords for k in keywords)
            or any(a in sites.stores for a in stores)
            or any(b in sites.bases for b in bases))
