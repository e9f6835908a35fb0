"""Project-wide analysis: the values of names that a checked file imports from the project's other modules.

When it runs.  A file is first analysed alone, as always; only when one of its
backward sites is then unknown (see :func:`site_verdicts`) and it imports from
the project is it analysed again with a :class:`Link` (see :meth:`Link.needed`).
That second run resolves project names in the module's code and in the
functions whose own analysis reached an unknown site (the roots); every other
function's own analysis is the first run's, taken as it was recorded rather
than repeated (see :func:`analyse`).

Imports stay lazy.  ``from pkg.losses import build_criterion`` binds
``ModuleRef("pkg.losses.build_criterion")`` as before; only when the code
*uses* such a name (calls it, takes an attribute of it, or a class's bases are
asked for an attribute) does the interpreter ask :meth:`Link.resolve`.  Then
``pkg/losses.py`` is read and indexed (:mod:`torchlint.analysis.lazymodule`),
and only the top-level statements that bind the names looked up are parsed
and run in its module frame: that frame is the module's summary.  Its functions
and classes are called by the checked file's interpreter with its own abstract
arguments, as it calls its own (methods, ``__init__`` attributes, ``forward``,
bases completed across files by :meth:`Link.complete`).  Code of other modules
runs silently: its call sites are not the checked file's, and nothing is
reported in them.

Limits, per checked file: :data:`MAX_MODULES` modules, :data:`MAX_BYTES` of
their source read, :data:`PARSE_CHARS` of it parsed with LibCST,
:data:`FOREIGN_STEPS` interpreter steps in their code, :data:`MAX_NESTED_LOADS`
loads inside loads and :data:`MAX_HOPS` re-exports per name; past a limit a
name is unknown.  An import cycle gives what has been bound so far, as in
Python.  Loaded modules are kept per process (a worker checks many files of one
project), up to :data:`KEEP_BYTES`, and checked against the disk when a new
file uses them; each checked file records the modules it used, with their
content hashes, for the cache (:meth:`Link.deps`).
"""
from __future__ import annotations

import os
import time
from collections import ChainMap
from typing import Optional

from torchlint.workspace import modules as mods
from torchlint.analysis.lazymodule import LoadedModule
from torchlint.analysis.values import UNKNOWN, ClassValue, ModuleRef, Value

MAX_MODULES = 48
MAX_BYTES = 600_000  # of source newly read for one checked file (modules kept from earlier files are free)
PARSE_CHARS = 20_000  # source of other modules newly parsed with LibCST for one checked file
FOREIGN_STEPS = 15_000  # interpreter steps one checked file may spend in other modules' code
MAX_NESTED_LOADS = 8
MAX_HOPS = 8  # re-exports followed for one name
KEEP_BYTES = 40_000_000
RACY_NS = 2_000_000_000


class Project:
    """The other modules loaded in this process, by file and dotted name, and the class namespaces they define."""

    def __init__(self):
        self.modules: dict = {}  # (path, qual) -> LoadedModule
        self.by_frame: dict = {}  # id(module frame) -> LoadedModule
        self.class_ns: dict = {}  # ClassDef node -> namespace (shared by every interpreter of other modules)
        self.completed: set = set()  # ClassDef nodes whose bases complete() has resolved
        self.kept_bytes = 0

    def forget(self, m: LoadedModule) -> None:
        m.drop_pending()
        self.modules.pop((m.file.path, m.qual), None)
        if m.frame is not None:
            self.by_frame.pop(id(m.frame), None)
        self.kept_bytes -= m.size

    def trim(self) -> None:
        """Drop the oldest modules past :data:`KEEP_BYTES` (the values that use them keep what they need)."""
        for m in list(self.modules.values()):
            if self.kept_bytes <= KEEP_BYTES:
                break
            if m.state != "loading":
                self.forget(m)


_PROJECT = Project()


