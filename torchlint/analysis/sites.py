"""The site gate: after the byte prefilter, before LibCST.

The prefilter matches words anywhere, comments and docstrings included, so a
file that merely *defines* ``def backward(self, ...)`` or says "backward" in a
docstring still passes it.  The engine parses every such file with CPython's
``ast`` anyway (its syntax check runs before LibCST), so the same tree tells,
for almost nothing more, whether the file holds a *site* where a rule can
fire.  A file with no site for any selected rule is never handed to LibCST,
which is by far the largest cost of a run.

A rule declares its sites in ``sites``, groups like its triggers: the rule can
fire when every item of some group holds, and an item is an atom or a tuple of
atoms of which one must hold.  The atoms:

* ``call:NAME``: a call of ``NAME`` (the last part of ``a.b.NAME(...)``);
  ``call:~PART``: a call of any name that contains ``PART``;
  ``call:NAME!False``: such a call with no argument that is the literal
  ``False`` (``x.requires_grad_(False)`` and ``nn.Parameter(t, False)``
  make nothing require grad); ``call:NAME!float``: such a call, also not
  certainly of a floating-point tensor (see :func:`certainly_float`);
* ``kw:NAME``: a keyword argument ``NAME=`` of any call; ``kw:NAME!False``:
  one whose value is not the literal ``False``; ``kw:NAME!float``: that, on a
  call that is not certainly a floating-point tensor
  (``torch.randn(3, requires_grad=True)`` cannot be an integer tensor);
* ``store:NAME``: an assignment to an attribute ``x.NAME = ...``;
  ``store:NAME!False``: one whose value is not the literal ``False``;
* ``base:NAME``: a class of the file with a base class named ``NAME``;
  ``def:NAME``: a function, method or class of the file named ``NAME``;
  ``name:NAME``: ``NAME`` read as a name or an attribute (``lin.weight``);
* ``inplace``: an augmented assignment (``w -= ...``) or an item or slice
  assignment (``w[0] = ...``);
* ``module-code``: the module's own code (its top-level statements, class
  bodies, decorators and default values, not the bodies of functions) may
  run code of the file: a call that names a function or class of the file
  (as its callee, or in its arguments: a callback), a decorator that does, a
  call of something that is not a plain dotted name (``table[k]()``); or it
  changes something in place (``x op= ...``, ``x[i] = ...``, a call of a name
  ending in ``_``).  That is the only way the interpreter runs code with grad
  mode known rather than assumed, short of ``torch.enable_grad`` or
  ``set_grad_enabled``.

A rule without ``sites`` may declare the older ``site_calls``,
``site_keywords``, ``site_stores`` and ``site_bases`` (any one of them is a
site); a rule that declares neither has no gate: it always runs.  Names bound
by ``from m import name as alias`` and by plain ``alias = a.b.name``
assignments count as their original name, so renaming a function cannot hide
its calls.  ``benchmarks/stages.py`` counts, per rule, the files each atom
sends on, and checks with ``--ungated`` that the gate hides no finding.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, field
from operator import attrgetter

from torchlint.syntax.astwalk import children, collect, nodes


@dataclass
class Sites:
    calls: set = field(default_factory=set)
    keywords: set = field(default_factory=set)
    stores: set = field(default_factory=set)
    bases: set = field(default_factory=set)
    calls_on: set = field(default_factory=set)  # calls with no literal False argument
    calls_maybe_int: set = field(default_factory=set)  # ... and not certainly a float tensor
    keywords_on: set = field(default_factory=set)  # keyword arguments whose value is not the literal False
    keywords_maybe_int: set = field(default_factory=set)  # ... on a call not certainly a float tensor
    stores_on: set = field(default_factory=set)  # attribute stores whose value is not the literal False
    names: set = field(default_factory=set)  # names and attribute names read
    defs: set = field(default_factory=set)  # functions, methods and classes defined
    inplace: bool = False
    module_code: bool = False
    aliases: dict = field(default_factory=dict)  # alias -> the original names it stands for
    torch_bindings: tuple = (frozenset(), {})  # see _torch_bindings
    # for the project pass (analysis/project.py), which then needs no walk of the LibCST tree: the first names of
    # the modules imported absolutely, whether any import is relative, and how many backward sites there are
    imports: set = field(default_factory=set)
    relative_import: bool = False
    backward_calls: int = 0  # calls ``<expr>.backward(...)`` / ``<expr>.manual_backward(...)``
    training_steps: int = 0  # functions named ``training_step``

    def call_matches(self, pattern: str) -> bool:
        if pattern.startswith("~"):
            part = pattern[1:]
            return any(part in c for c in self.calls)
        return pattern in self.calls

    def atom(self, atom: str) -> bool:
        """Whether one site atom (see the module's documentation) holds."""
        if atom == "inplace":
            return self.inplace
        if atom == "module-code":
            return self.module_code
        kind, _, name = atom.partition(":")
        name, _, cond = name.partition("!")
        if kind == "call":
            if cond == "False":
                return name in self.calls_on
            if cond == "float":
                return name in self.calls_maybe_int
            return self.call_matches(name)
        if kind == "kw":
            return name in (self.keywords_on if cond == "False" else self.keywords_maybe_int if cond == "float"
                            else self.keywords)
        if kind == "store":
            return name in (self.stores_on if cond == "False" else self.stores)
        if kind == "base":
            return name in self.bases
        if kind == "def":
            return name in self.defs
        if kind == "name":
            return name in self.names
        raise ValueError(f"unknown site atom {atom!r}")

    def item(self, item) -> bool:
        return self.atom(item) if isinstance(item, str) else any(self.atom(a) for a in item)


def _last_name(node) -> str | None:
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return None


def _is_false(node) -> bool:
    return isinstance(node, ast.Constant) and node.value is False


# Factories whose result is a floating-point tensor unless a dtype= is given (torch's default dtype is
# always a floating-point one): the *_like factories take the dtype of their argument, and are not here.
FLOAT_FACTORIES = frozenset({"randn", "rand", "ones", "zeros", "empty", "eye", "linspace", "logspace", "Tensor",
                             "FloatTensor", "DoubleTensor", "HalfTensor", "BFloat16Tensor"})
FLOAT_METHODS = frozenset({"float", "double", "half", "bfloat16"})
# torch's floating-point and complex dtypes (``torch.float32``, ...), and the factories whose ``dtype=`` is
# their result's dtype
FLOAT_DTYPES = frozenset({"float", "float32", "float64", "double", "float16", "half", "bfloat16", "complex64",
                          "complex128", "cfloat", "cdouble"})
DTYPE_FACTORIES = FLOAT_FACTORIES | {"tensor", "as_tensor", "arange", "full", "randint", "randperm"}
_ARITH = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow, ast.MatMult)


