"""Freed graphs, followed by graph provenance rather than by names.

Each tensor value carries the autograd nodes with saved tensors that a backward pass from it certainly runs
through (``Tensor.graph``: (op node, call nodes of the user functions it ran in)). Walking a block's
statements in order, a ``backward()`` without ``retain_graph`` frees the nodes of its tensor; a later
``backward()`` whose tensor runs through a freed node raises "Trying to backward through the graph a second
time". Because the nodes follow the values, this sees what a name-based check cannot: a graph shared through
a user ``nn.Module``, a loss extended after its backward (``total += more``), and an intermediate made in a
loop body and used again after the loop.

Re-running the code that made a node makes a fresh one: a statement clears the freed nodes it creates
(directly, or in the functions it calls), so a loss recomputed every iteration is never taken for the old one.
A loop's body is walked twice when its literal trip count is at least two (once when it is one), and not at
all when the count is unknown: then only what it may create is cleared.
"""
from __future__ import annotations

import libcst as cst

from torchlint.analysis.cstwalk import ends_early, literal_range_count, walk
from torchlint.analysis.values import PREVIOUS, BoundMethod, Seq, Tensor

_PRUNE = (cst.FunctionDef, cst.ClassDef, cst.Lambda)


def trip_count(loop, calls=None, context=None):
    """How many times a ``for`` loop over a literal ``range(n)``/``range(a, b)`` or a literal list or tuple
    runs, or over a call whose every evaluation (in the call ``context``, when given) gave a list of one known
    length (``range(opt.n_critic)`` with a parsed default); None when that is not known (or the loop can end
    early, or has an ``else``)."""
    if not isinstance(loop, cst.For) or loop.orelse is not None or ends_early(loop.body):
        return None
    it = loop.iter
    events = [e for e in calls.get(it, ()) if context is None or tuple(n for _, n in e.stack) == context] \
        if calls is not None and isinstance(it, cst.Call) else ()
    if events:
        lengths = {len(e.result.items) if isinstance(e.result, Seq) and e.result.items is not None else None
                   for e in events}
        if len(lengths) == 1 and None not in lengths:
            return lengths.pop()
    if isinstance(it, (cst.List, cst.Tuple)) and not any(isinstance(e, cst.StarredElement) for e in it.elements):
        return len(it.elements)
    return literal_range_count(it)