def link_for(path: Optional[str]) -> Optional["Link"]:
    """The link of the file ``path`` (a real or intended file name) to its project, or None for ``<string>``."""
    if not path or path.startswith("<"):
        return None
    full = os.path.abspath(path.split(":cell ")[0])
    return Link(_PROJECT, full)


class Link:
    """One checked file's view of its project: resolution from its roots, and the modules it used."""

    def __init__(self, project: Project, path: str):
        self.project = project
        self.path = path
        self.roots = mods.roots_for(path)
        self.finder = mods.Finder(self.roots)
        self.base = mods.display_base(path)
        named = mods.module_name(path, self.roots[1:] or self.roots)
        self.own_qual, self.own_package = named if named else (None, False)
        self.own_frame = None
        self.used: dict = {}  # LoadedModule -> None (ordered)
        self.loading: list = []
        self.bytes = 0
        self.completed: set = set()
        self.in_foreign = 0
        self.parsed = 0
        self.foreign_steps = 0
        self._top: dict = {}
        # The functions analysed on their own whose analysis reached an unknown backward site (see needed()):
        # (qualified names, FunctionDef nodes), or None for every function.  The other functions are analysed
        # as in the first pass, without resolving project names (see focus()).
        self.roots: Optional[tuple] = None
        self.active = True  # does the checked file's own code resolve project names now?

    def needed(self, module, analysis, sites=None) -> bool:
        """Is the project worth reading for this file?  Only when a backward site's value is unknown on its own
        (``analysis``: the file analysed alone) and the file imports from the project (its own top-level
        imports, or relative ones).  Most files need nothing: their sites are known, or they have none.
        ``sites``, the file's site summary (analysis/sites.py) when the engine has it, spares walking the tree."""
        if sites is not None and not (sites.relative_import or any(
                self._in_project(top) for top in sorted(sites.imports))):
            return False
        verdicts = site_verdicts(module, analysis, sites)
        unknown = [site for site, v in verdicts.items() if v == "unknown"]
        if not unknown or (sites is None and not self._imports_project(module)):
            return False
        self.roots = _roots(module, analysis, unknown)
        return True

    def focus(self, ip, fn) -> None:
        """Before the interpreter ``ip`` analyses ``fn`` on its own: resolve project names in it only when it is
        one of :attr:`roots`.  The two modes keep their own memo of calls and their own generic instances, so that
        a value computed in one is never reused in the other."""
        if self.roots is None:
            return
        quals, nodes = self.roots
        active = fn.node in nodes or fn.qual in quals
        if active != self.active:
            self.active = active
            other = getattr(ip, "_other_mode", None) or ({}, {})
            ip._other_mode = (ip.memo, ip.generic_instances)
            ip.memo, ip.generic_instances = other

    def quiet_unit(self, fn) -> bool:
        """Is ``fn``, analysed on its own, outside :attr:`roots` (so analysed as the file alone would be)?"""
        if self.roots is None:
            return False
        quals, nodes = self.roots
        return fn.node not in nodes and fn.qual not in quals

    def _quiet(self) -> bool:
        """True while the checked file's own code runs in a function outside :attr:`roots`."""
        return not self.active and not self.in_foreign and not self.loading

    def _in_project(self, top: str) -> bool:
        """Is ``top`` (the first part of a dotted name) a module or package of the project?  (Memoised per file.)"""
        found = self._top.get(top)
        if found is None:
            found = self._top[top] = self.finder.find(top) is not None
        return found

    def _imports_project(self, module) -> bool:
        import libcst as cst

        from torchlint.analysis.cstwalk import dotted, walk

        for node in walk(module):
            if isinstance(node, cst.ImportFrom):
                if node.relative:
                    return True
                if node.module is not None and self._in_project(dotted(node.module).split(".")[0]):
                    return True
            elif isinstance(node, cst.Import):
                if any(self._in_project(dotted(a.name).split(".")[0]) for a in node.names):
                    return True
        return False

    # -- hooks the interpreter calls -------------------------------------------

    def attach(self, ip) -> None:
        """Called by every Interpreter made with this link: share class namespaces, find positions later."""
        ip.analysis.project = self
        loading = self.loading[-1] if self.loading else None
        if loading is not None and loading.frame is None:
            loading.frame = ip.module_frame
            self.project.by_frame[id(ip.module_frame)] = loading
            ip.class_ns = self.project.class_ns
        else:
            self.own_frame = ip.module_frame
            ip.class_ns = ChainMap(ip.class_ns, self.project.class_ns)

    def import_base(self, frame, level: int, module: Optional[str]) -> Optional[str]:
        """The absolute name of a relative import's module, executed in ``frame``; None when unknown."""
        if self._quiet():
            return None
        m = self.project.by_frame.get(id(_root(frame)))
        if m is not None:
            qual, is_package = m.qual, m.file.is_package
        else:
            qual, is_package = self.own_qual, self.own_package
        base = mods.resolve_relative(qual, is_package, level, module)
        if base is None or self.finder.find(base) is None:
            return None
        return base

    def spend_parse(self, chars: int) -> bool:
        """May this file parse ``chars`` more characters of other modules?  (Then they are spent.)"""
        if self.parsed + chars > PARSE_CHARS:
            return False
        self.parsed += chars
        return True

    def entering(self, fn, ip) -> bool:
        """True when a call of ``fn`` leaves the checked file's code for another module's (see call_quietly)."""
        return not self.in_foreign and _root(fn.frame) is not ip.module_frame

    def call_quietly(self, objects, fn, args, kwargs, generic, site) -> Value:
        """Run a function of another module for its value only, within :data:`FOREIGN_STEPS`: what it calls is not
        this file's to report.  Past the budget the call's value is unknown."""
        from torchlint.analysis.interp.state import STEP_BUDGET, Budget

        ip = objects.ip
        remaining = FOREIGN_STEPS - self.foreign_steps
        if remaining <= 0:
            return UNKNOWN
        start, spent = ip.steps, ip.budget_spent
        # the interpreter stops a call past STEP_BUDGET: start the count so that it stops this one at `remaining`
        fake = STEP_BUDGET - remaining
        shifted = fake > start
        if shifted:
            ip.steps = fake
        began = ip.steps
        self.in_foreign += 1
        ip.silent += 1
        try:
            return objects.call_user(fn, args, kwargs, generic, site)
        except Budget:
            if not shifted or start + ip.steps - began > STEP_BUDGET:
                raise  # the file's own budget, not only ours
            return UNKNOWN
        finally:
            ip.silent -= 1
            self.in_foreign -= 1
            used = ip.steps - began
            self.foreign_steps += used
            if shifted:
                ip.steps = start + used
                ip.budget_spent = spent or ip.steps > STEP_BUDGET

    def resolve(self, qual: str, hops: int = 0) -> Optional[Value]:
        """The value of a project name (``pkg.losses.build_criterion``); None when ``qual`` is no project name or is a
        module (a module stays a lazy ``ModuleRef``); None, as outside the project, while :meth:`_quiet`."""
        if self._quiet():
            return None
        if not self._in_project(qual.split(".", 1)[0]):
            return None
        if self.finder.find(qual) is not None:
            return None  # a module or package: its attributes are resolved one at a time
        owner, _, name = qual.rpartition(".")
        mf = self.finder.find(owner) if owner else None
        if mf is None:
            # pkg.losses.criterion.reduction: the interpreter resolves such a chain one attribute at a time,
            # through the value of its owner (see objects.getattr), so it is only reached by unusual code
            return UNKNOWN
        return self._name_in(mf, name, hops)

    def complete(self, cls: ClassValue, depth: int = 0) -> None:
        """Replace, once, the bases of ``cls`` (and of its bases) that name classes of other project modules by
        those classes: ``class Net(BaseModel)`` with ``from .base import BaseModel``.  Lazy: a class's bases
        are looked up only when one of its attributes is (instantiation, a method, ``forward``)."""
        if cls.node in self.completed or cls.node in self.project.completed or depth > MAX_HOPS or self._quiet():
            return
        owner = self.project.by_frame.get(id(_root(cls.frame)))
        # (a class of this file is forgotten with it; one of another module is kept with the module)
        (self.completed if owner is None else self.project.completed).add(cls.node)
        bases = []
        for b in cls.bases:
            if isinstance(b, ModuleRef):
                r = self.resolve(b.qual)
                if isinstance(r, ClassValue):
                    m = self.project.by_frame.get(id(_root(r.frame)))
                    if owner is not None and m is not None:
                        owner.uses.add(m)  # the class's module depends on its base's module, for later files too
                    b = r
            if isinstance(b, ClassValue):
                self.complete(b, depth + 1)
            bases.append(b)
        bases = tuple(bases)
        if bases != cls.bases:
            object.__setattr__(cls, "bases", bases)  # (frozen for hashing, which uses the node only)

    def locate(self, node) -> Optional[str]:
        """``pkg/losses.py:3`` for a node of another module this file used; None if it is in none of them."""
        for m in self.used:
            line = m.line_of(node)
            if line is not None:
                return f"{m.display}:{line}"
        return None

    def release(self) -> None:
        """After the file's rules ran.  The modules this file used are kept for later files, and each points back
        at the last link that used it (``LoadedModule.link``, its interpreter's ``project``) until another file
        uses it: drop what ties this link to the checked file's own analysis (its module frame, its classes and
        root nodes), so that the file's values and tree are freed now rather than kept alive by a shared module.
        (Kept, they outlive the next collection of the garbage collector and are frozen with the project's
        modules: runner._FileCollector then walks them again at each full collection.)"""
        self.own_frame = None
        self.completed = set()
        self.roots = None
        self.loading = []

    def deps(self) -> list:
        """``[path, stat, digest]`` of every module this file used (for the cache: see modules.deps_fresh)."""
        return [[m.file.path, m.stat, m.digest] for m in self.used if m.file.path and m.digest]

    # -- loading -----------------------------------------------------------------

    def _name_in(self, mf: mods.ModuleFile, name: str, hops: int) -> Value:
        m = self._load(mf)
        if m is None:
            return UNKNOWN
        v = m.var(name)
        if v is None:
            for star in m.stars:
                smf = self.finder.find(star)
                if smf is not None and hops < MAX_HOPS:
                    sv = self._name_in(smf, name, hops + 1)
                    if sv is not UNKNOWN:
                        return sv
            return UNKNOWN
        if isinstance(v, ModuleRef) and hops < MAX_HOPS and v.qual != f"{mf.qual}.{name}":
            r = self.resolve(v.qual, hops + 1)  # a re-export: from .losses import build_criterion
            return v if r is None else r
        return v

    def _use(self, m: LoadedModule) -> None:
        if m.ip is not None and m.link is not self:  # its statements run for this file now
            m.link = m.ip.project = self
            m.ip.analysis.project = self
        stack = [m]
        while stack:
            cur = stack.pop()
            if cur in self.used:
                continue
            self.used[cur] = None
            stack.extend(cur.uses)
        for loading in self.loading:
            if loading is not m:
                loading.uses.add(m)

    def _load(self, mf: mods.ModuleFile) -> Optional[LoadedModule]:
        key = (mf.path, mf.qual)
        m = self.project.modules.get(key)
        if m is not None and m.state == "done" and m not in self.used and not _unchanged(m):
            self.project.forget(m)
            m = None
        if m is None:
            if len(self.used) >= MAX_MODULES or len(self.loading) >= MAX_NESTED_LOADS:
                return None
            m = LoadedModule(mf)
            self.project.modules[key] = m
            self._run(m)
            self.project.trim()
        if m.state == "failed":
            return None
        self._use(m)
        return m  # "loading" (a cycle): what its body has bound so far

    def _run(self, m: LoadedModule) -> None:
        m.state = "loading"
        if m.file.path is None:  # a namespace package: nothing to run, its submodules are found by name
            m.state = "done"
            return
        try:
            with open(m.file.path, "rb") as f:
                st = os.fstat(f.fileno())
                data = f.read()
        except OSError:
            m.state = "failed"
            return
        if self.bytes + len(data) > MAX_BYTES:
            m.state = "failed"
            self.project.forget(m)
            return
        self.bytes += len(data)
        m.digest = mods.digest(data)
        m.stat = _stat_or_racy(st)
        m.size = len(data)
        m.display = _display(m.file.path, self.base)
        try:
            source = _decode(data)
        except (SyntaxError, UnicodeDecodeError, LookupError):
            m.state = "failed"
            return
        if not m.index(source):  # unparsable: its names stay unknown, as outside the project
            m.state = "failed"
            return
        self.project.kept_bytes += m.size
        m.start(self)
        m.state = "done"