def _literal_has_float(node) -> bool:
    if isinstance(node, ast.Constant):
        return isinstance(node.value, (float, complex))
    if isinstance(node, (ast.List, ast.Tuple)):
        return any(_literal_has_float(e) for e in node.elts)
    return False


def certainly_float(node, torch_names: frozenset, torch_funcs: dict) -> bool:
    """Whether ``node`` certainly evaluates to a floating-point (or complex) tensor, by its syntax alone:
    a float factory of torch without ``dtype=`` (``torch.randn(3)``, ``torch.zeros(n)``), a factory given a
    floating-point ``dtype=torch.float32`` (or another of :data:`FLOAT_DTYPES`), ``torch.tensor`` of a literal
    with a float in it, ``x.float()``, ``nn.Parameter`` of one of these, and arithmetic with
    one of these or a float literal (``0.02 * torch.randn(3)``).  ``torch_names`` are the names bound to
    the torch module; ``torch_funcs`` maps names bound by ``from torch import f [as g]`` to ``f``."""
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in FLOAT_METHODS and not node.args and not node.keywords:
            return True
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in torch_names:
            name = func.attr
        elif isinstance(func, ast.Name):
            name = torch_funcs.get(func.id)
            if name is None and func.id != "Parameter":
                return False
            name = name or func.id
        elif isinstance(func, ast.Attribute) and func.attr == "Parameter":
            name = "Parameter"
        else:
            return False
        dtype = None
        for k in node.keywords:
            if k.arg is None:
                return False
            if k.arg == "dtype":
                dtype = k.value
        if dtype is not None:
            return name in DTYPE_FACTORIES and isinstance(dtype, ast.Attribute) and dtype.attr in FLOAT_DTYPES \
                and isinstance(dtype.value, ast.Name) and dtype.value.id in torch_names
        if name == "Parameter":
            return bool(node.args) and certainly_float(node.args[0], torch_names, torch_funcs)
        if name == "tensor":
            return bool(node.args) and _literal_has_float(node.args[0])
        return name in FLOAT_FACTORIES
    if isinstance(node, ast.BinOp) and isinstance(node.op, _ARITH):
        return any((isinstance(side, ast.Constant) and isinstance(side.value, (float, complex)))
                   or certainly_float(side, torch_names, torch_funcs) for side in (node.left, node.right))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        return certainly_float(node.operand, torch_names, torch_funcs)
    if isinstance(node, ast.Subscript):
        return certainly_float(node.value, torch_names, torch_funcs)
    return False


