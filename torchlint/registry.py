"""The rule registry.

Every module in the ``torchlint.rules`` package (the top-level ``rules/``
directory of the source tree) defines one subclass of :class:`Rule`.  Defining
the subclass registers it; nothing is registered by hand.  Rule modules must not
import libcst at module level: the registry is loaded by the prefilter, which
has to stay cheap for files that are never parsed.
"""
from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Iterable, Iterator

if TYPE_CHECKING:  # pragma: no cover
    from torchlint.analysis.context import FileContext
    from torchlint.diagnostics import Diagnostic

DOCS_URL = "https://github.com/torchlint/torchlint/blob/main/docs/rules.md#{code}"

_RULES: dict[str, type["Rule"]] = {}
_loaded = False


class Rule:
    """Base class of every rule.

    Class attributes a rule sets:

    * ``code`` – ``TL`` plus three digits; ``name`` – kebab-case;
    * ``summary`` – one line for ``torchlint rules``;
    * ``triggers`` – words whose presence in a file's bytes is necessary for the
      rule to fire (the prefilter skips files without any of them);
    * ``sites`` – the syntax a finding needs, as groups of atoms (``call:backward``,
      ``kw:requires_grad!False``, ``inplace``, ...; see :mod:`torchlint.analysis.sites`),
      or the older ``site_calls``, ``site_keywords``, ``site_stores``, ``site_bases`` – the
      syntax a finding needs (callee names, ``~part`` for any callee containing
      ``part``; keyword argument names; assigned attribute names; base-class
      names of the file's classes).  A file whose tree
      has none of them is not handed to LibCST for this rule (see
      :mod:`torchlint.analysis.sites`); a rule declaring none always runs;
    * ``fix`` – ``"always"``, ``"sometimes"`` or ``"none"``;
    * ``default`` – whether the rule is on without ``--select``;
    * ``severity`` – ``"error"`` or ``"warning"``: the level of most of its findings (SARIF's
      ``defaultConfiguration.level``; a finding may still carry its own);
    * ``phase`` – ``"analysis"`` (``check`` runs on the parsed file) or ``"suppression"`` (the rule judges
      the ``# noqa`` comments once the other rules' findings are known, in
      :mod:`torchlint.report.suppression`; the engine never runs it);
    * ``file_facts`` – the whole-file facts of :mod:`torchlint.analysis.semantic` the rule reads:
      ``"aliasing"`` (``untracked_grad_change``), ``"training"`` (``training_loops``), ``"graphs"``
      (``graph_reuses``); LibCST leaves out only code that none of them can see (see
      :mod:`torchlint.analysis.partial`), so a rule that does not say reads them all;
    * ``doc`` – Markdown with Ruff's sections (What it does / Why is this bad? /
      Example / Use instead / Fix safety / Known limits).
    """

    code: ClassVar[str] = ""
    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    triggers: ClassVar[tuple[str, ...]] = ()
    sites: ClassVar[tuple] = ()
    site_calls: ClassVar[tuple[str, ...]] = ()
    site_keywords: ClassVar[tuple[str, ...]] = ()
    site_stores: ClassVar[tuple[str, ...]] = ()
    site_bases: ClassVar[tuple[str, ...]] = ()
    fix: ClassVar[str] = "none"
    default: ClassVar[bool] = True
    severity: ClassVar[str] = "error"
    phase: ClassVar[str] = "analysis"
    file_facts: ClassVar[tuple[str, ...]] = ("aliasing", "training", "graphs")
    doc: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if not cls.code:
            return
        if cls.code in _RULES and _RULES[cls.code] is not cls:
            other = _RULES[cls.code]
            if (other.__module__, other.__qualname__) != (cls.__module__, cls.__qualname__):
                raise RuntimeError(f"rule code {cls.code} defined twice: {other.__module__} and {cls.__module__}")
        _RULES[cls.code] = cls

    def check(self, ctx: "FileContext") -> Iterable["Diagnostic"]:  # pragma: no cover - abstract
        raise NotImplementedError

    @classmethod
    def url(cls) -> str:
        return DOCS_URL.format(code=cls.code.lower())


def _import_rules_package():
    try:
        return importlib.import_module("torchlint.rules")
    except ModuleNotFoundError:
        # Running from a source checkout that is not installed: the rules live
        # in the sibling ``rules/`` directory; load it under its installed name.
        rules_dir = Path(__file__).resolve().parent.parent / "rules"
        spec = importlib.util.spec_from_file_location(
            "torchlint.rules", rules_dir / "__init__.py", submodule_search_locations=[str(rules_dir)]
        )
        if spec is None or spec.loader is None:
            raise
        module = importlib.util.module_from_spec(spec)
        sys.modules["torchlint.rules"] = module
        spec.loader.exec_module(module)
        return module


def load_rules() -> None:
    global _loaded
    if _loaded:
        return
    package = _import_rules_package()
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        if not info.name.startswith("_"):
            importlib.import_module(f"torchlint.rules.{info.name}")
    _loaded = True


def all_rules() -> list[type[Rule]]:
    load_rules()
    return [_RULES[c] for c in sorted(_RULES)]


def get_rule(code_or_name: str) -> type[Rule] | None:
    load_rules()
    key = code_or_name.strip()
    if key.upper() in _RULES:
        return _RULES[key.upper()]
    for rule in _RULES.values():
        if rule.name == key:
            return rule
    return None


def iter_selected(codes: Iterable[str] | None) -> Iterator[type[Rule]]:
    """Rules whose code is in ``codes`` (all default rules when ``codes`` is None)."""
    rules = all_rules()
    if codes is None:
        yield from (r for r in rules if r.default)
    else:
        wanted = set(codes)
        yield from (r for r in rules if r.code in wanted)