def analyse(module, path: Optional[str], sites=None):
    """(the analysis of ``module``, the :class:`Link` it used or None): the file alone, and again with its project
    when :meth:`Link.needed` says so.  The second run takes the first run's analyses of the functions it analyses
    quietly (outside the roots) as they are, instead of repeating them: they are the file's alone in both runs
    (see :meth:`Interpreter.replayable`).  Where either run reaches the step budget, the second run is made whole
    instead, since a run cut short may stop at another place."""
    from torchlint.analysis.interp import Interpreter

    # (a file without a backward site never needs the project: no link, and no units kept for a second run)
    link = link_for(path) if sites is None or sites.backward_calls or sites.training_steps else None
    first = Interpreter(module, keep_units=link is not None)
    return with_project(module, path, link, first, first.run(), sites)


def with_project(module, path: Optional[str], link: Optional["Link"], first, analysis, sites=None):
    """:func:`analyse` after its first run: ``first`` (an Interpreter made with ``keep_units``) gave ``analysis``;
    ``sites`` is the file's site summary, when there is one (see :meth:`Link.needed`)."""
    from torchlint.analysis.interp import Interpreter
    from torchlint.analysis.interp.state import STEP_BUDGET

    if link is None or not link.needed(module, analysis, sites):
        return analysis, None
    whole = first.budget_spent or analysis.truncated
    second = Interpreter(module, project=link, reuse=None if whole else first)
    result = second.run()
    if not whole and (second.budget_spent or second.steps > STEP_BUDGET or result.truncated):
        roots, link = link.roots, link_for(path)
        link.roots = roots
        result = Interpreter(module, project=link).run()
    # (any run past the budget: a reduced file is then analysed whole, analysis/partial.py)
    result.budget_spent = result.budget_spent or first.budget_spent or second.budget_spent
    return result, link