def _torch_bindings(tree: ast.AST) -> tuple:
    """(names bound to the torch module, {name: torch function} bound by ``from torch import ...``)."""
    names, funcs = set(), {}
    for node in tree.body if isinstance(tree, ast.Module) else ():
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name == "torch":
                    names.add(a.asname or "torch")
                elif a.name.startswith("torch.") and a.asname is None:
                    names.add("torch")
        elif isinstance(node, ast.ImportFrom) and node.module == "torch" and not node.level:
            for a in node.names:
                funcs[a.asname or a.name] = a.name
    return frozenset(names), funcs


def _module_code(tree: ast.AST, defs: set) -> bool:
    """Whether the module's own code (not function bodies) may run code of the file, or changes something
    in place: see ``module-code`` in the module's documentation."""
    if not isinstance(tree, ast.Module):
        return True

    def mentions_local(node) -> bool:
        for n in nodes(node):
            kind = type(n)
            if (kind is ast.Name and n.id in defs) or (kind is ast.Attribute and n.attr in defs):
                return True
        return False

    # (node, whether a call around it was looked through by mentions_local already: all of its subtree was)
    stack = [(node, False) for node in tree.body]
    pop, push = stack.pop, stack.append
    while stack:
        node, seen = pop()
        kind = type(node)
        if kind is ast.FunctionDef or kind is ast.AsyncFunctionDef or kind is ast.ClassDef:
            if not seen and defs and any(mentions_local(d) for d in node.decorator_list):
                return True  # @register: a call of a local function
            stack.extend((d, True) for d in node.decorator_list)
            if kind is ast.ClassDef:
                stack.extend((n, seen) for n in node.body)
            else:
                stack.extend((d, seen) for d in node.args.defaults)
                stack.extend((d, seen) for d in node.args.kw_defaults if d is not None)
            continue
        if kind is ast.Lambda:
            stack.extend((d, seen) for d in node.args.defaults)
            stack.extend((d, seen) for d in node.args.kw_defaults if d is not None)
            continue
        if kind is ast.AugAssign or (kind is ast.Subscript and isinstance(node.ctx, ast.Store)):
            return True
        if kind is ast.Call:
            name = _last_name(node.func)
            # a callee that is not a plain (dotted) name may be anything; a local function or class,
            # called or handed to a call (a callback), runs; so does an in-place method (``w.add_()``)
            if name is None or name.endswith("_") or (not seen and defs and mentions_local(node)):
                return True
            seen = True
        for child in children(node):
            push((child, seen))
    return False


BACKWARD_METHODS = frozenset({"backward", "manual_backward"})  # the methods whose calls are backward sites
# the last names of the callees certainly_float can say yes to (a call of any other name is not certainly float)
_FLOAT_CALLEES = FLOAT_METHODS | DTYPE_FACTORIES | {"Parameter"}

_ASSIGNS = (ast.Assign, ast.AnnAssign, ast.NamedExpr)
_IMPORTS = (ast.Import, ast.ImportFrom)
_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef)
_READ = (ast.Name, ast.Attribute, ast.Call, ast.Subscript, ast.AugAssign, ast.ClassDef) + _DEFS + _IMPORTS + _ASSIGNS
# ... and the kinds that partial.reduce's scan of each top-level statement reads too
STATEMENT_KINDS = _READ + (ast.keyword, ast.arg, ast.Constant, ast.Global, ast.Nonlocal, ast.ExceptHandler,
                           ast.MatchAs, ast.MatchStar, ast.MatchMapping)