class _Walk:
    def __init__(self, model, reported: set, retains):
        self.calls = model.analysis.calls
        self.module = model.module
        self._order = None
        self.reported = set(reported)
        self.retains = retains
        self.found: list = []
        self._nodes: dict = {}  # id(statement) -> ids of the nodes in it
        self._calls_in: dict = {}  # id(small statement) -> its calls, in source order
        self._backwards: dict = {}  # id(small statement) -> its backward calls, in source order
        self.least = model.analysis.least_trips  # loop over a user iterator -> {context: certain runs}
        self.branches = model.analysis.branches  # if statement -> {context: truths of its test}
        self.below: set = set()  # call contexts under which some backward() runs (see enter())
        self.quiet = 0  # walking a loop iteration that may not happen: it reports nothing

    def order(self, node) -> int:
        """The position of ``node`` in a walk of the module (for deterministic choices)."""
        if self._order is None:
            self._order = {id(n): i for i, n in enumerate(walk(self.module))}
        return self._order.get(id(node), len(self._order))

    def nodes_of(self, stmt) -> set:
        got = self._nodes.get(id(stmt))
        if got is None:
            got = self._nodes[id(stmt)] = {id(n) for n in walk(stmt, prune=_PRUNE)}
        return got

    def backwards(self, small) -> list:
        got = self._backwards.get(id(small))
        if got is None:
            got = [n for n in walk(small, prune=_PRUNE) if isinstance(n, cst.Call)
                   and isinstance(n.func, cst.Attribute) and n.func.attr.value == "backward"]
            self._backwards[id(small)] = got
        return got

    def graph_of(self, call, context):
        """The nodes every evaluation of ``call`` in ``context`` runs backward through (None: not a
        backward() on a tensor that requires grad, in every evaluation)."""
        graphs = []
        for e in self.calls.get(call, ()):
            if tuple(n for _, n in e.stack) != context:
                continue
            if not (isinstance(e.callee, BoundMethod) and e.callee.name == "backward"):
                return None
            t = e.callee.receiver
            if not isinstance(t, Tensor) or t.requires_grad is not True:
                return None
            graphs.append(t.graph)
        if not graphs:
            return None
        return frozenset.intersection(*graphs)

    def anchor(self, node_id, context):
        """The node of this frame that made a graph node: the op itself, or the call that ran it (None for a
        node of an earlier iteration of a loop: running the loop's statements again does not remake it)."""
        op, ctx = node_id
        if isinstance(op, tuple):
            return None
        k = len(context)
        if ctx[:k] != context:
            return None
        return ctx[k] if len(ctx) > k else op

    def where(self, node_id, context):
        """The node that made a graph node (an earlier iteration's included), in the innermost frame it shares
        with ``context``: a node made by a caller is named by the caller's statement."""
        op, ctx = node_id
        op = op[2] if isinstance(op, tuple) else op
        k = 0
        while k < len(ctx) and k < len(context) and ctx[k] is context[k]:
            k += 1
        return ctx[k] if len(ctx) > k else op

    def loop(self, loop, freed: dict, context, runs: int, sure: int) -> dict:
        """Walk ``runs`` runs of a loop's body, of which the first ``sure`` certainly happen (the others only
        narrow what is freed after the loop). Before each run after the first, the nodes the body made and a
        backward() freed become the previous iteration's: a loop-carried state runs backward through those."""
        freed = self.forget_previous(loop, freed)
        self.clear_created(loop.iter, freed, context)
        outs = []
        for i in range(runs):
            if i:
                self.carry(loop, freed, context)
            self.clear_created(loop.target, freed, context)  # what a user iterator's __next__ made
            self.quiet += i >= sure
            try:
                freed = self.block(loop.body.body, dict(freed), context)
            finally:
                self.quiet -= i >= sure
            outs.append(freed)
        if runs > sure:  # the loop may stop after any of its runs
            freed = {g: c for g, c in outs[sure - 1].items() if all(g in o for o in outs[sure:])}
        return self.forget_previous(loop, freed)

    def carry(self, loop, freed: dict, context):
        made = self.nodes_of(loop.body) | self.nodes_of(loop.target)
        for g, call in list(freed.items()):
            a = self.anchor(g, context)
            if a is not None and id(a) in made:
                freed.setdefault(((PREVIOUS, loop, g[0]), g[1]), call)

    @staticmethod
    def forget_previous(loop, freed: dict) -> dict:
        return {g: c for g, c in freed.items() if not (isinstance(g[0], tuple) and g[0][1] is loop)}

    def clear_created(self, stmt, freed: dict, context):
        if not freed:
            return
        inside = self.nodes_of(stmt)
        for g in list(freed):
            a = self.anchor(g, context)
            if a is not None and id(a) in inside:
                del freed[g]

    def block(self, stmts, freed: dict, context) -> dict:
        for stmt in stmts:
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    self.small(small, freed, context)
            elif isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
                continue
            elif isinstance(stmt, cst.With) and isinstance(stmt.body, cst.IndentedBlock):
                self.clear_created(stmt.items[0], freed, context) if stmt.items else None
                freed = self.block(stmt.body.body, freed, context)
            elif isinstance(stmt, cst.For) and isinstance(stmt.body, cst.IndentedBlock) and \
                    (trip_count(stmt, self.calls, context) or 0) >= 1:
                runs = min(trip_count(stmt, self.calls, context), 2)
                freed = self.loop(stmt, freed, context, runs, runs)
            elif isinstance(stmt, cst.For) and isinstance(stmt.body, cst.IndentedBlock) and \
                    self.runs_once(stmt, context):
                freed = self.loop(stmt, freed, context, 2, 1)
            elif isinstance(stmt, cst.If) and self.taken(stmt, context) is not None:
                freed = self.branch(stmt, freed, context)
            else:
                self.clear_created(stmt, freed, context)  # may run, or not: only forget what it may remake
        return freed

    def taken(self, stmt, context):
        """The branch an if statement certainly takes in this context (True: its body, False: its else), or
        None when the interpreter did not always find its test to go one way."""
        truths = self.branches.get(stmt, {}).get(context)
        return next(iter(truths)) if truths and len(truths) == 1 and None not in truths else None

    def branch(self, stmt, freed: dict, context) -> dict:
        """Walk the branch of an if statement that its test certainly takes."""
        self.clear_created(stmt.test, freed, context)
        if self.taken(stmt, context):
            return self.suite(stmt.body, freed, context)
        if stmt.orelse is None:
            return freed
        if isinstance(stmt.orelse, cst.If):
            return self.block([stmt.orelse], freed, context)
        return self.suite(stmt.orelse.body, freed, context)

    def suite(self, body, freed: dict, context) -> dict:
        if isinstance(body, cst.IndentedBlock):
            return self.block(body.body, freed, context)
        for small in body.body:  # a one-line suite: `if ready: loss.backward()`
            self.small(small, freed, context)
        return freed

    def runs_once(self, loop, context) -> bool:
        """Does this loop over a user iterator certainly run at least once (its number of runs unknown)?"""
        if loop.orelse is not None or ends_early(loop.body):
            return False
        return self.least.get(loop, {}).get(context, 0) >= 1

    def enter(self, small, freed: dict, context) -> dict:
        """Walk the bodies of the user functions ``small`` calls (in source order) under which a backward()
        runs: a backward() there frees, and needs, the caller's graphs too."""
        for node in self.calls_in(small):
            inner = context + (node,)
            if inner not in self.below:
                continue
            body = self.body_of(node, context)
            if body is not None:
                freed = self.block(body, freed, inner)
        return freed

    def calls_in(self, small) -> list:
        got = self._calls_in.get(id(small))
        if got is None:
            got = self._calls_in[id(small)] = [n for n in walk(small, prune=_PRUNE) if isinstance(n, cst.Call)]
        return got

    def body_of(self, call, context):
        """The statements of the one user function that every evaluation of ``call`` in ``context`` ran."""
        nodes = set()
        for e in self.calls.get(call, ()):
            if tuple(n for _, n in e.stack) != context:
                continue
            fn = _function_of(e.callee)
            if fn is None:
                return None
            nodes.add(fn)
        if len(nodes) != 1:
            return None
        fn = nodes.pop()
        return list(fn.body.body) if isinstance(fn, cst.FunctionDef) and isinstance(fn.body, cst.IndentedBlock) \
            else None

    def small(self, small, freed: dict, context):
        self.clear_created(small, freed, context)
        if self.below:
            after = self.enter(small, dict(freed), context)
            freed.clear()
            freed.update(after)
        for call in self.backwards(small):
            graph = self.graph_of(call, context)
            if graph is None:
                continue
            hit = [g for g in freed if g in graph]
            if hit and call not in self.reported and not self.quiet:
                # name the node of this frame that comes first in the source (never hash order)
                g = min(hit, key=lambda g: self.order(self.where(g, context)))
                self.reported.add(call)
                self.found.append((call, freed[g], self.where(g, context), isinstance(g[0], tuple)))
            if not self.retains(call):
                for g in graph:
                    if not isinstance(g[0], tuple):  # an earlier iteration's nodes: see carry()
                        freed.setdefault(g, call)