def site_verdicts(module, analysis, sites=None) -> dict:
    """Every backward site of ``module`` (a ``.backward()``/``manual_backward()`` call, whatever its receiver, and
    each ``return`` of a ``training_step``) -> its verdict: ``non_scalar``, ``likely_non_scalar``, ``scalar`` or
    ``unknown`` (its value in some context is not a tensor of known verdict, or it was never reached).
    With ``sites`` (the file's site summary), the tree is walked only for what the analysis cannot tell: a
    backward call it never evaluated (then every node), the ``training_step`` functions (then the statements
    only: a ``def`` is never inside an expression)."""
    import libcst as cst

    from torchlint.analysis.cstwalk import function_defs, walk
    from torchlint.analysis.sinks import backward_sites, flatten_targets, lightning_sites
    from torchlint.analysis.sites import BACKWARD_METHODS
    from torchlint.analysis.values import LIKELY_NON_SCALAR, NON_SCALAR, SCALAR, Tensor

    call, attribute, function = cst.Call, cst.Attribute, cst.FunctionDef  # (exact types: LibCST's are final)

    def is_site(node) -> bool:
        return type(node) is call and type(node.func) is attribute and node.func.attr.value in BACKWARD_METHODS

    out: dict = {}
    steps: list = []
    reached = list(backward_sites(analysis))
    if sites is None:
        for node in walk(module):
            if is_site(node):
                out[node] = "unknown"
            elif type(node) is function and node.name.value == "training_step":
                out[node] = "unknown"
                steps.append(node)
    else:
        # the backward calls the analysis evaluated without making them sites (optimizer.backward(loss)), with
        # those it did: when they are as many as the summary counts, they are all of the file's
        made = {id(s.call) for s in reached if is_site(s.call)}
        evaluated = [node for node in analysis.calls if id(node) not in made and is_site(node)]
        if len(made) + len(evaluated) != sites.backward_calls:
            evaluated = [node for node in walk(module) if is_site(node)]
        out.update((node, "unknown") for node in evaluated)
        if sites.training_steps:
            steps = [fn for fn in function_defs(module) if fn.name.value == "training_step"]
            out.update((step, "unknown") for step in steps)
    lightning = lightning_sites(module, analysis) if steps else []
    for site in reached + list(lightning):
        ts = [t for v in site.values for t in flatten_targets(v)]
        kinds = {t.verdict for t in ts if isinstance(t, Tensor)}
        if not ts:
            verdict = "unknown"
        elif NON_SCALAR in kinds:
            verdict = NON_SCALAR
        elif LIKELY_NON_SCALAR in kinds:
            verdict = LIKELY_NON_SCALAR
        elif kinds == {SCALAR} and all(isinstance(t, Tensor) for t in ts):
            verdict = SCALAR
        else:
            verdict = "unknown"
        out[site.call] = verdict
        if site.step is not None and out.get(site.step) == "unknown":
            del out[site.step]  # the training_step is counted by its returns
    return out