def summarize(tree: ast.AST, measured=None, within: Sites | None = None, parts: list | None = None) -> Sites:
    """The sites of a module: callee, keyword, stored attribute, base class, definition and read names.

    With ``measured`` (a :class:`torchlint.syntax.guards.Measure`), the same walk of the tree also measures its
    nesting for the crash guards (:func:`torchlint.syntax.guards.check_tree`), so that the file is walked once.
    With ``within`` (the summary of the whole file), ``tree`` is a part of that file: its aliases and torch
    imports are the file's (:mod:`torchlint.analysis.partial`).  ``parts``, when given for a module, receives
    the nodes of each top-level statement, by kind (of :data:`STATEMENT_KINDS`), that partial.reduce reads: the
    same walk again serves it."""
    s = Sites()
    aliases: dict = {k: set(v) for k, v in within.aliases.items()} if within is not None else {}
    torch_names, torch_funcs = within.torch_bindings if within is not None else _torch_bindings(tree)
    s.aliases, s.torch_bindings = aliases, (torch_names, torch_funcs)
    if parts is not None and type(tree) is ast.Module:
        found, nesting, chain = _by_statement(tree, parts)
    else:
        found, nesting, chain = collect(tree, _READ)
    if measured is not None:
        measured.deepest, measured.longest = nesting, chain
    false_targets = _assignments(found, aliases)
    s.names.update(map(_ID, found[ast.Name]))
    Load, Store, Del = ast.Load, ast.Store, ast.Del
    names_add, stores_add, stores_on_add = s.names.add, s.stores.add, s.stores_on.add
    for node in found[ast.Attribute]:
        ctx = node.ctx
        if type(ctx) is not Load and isinstance(ctx, (Store, Del)):
            stores_add(node.attr)
            if id(node) not in false_targets:
                stores_on_add(node.attr)
        else:
            names_add(node.attr)
    _calls(s, found[ast.Call], torch_names, torch_funcs)
    s.inplace = bool(found[ast.AugAssign]) or any(isinstance(n.ctx, Store) for n in found[ast.Subscript])
    for kind in _DEFS:
        for node in found[kind]:
            s.defs.add(node.name)
            if node.name == "training_step":
                s.training_steps += 1
    for node in found[ast.ClassDef]:
        s.defs.add(node.name)
        s.bases.update(n for n in map(_last_name, node.bases) if n is not None)
    for node in found[ast.Import]:
        s.imports.update(a.name.partition(".")[0] for a in node.names)
    for node in found[ast.ImportFrom]:
        if node.level:
            s.relative_import = True
        elif node.module:
            s.imports.add(node.module.partition(".")[0])
    for kind in _IMPORTS:
        for node in found[kind]:
            for a in node.names:
                if a.asname:
                    aliases.setdefault(a.asname, set()).add(a.name.rsplit(".", 1)[-1])
    # an alias of an alias still counts: follow the chains to a fixed point
    changed = True
    while changed:
        changed = False
        for alias, originals in aliases.items():
            for names in (s.calls, s.calls_on, s.calls_maybe_int):
                if alias in names and not originals <= names:
                    names |= originals
                    changed = True
    s.module_code = _module_code(tree, s.defs)
    return s


_ID = attrgetter("id")


def _by_statement(tree: ast.Module, parts: list) -> tuple:
    """:func:`torchlint.syntax.astwalk.collect` of a module, one top-level statement at a time (each one's nodes
    by kind into ``parts``): the module's nodes of the kinds the summary reads, nesting, longest chain."""
    nesting = 1 if tree.type_ignores else 0  # (the module is level 0, its statements and type: ignores level 1)
    chain = 0
    for node in tree.body:
        got, n, c = collect(node, STATEMENT_KINDS)
        parts.append(got)
        if n + 1 > nesting:
            nesting = n + 1
        if c > chain:
            chain = c
    found = {kind: [n for got in parts for n in got[kind]] for kind in _READ}
    return found, nesting, chain


def _assignments(found: dict, aliases: dict) -> set:
    """Record in ``aliases`` the names that plain assignments (``bw = a.b.name``, ``self.bw = name``) bind to
    other names; the ids of the attribute targets assigned the literal False."""
    false_targets: set = set()
    Attribute, Name, Constant = ast.Attribute, ast.Name, ast.Constant
    for kind in _ASSIGNS:
        for node in found[kind]:
            value = node.value
            vkind = type(value)
            if vkind is Attribute:
                original = value.attr
            elif vkind is Name:
                original = value.id
            else:
                if vkind is Constant and value.value is False:
                    targets = node.targets if kind is ast.Assign else (node.target,)
                    false_targets.update(id(t) for t in targets if isinstance(t, Attribute))
                continue
            for t in node.targets if kind is ast.Assign else (node.target,):
                tkind = type(t)
                alias = t.attr if tkind is Attribute else t.id if tkind is Name else None
                if alias is not None:  # ``bw = ...`` and ``self.bw = ...``
                    aliases.setdefault(alias, set()).add(original)
    return false_targets


