"""The trigger prefilter: decide from a file's raw bytes which rules could fire.

Every rule declares ``triggers``: words that must occur in a file for the rule
to have any chance of a finding there.  An entry is a word, or a tuple of words
that must all occur; the rule can fire when any entry matches.  A file for which
no selected rule can fire is never decoded and never parsed, so a run over files
without trigger words never imports libcst.

A word ending in ``(`` stands for a call of that name: the name as a whole word
(``grad(`` does not match ``no_grad(``), followed by the spellings Python
allows between the name and the parenthesis (``f (x)``,
``f\\`` + newline + ``(x)``) and an import alias of the name
(``from torch.autograd import backward as bw``), after which the call no longer
mentions the name.

This module is imported on every run: keep it free of heavy imports.
"""
from __future__ import annotations

import re
from typing import Iterable

# Bytes that continue an identifier (ASCII; a non-ASCII byte counts as a boundary, which only lets more through).
_WORD = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")

# A rule with no triggers can fire anywhere: it matches every file.
ALWAYS = ((),)


def _pattern(word: bytes):
    """A matcher for one trigger word: ``bytes -> bool``."""
    if word.endswith(b"(") and len(word) > 1:
        name = word[:-1]
        search = None

        def match(data: bytes) -> bool:
            nonlocal search
            if name not in data:  # the common case: one fast scan, no regex
                return False
            if search is None:
                # a pattern that starts with the literal name, which the regex engine scans for fast
                # (a look-behind first would make it try every position)
                search = re.compile(re.escape(name) + rb"(?:[ \t\f\r\n\\]*\(|[ \t\r\n\\]+as[ \t\r\n\\])").search
            # the name starts at a word boundary: ``no_grad(`` is not a call of ``grad``, nor
            # ``manual_backward(`` one of ``backward`` (a rule that wants both declares both)
            m = search(data)
            while m is not None:
                start = m.start()
                if start == 0 or data[start - 1] not in _WORD:
                    return True
                m = search(data, start + 1)
            return False

        return match
    return lambda data, word=word: word in data


class Triggers:
    """The trigger groups of a set of rules, compiled for fast scanning of raw bytes."""

    def __init__(self, by_rule: dict):
        # by_rule: code -> tuple of groups, each a tuple of words (str)
        self.by_rule = {code: tuple(tuple(g) for g in groups) for code, groups in sorted(by_rule.items())}
        words = sorted({w for groups in self.by_rule.values() for g in groups for w in g})
        self._match = {w: _pattern(w.encode()) for w in words}

    def __bool__(self) -> bool:
        return bool(self.by_rule)

    def rules_for(self, data: bytes) -> frozenset:
        """Codes of the rules whose triggers occur in ``data`` (empty: the file needs no parsing)."""
        seen: dict = {}

        def has(word: str) -> bool:
            r = seen.get(word)
            if r is None:
                r = seen[word] = self._match[word](data)
            return r

        return frozenset(code for code, groups in self.by_rule.items()
                         if any(all(has(w) for w in g) for g in groups))

    def matches(self, data: bytes) -> bool:
        return bool(self.rules_for(data))


def rule_groups(rule) -> tuple:
    """A rule's trigger groups as tuples of words; a rule without triggers gets ``ALWAYS``."""
    groups = []
    for t in getattr(rule, "triggers", ()) or ():
        words = (t,) if isinstance(t, (str, bytes)) else tuple(t)
        groups.append(tuple(w.decode() if isinstance(w, bytes) else w for w in words))
    return tuple(groups) if groups else ALWAYS


_compiled: dict = {}


def triggers(select: Iterable[str]) -> Triggers:
    """The compiled triggers of the selected rules (memoised per selection)."""
    key = frozenset(select)
    t = _compiled.get(key)
    if t is None:
        from torchlint.registry import all_rules

        t = _compiled[key] = Triggers({r.code: rule_groups(r) for r in all_rules() if r.code in key})
    return t


# -- the older, flat interface (kept for the flake8 plugin and the CLI's stdin path) --

def triggers_for(select: Iterable[str]) -> Triggers:
    return triggers(select)


def needs_parsing(data: bytes, trig) -> bool:
    """Whether any of the selected rules could fire on ``data``."""
    if isinstance(trig, Triggers):
        return trig.matches(data)
    # a plain tuple of groups of byte words
    return any(all(w in data for w in group) for group in trig)