def _roots(module, analysis, unknown: list) -> tuple:
    """(qualified names, FunctionDef nodes) of the functions whose analysis on their own reached one of the
    ``unknown`` sites (``site_verdicts``' keys), as the first pass recorded it: the outermost function of each call
    event at the site (the module's code always runs), and for a site with no event (a ``training_step``, one of
    its ``return`` statements, code never reached) the functions that enclose it."""
    import libcst as cst

    from torchlint.analysis.cstwalk import enclosing_functions

    quals, nodes, left = set(), set(), set()
    for site in unknown:
        if isinstance(site, cst.FunctionDef):
            nodes.add(site)
            continue
        events = analysis.calls.get(site) if isinstance(site, cst.Call) else None
        if not events:
            left.add(site)
            continue
        for e in events:
            if e.stack and e.stack[0][1] is None:  # (a function analysed on its own has no call site)
                quals.add(e.stack[0][0])
    if left:
        nodes |= enclosing_functions(module, left)
    return quals, nodes


def _decode(data: bytes) -> str:
    import io
    import tokenize

    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    return data.decode(encoding)


def _root(frame):
    while frame is not None and frame.parent is not None:
        frame = frame.parent
    return frame


def _stat_or_racy(st: os.stat_result):
    # a file changed just now may change again within the same clock tick: then check it by content
    newest = max(st.st_mtime_ns, st.st_ctime_ns)
    return mods.stat_key(st) if newest < time.time_ns() - RACY_NS else None


def _unchanged(m: LoadedModule) -> bool:
    """A module kept from an earlier file is still the file on disk (a long-lived process, a --fix)."""
    try:
        st = os.stat(m.file.path)
    except OSError:
        return False
    if m.stat is not None and mods.stat_key(st) == m.stat:
        return True
    try:
        with open(m.file.path, "rb") as f:
            return mods.digest(f.read()) == m.digest
    except OSError:
        return False


def _display(path: str, base: str) -> str:
    rel = os.path.relpath(path, base)
    return path if rel.startswith("..") else rel.replace(os.sep, "/")