def _function_of(callee):
    """The FunctionDef a call of ``callee`` runs (a function, a bound method, a module's forward), or None."""
    from torchlint.analysis.values import ClassValue, Function, Instance, UserBound

    if isinstance(callee, UserBound):
        callee = callee.func
    if isinstance(callee, Function):
        from torchlint.analysis.deferred import full_def

        return callee.node if isinstance(callee.node, cst.FunctionDef) and full_def(callee.node) else None
    if isinstance(callee, Instance):
        for name in ("__call__", "forward"):
            for c in callee.cls.mro():
                for st in c.node.body.body if isinstance(c.node.body, cst.IndentedBlock) else ():
                    if isinstance(st, cst.FunctionDef) and st.name.value == name:
                        return st
        return None
    return None


def freed_graph_passes(model, reported: set, retains) -> list:
    """[(backward call, the earlier call that freed its graph, the node of this frame that made that graph,
    whether an earlier iteration of a loop made it)] for backward calls not in ``reported``."""
    w = _Walk(model, reported, retains)
    sites = {id(node): evs for node, evs in w.calls.items() if isinstance(node, cst.Call)
             and any(isinstance(e.callee, BoundMethod) and e.callee.name == "backward" for e in evs)}
    if not sites:
        return []
    for evs in sites.values():
        for e in evs:
            c = tuple(n for _, n in e.stack)
            w.below.update(c[:i] for i in range(1, len(c) + 1))
    for block in model.blocks:
        stmts = list(block.body)
        contexts: list = []
        for stmt in stmts:
            for nid in w.nodes_of(stmt) & sites.keys():
                for e in sites[nid]:
                    c = tuple(n for _, n in e.stack)
                    if c not in contexts:
                        contexts.append(c)
        for context in contexts:
            w.block(stmts, {}, context)
    return w.found