def _calls(s: Sites, calls: list, torch_names: frozenset, torch_funcs: dict) -> None:
    """The calls' part of the summary: callees, backward sites and keyword arguments."""
    Attribute, Name, Constant = ast.Attribute, ast.Name, ast.Constant
    float_callees = _FLOAT_CALLEES
    calls_add, calls_on_add, calls_maybe_int_add = s.calls.add, s.calls_on.add, s.calls_maybe_int.add
    keywords_add, keywords_on_add, keywords_maybe_int_add = s.keywords.add, s.keywords_on.add, \
        s.keywords_maybe_int.add
    backward = 0
    for node in calls:
        func = node.func
        kind = type(func)
        if kind is Attribute:
            name = func.attr
            if name in BACKWARD_METHODS:
                backward += 1
            # (certainly_float says no at once to a call whose callee is none it knows)
            may_float = name in float_callees
        elif kind is Name:
            name = func.id
            may_float = name in torch_funcs or name == "Parameter"
        else:
            name, may_float = None, False
        args, keywords = node.args, node.keywords
        off = False
        for a in args:
            if type(a) is Constant and a.value is False:
                off = True
                break
        if not off:
            for k in keywords:
                value = k.value
                if type(value) is Constant and value.value is False:
                    off = True
                    break
        maybe_int = None
        if name is not None:
            calls_add(name)
            if not off:
                calls_on_add(name)
                maybe_int = not (may_float and certainly_float(node, torch_names, torch_funcs))
                if maybe_int:
                    calls_maybe_int_add(name)
        for kw in keywords:
            arg = kw.arg
            if arg is not None:
                keywords_add(arg)
                value = kw.value
                if not (type(value) is Constant and value.value is False):
                    keywords_on_add(arg)
                    if maybe_int is None:
                        maybe_int = not (may_float and certainly_float(node, torch_names, torch_funcs))
                    if maybe_int:
                        keywords_maybe_int_add(arg)
    s.backward_calls += backward


def rule_sites(rule) -> tuple:
    """A rule's site groups (see the module's documentation); ``()`` for a rule without a gate."""
    groups = getattr(rule, "sites", None)
    if groups:
        return tuple((g,) if isinstance(g, str) else tuple(g) for g in groups)
    old = [(f"call:{c}",) for c in getattr(rule, "site_calls", ())]
    old += [(f"kw:{k}",) for k in getattr(rule, "site_keywords", ())]
    old += [(f"store:{a}",) for a in getattr(rule, "site_stores", ())]
    old += [(f"base:{b}",) for b in getattr(rule, "site_bases", ())]
    return tuple(old)


def has_site(rule, sites: Sites) -> bool:
    """Whether ``rule`` can fire on a module with these sites (True for a rule without a gate)."""
    groups = rule_sites(rule)
    return not groups or any(all(sites.item(i) for i in g) for g in groups)


def matched_sites(rule, sites: Sites) -> list:
    """Which of ``rule``'s site groups hold, each as its atoms that hold joined by ``+``
    (``call:backward``, ``inplace+call:Parameter!False+module-code``; ``["no gate"]`` for a rule without
    sites; a ``call:~PART`` atom names the calls it matched): the benchmarks' per-site counts.
    Non-empty exactly when :func:`has_site` is true."""
    groups = rule_sites(rule)
    if not groups:
        return ["no gate"]
    hits = []
    for g in groups:
        if not all(sites.item(i) for i in g):
            continue
        parts = []
        for i in g:
            atoms = (i,) if isinstance(i, str) else i
            held = [a for a in atoms if sites.atom(a)]
            if len(g) == 1 and len(held) == 1 and held[0].startswith("call:~"):
                hits.extend(f"call:{n}" for n in sorted(sites.calls) if held[0][6:] in n)
                parts = None
                break
            parts.append(held[0])
        if parts:
            hits.append("+".join(parts))
    return hits
