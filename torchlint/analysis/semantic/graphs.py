"""Autograd-graph facts: which backward() passes free a graph that a later pass needs.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

import libcst as cst

from torchlint.analysis.api import CLASSES, load
from torchlint.analysis.cstwalk import ends_early, literal_range_count, walk
from torchlint.analysis.sinks import _arg as call_arg
from torchlint.analysis.semantic.blocks import statement_blocks
from torchlint.analysis.values import BoundMethod, Const, ModuleRef, Seq, Tensor, TorchObject

def _blocks(module):
    return [list(b.body) for b in statement_blocks(module)]


def _backward_stmt(stmt):
    """The call when ``stmt`` is exactly ``name.backward(...)``."""

    if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 and isinstance(stmt.body[0], cst.Expr):
        call = stmt.body[0].value
        if isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute) and call.func.attr.value == "backward" \
                and isinstance(call.func.value, cst.Name):
            return call
    return None


def _autograd_grad_stmt(ctx, stmt):
    """The call when ``stmt`` is ``torch.autograd.grad(name, ...)`` (as a statement or assigned, maybe indexed)."""

    if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
        return None
    small = stmt.body[0]
    value = small.value if isinstance(small, (cst.Expr, cst.Assign)) else None
    if isinstance(value, cst.Subscript):
        value = value.value
    if not isinstance(value, cst.Call) or not value.args or value.args[0].keyword is not None \
            or value.args[0].star or not isinstance(value.args[0].value, cst.Name):
        return None
    events = ctx.analysis.calls.get(value, [])
    if events and all(isinstance(e.callee, ModuleRef) and e.callee.qual == "torch.autograd.grad" for e in events):
        return value
    return None


def _add_names(t, names: set) -> None:
    """The names a target binds (``a``, ``a, (b, *c)``) into ``names``.  (Not a closure: one that calls itself is a
    reference cycle, garbage for the collector.)"""
    if isinstance(t, cst.Name):
        names.add(t.value)
    elif isinstance(t, (cst.Tuple, cst.List)):
        for el in t.elements:
            _add_names(el.value, names)
    elif isinstance(t, cst.StarredElement):
        _add_names(t.value, names)


def _assigned_names(root) -> set:
    names: set = set()
    for n in walk(root, prune=(cst.FunctionDef, cst.ClassDef)):
        if isinstance(n, cst.AssignTarget):
            _add_names(n.target, names)
        elif isinstance(n, (cst.AugAssign, cst.AnnAssign, cst.NamedExpr)):
            _add_names(n.target, names)
        elif isinstance(n, cst.For):
            _add_names(n.target, names)
        elif isinstance(n, cst.WithItem) and n.asname is not None:
            _add_names(n.asname.name, names)
        elif isinstance(n, (cst.FunctionDef, cst.ClassDef)) and n is not root:
            names.add(n.name.value)
    return names


def _rebinds(stmt, name: str) -> bool:
    """Could ``stmt`` change what ``name`` refers to (or free/rebuild its graph)?"""

    if name in _assigned_names(stmt):
        return True
    if not isinstance(stmt, cst.SimpleStatementLine):
        return True  # compound statements: be conservative
    for small in stmt.body:
        if isinstance(small, cst.Del):
            return True
    return False


def _straight(body):
    return list(body.body) if isinstance(body, cst.IndentedBlock) else []


def _counted_loops(module):
    """for-loops over range(n) with a literal n >= 2 (they certainly run twice), with the block holding them
    and their index in it: [(loop, block statements, index)]."""

    out = []
    where = {}
    loops = []
    for stmts in _blocks(module):
        for i, st in enumerate(stmts):
            if isinstance(st, cst.For):
                where[id(st)] = (stmts, i)
                loops.append(st)
    for node in loops:
        if node.orelse is not None:
            continue
        count = literal_range_count(node.iter)
        if count is not None and count >= 2:
            out.append((node, *where[id(node)]))
    return out


def _dynamic(module) -> bool:
    """exec()/eval() can rebind any name."""

    return any(isinstance(n, cst.Call) and isinstance(n.func, cst.Name) and n.func.value in ("exec", "eval")
               for n in walk(module))


_DYNAMIC = re.compile(r"(?<![\w.])(?:exec|eval)\s*\(")


_GLOBAL = re.compile(r"(?:^|;)[ \t]*(?:global|nonlocal)[ \t]+([\w \t,]+)", re.M)


def _global_names(source: str) -> set:
    """Names some function rebinds through ``global``/``nonlocal``: a call may change them.  Read from the text
    (a match inside a string only makes the rule more careful)."""
    return {name.strip() for m in _GLOBAL.finditer(source) for name in m.group(1).split(",") if name.strip()}


# Tensor methods and torch functions whose result certainly carries the graph of their tensor inputs.
_GRAPH_METHODS = set("""sum mean pow exp log abs sigmoid tanh relu view reshape flatten squeeze unsqueeze t transpose
permute clone mul add sub div matmul mm bmm softmax log_softmax norm square sqrt neg expand contiguous float double
sin cos prod amax amin logsumexp""".split())


_GRAPH_FUNCTIONS = {f"torch.{n}" for n in """sum mean pow exp log abs sigmoid tanh relu reshape flatten squeeze
unsqueeze transpose permute clone mul add sub div matmul mm bmm softmax log_softmax norm square sqrt neg prod amax
amin logsumexp""".split()} | {f"torch.nn.functional.{n}" for n in """relu gelu silu tanh sigmoid softmax log_softmax
linear mse_loss l1_loss smooth_l1_loss huber_loss binary_cross_entropy_with_logits""".split()}


_GRAPH_OPERATORS = ("Add", "Subtract", "Multiply", "Divide", "MatrixMultiply", "Power")


def _carries(ctx, node, names) -> bool:
    """Does ``node`` certainly carry the autograd graph of a tensor bound to one of ``names``?"""

    if isinstance(node, cst.Name):
        return node.value in names
    if isinstance(node, cst.BinaryOperation):
        return type(node.operator).__name__ in _GRAPH_OPERATORS and (
            _carries(ctx, node.left, names) or _carries(ctx, node.right, names))
    if isinstance(node, cst.UnaryOperation):
        return type(node.operator).__name__ in ("Minus", "Plus") and _carries(ctx, node.expression, names)
    if not isinstance(node, cst.Call) or any(a.star for a in node.args):
        return False
    events = ctx.analysis.calls.get(node, [])
    if not events or not all(isinstance(e.result, Tensor) and e.result.requires_grad for e in events):
        return False
    inputs = [a.value for a in node.args if a.keyword is None]
    callees = [e.callee for e in events]
    if all(isinstance(c, BoundMethod) and isinstance(c.receiver, Tensor) and c.name in _GRAPH_METHODS
           for c in callees) and isinstance(node.func, cst.Attribute):
        return _carries(ctx, node.func.value, names) or any(_carries(ctx, v, names) for v in inputs)
    if all(isinstance(c, ModuleRef) and c.qual in _GRAPH_FUNCTIONS for c in callees):
        return any(_carries(ctx, v, names) for v in inputs)
    if all(isinstance(c, TorchObject) and c.qual.startswith("torch.nn.") and _differentiable_module(c)
           for c in callees):
        return any(_carries(ctx, v, names) for v in inputs[:1])
    return False


def _shared_in_block(ctx, block, unsafe, retains):
    """[(second backward call, first backward call, intermediate, its definition)] for backward() calls on two
    different names of ``block`` whose values both carry one intermediate's graph (with saved tensors)."""

    cands: dict = {}     # intermediate -> its definition statement
    carrying: dict = {}  # name -> set of intermediates its value carries
    freed: dict = {}     # intermediate -> (first backward call, name backpropagated)
    out = []
    for stmt in block:
        call = _backward_stmt(stmt)
        if call is not None:
            name = call.func.value.value
            inters = carrying.get(name, set())
            hit = next(((i, freed[i]) for i in sorted(inters) if i in freed and freed[i][1] != name), None)
            if hit is not None and name not in unsafe:
                inter, (first, _) = hit
                out.append((call, first, inter, cands[inter]))
                continue
            if not retains(call):
                for i in inters:
                    freed.setdefault(i, (call, name))
            continue
        single = _single_assign(stmt)
        rebound = _assigned_names(stmt) if not isinstance(stmt, cst.SimpleStatementLine) or single is None \
            else {single[0]}
        if single is None:
            for n in rebound:
                cands.pop(n, None)
                carrying.pop(n, None)
                freed.pop(n, None)
            for n in list(carrying):
                carrying[n] = {i for i in carrying[n] if i not in rebound}
            continue
        target, value = single
        carried = {i for i in cands if target != i and _carries(ctx, value, {i} | {k for k, v in carrying.items()
                                                                              if i in v})}
        cands.pop(target, None)
        freed.pop(target, None)
        for n in list(carrying):
            carrying[n] = {i for i in carrying[n] if i != target}
        carrying[target] = carried
        if target not in unsafe and isinstance(value, cst.Call):
            events = ctx.analysis.calls.get(value, [])
            if events and all(isinstance(e.result, Tensor) and e.result.requires_grad and e.result.saved
                              and e.grad_enabled is not False for e in events):
                cands[target] = stmt
    return out


def _differentiable_module(obj) -> bool:
    """A torch.nn layer, loss or activation, or a Sequential made only of those."""

    if obj.qual == "torch.nn.Sequential":
        kids = obj.attr("children", None)
        return isinstance(kids, Seq) and bool(kids.items) and all(
            isinstance(k, TorchObject) and k.qual != "torch.nn.Sequential" and _layer_or_loss(k.qual)
            for k in kids.items)
    return _layer_or_loss(obj.qual)


def _layer_or_loss(qual: str) -> bool:
    load()
    entry = CLASSES.get(qual)
    return entry is not None and entry.group in ("layers", "loss", "activations") and not qual.endswith(
        ("Embedding", "EmbeddingBag"))


def _shared_intermediate(ctx, name, before, outer, unsafe):
    """(intermediate name, its definition) when ``name`` is built in straight-line loop statements ``before``
    from a tensor defined before the loop (in ``outer``, the statements preceding it in the same block) whose graph
    certainly holds saved tensors."""

    # Candidate intermediates: simple `h = <call>` statements before the loop, not rebound in between.
    candidates: dict = {}
    for stmt in outer:
        single = _single_assign(stmt)
        for n in _assigned_names(stmt):
            candidates.pop(n, None)
        if single is None:
            continue
        target, value = single
        if target in unsafe or not isinstance(value, cst.Call):
            continue
        events = ctx.analysis.calls.get(value, [])
        if events and all(isinstance(e.result, Tensor) and e.result.requires_grad and e.result.saved
                          and e.grad_enabled is not False for e in events):
            candidates[target] = stmt
    if not candidates:
        return None
    # Follow the graph through the loop body's straight-line assignments.
    carrying: dict = {}  # loop-local name -> the intermediate it carries
    for stmt in before:
        single = _single_assign(stmt)
        if single is None:
            if not isinstance(stmt, cst.SimpleStatementLine):
                for n in _assigned_names(stmt):
                    carrying.pop(n, None)
            else:
                for n in _assigned_names(stmt):
                    carrying.pop(n, None)
            continue
        target, value = single
        found = None
        for inter in candidates:
            if _carries(ctx, value, {inter} | {k for k, v in carrying.items() if v == inter}):
                found = inter
                break
        if found is not None and target not in candidates:
            carrying[target] = found
        else:
            carrying.pop(target, None)
    inter = carrying.get(name)
    if inter is None:
        return None
    return inter, candidates[inter]


_RECURRENT = {f"torch.nn.{n}" for n in ("RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell")}


def _flat_names(target) -> list:
    """The names of an assignment target made only of names, tuples and lists; None otherwise."""

    if isinstance(target, cst.Name):
        return [target.value]
    if isinstance(target, (cst.Tuple, cst.List)):
        out = []
        for el in target.elements:
            if isinstance(el, cst.StarredElement):
                return None
            sub = _flat_names(el.value)
            if sub is None:
                return None
            out += sub
        return out
    return None


def _state_inputs(ctx, value) -> set:
    """Names fed as the recurrent state to ``value``: the hidden-state argument of a torch.nn RNN module or
    cell (``rnn(x, h)``, ``lstm(x, (h, c))``, ``hx=h``), when the call certainly makes a graph with saved
    tensors from it; or any name a differentiable expression with saved tensors is certainly built from."""

    if not isinstance(value, cst.Call) or any(a.star for a in value.args):
        return set()
    events = ctx.analysis.calls.get(value, [])
    if not events or any(e.grad_enabled is False for e in events):
        return set()
    if all(isinstance(e.callee, TorchObject) and e.callee.qual in _RECURRENT for e in events):
        positional = [a.value for a in value.args if a.keyword is None]
        hx = [a.value for a in value.args if a.keyword is not None and a.keyword.value == "hx"]
        arg = hx[0] if hx else positional[1] if len(positional) > 1 else None
        names = _flat_names(arg) if arg is not None else None
        return set(names or ())
    if all(isinstance(e.result, Tensor) and e.result.requires_grad and e.result.saved for e in events):
        return {n for n in _names_read(value) if _carries(ctx, value, {n})}
    return set()


def _names_read(node) -> set:
    return {n.value for n in walk(node, prune=(cst.Lambda,)) if isinstance(n, cst.Name)}


def _carried_state(ctx, name, body, pos, outer, unsafe):
    """(state name, the statement feeding it back) when ``name``, backpropagated at ``body[pos]``, is built
    from a recurrent state: a name defined before the loop that a statement of the loop body computes from
    its own previous value (``h = cell(x, h)``, ``out, (h, c) = lstm(x, (h, c))``) through a graph with
    saved tensors.  Each iteration then links its graph to the previous one, which the previous backward()
    freed.  Only straight-line loop bodies; the state must appear nowhere else in the loop (a later
    ``h = h.detach()`` or ``h.detach_()`` would cut the link)."""

    defined_before = set()
    for stmt in outer:
        defined_before |= _assigned_names(stmt)
    for k, stmt in enumerate(body[:pos]):
        if not (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1
                and isinstance(stmt.body[0], cst.Assign) and len(stmt.body[0].targets) == 1):
            continue
        targets = _flat_names(stmt.body[0].targets[0].target)
        if not targets:
            continue
        states = (set(targets) & _state_inputs(ctx, stmt.body[0].value) & defined_before) - unsafe
        # each state is read from the previous iteration: not assigned earlier in this one
        states -= {n for st in body[:k] for n in _assigned_names(st)}
        # each state appears nowhere in the loop but in the feedback and in what builds the loss from it
        # (a later `h = h.detach()` or `h.detach_()` cuts the link), and is not rebound before the loss
        if not states:
            continue
        seen_elsewhere = {n.value for i, b in enumerate(body) if i != k and not (k < i < pos)
                          for n in walk(b) if isinstance(n, cst.Name)}  # lambdas included
        rebound = set().union(*(_assigned_names(b) for b in body[k + 1:pos]))
        states -= seen_elsewhere | rebound
        if not states:
            continue
        # the loss carries the graph of the feedback statement: follow straight-line assignments to it
        carrying = set(targets)
        for b in body[k + 1:pos]:
            single = _single_assign(b)
            if single is None:
                carrying -= _assigned_names(b)
                continue
            target, value = single
            if _carries(ctx, value, carrying):
                carrying.add(target)
            else:
                carrying.discard(target)
        if name in carrying:
            return [st for st in targets if st in states], stmt
    return None


def _single_assign(stmt):
    """(name, value) when ``stmt`` is exactly ``name = value``."""

    if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 and isinstance(stmt.body[0], cst.Assign):
        a = stmt.body[0]
        if len(a.targets) == 1 and isinstance(a.targets[0].target, cst.Name):
            return a.targets[0].target.value, a.value
    return None


# ---------------------------------------------------------------------------
# The facts TL008 reports, and how they are found.


@dataclass
class GraphReuse:
    """A backward pass (``call``) through a graph that an earlier pass (``first``) freed.

    ``kind`` says how it was found:
    - ``again``: the same name backpropagated twice in one block (``first`` may be torch.autograd.grad);
    - ``before_loop``: a name computed before a loop that runs at least twice, backpropagated in it;
    - ``carried``: a recurrent state (``states``) fed back by ``where`` without detach();
    - ``shared_before_loop``: a loss built in the loop from ``inter``, computed once before it at ``where``;
    - ``shared_in_block``: two losses of one block built from ``inter`` (defined at ``where``);
    - ``freed``: the graph provenance of the tensor runs through a node with saved tensors that ``first``
      freed; ``where`` is the expression of this frame that built that node;
    - ``carried_graph``: the same, for a node ``where`` built in the previous iteration of a loop, reached
      through a value the loop carries into the next iteration (a recurrent state that starts as None).
    """

    kind: str
    call: cst.Call
    first: Optional[cst.Call] = None
    name: str = ""
    inter: str = ""
    where: Optional[cst.CSTNode] = None
    states: tuple = ()


def _given(arg) -> bool:
    """Is the argument there and not literally False/None (unknown counts as given)?"""
    if arg is None:
        return False
    if arg is ...:
        return True
    return not (isinstance(arg.value, cst.Name) and arg.value.value in ("False", "None"))


def _flag_value(arg, call, calls, pos: int, name: str):
    """The constant (True, False or None) that every evaluation of ``call`` passed for the argument ``arg``
    (an expression such as ``self.retain``); ``...`` when that is not one known constant."""
    if calls is None or arg is None or arg is ... or (isinstance(arg.value, cst.Name)
                                                      and arg.value.value in ("True", "False", "None")):
        return ...
    got = set()
    for e in calls.get(call, ()):
        v = e.kwargs.get(name) if arg.keyword is not None else e.args[pos] if pos < len(e.args) else None
        if not (isinstance(v, Const) and (v.value is None or isinstance(v.value, bool))):
            return ...
        got.add(v.value)
    return got.pop() if len(got) == 1 else ...


def retains(call, rpos=1, cpos=2, calls=None) -> bool:
    """Does this backward()/autograd.grad() call keep its graph (retain_graph, or create_graph by default)?
    With the interpreter's ``calls``, an argument that is not a literal counts by the value it certainly has;
    otherwise an unknown argument counts as given."""
    arg = call_arg(call, rpos, "retain_graph")
    value = _flag_value(arg, call, calls, rpos, "retain_graph")
    if value is not ...:
        if value is not None:
            return value
        arg = None
    if arg is not None and arg is not ... and isinstance(arg.value, cst.Name) and arg.value.value == "None":
        arg = None  # retain_graph=None: the default, which follows create_graph
    if arg is not None:
        return _given(arg)
    # retain_graph defaults to create_graph
    arg = call_arg(call, cpos, "create_graph")
    value = _flag_value(arg, call, calls, cpos, "create_graph")
    return bool(value) if value is not ... else _given(arg)


def _certain(model, call) -> bool:
    vals = [e.callee.receiver for e in model.analysis.calls.get(call, [])
            if isinstance(e.callee, BoundMethod) and e.callee.name == "backward"]
    return bool(vals) and all(isinstance(v, Tensor) and v.requires_grad and v.saved for v in vals)


def graph_reuses(model) -> list:
    """Every backward pass of the file through a graph an earlier pass certainly freed."""
    src = model.source
    if _DYNAMIC.search(src) and _dynamic(model.module):
        return []

    def kept(call, rpos=1, cpos=2):  # by the values the interpreter gave the arguments
        return retains(call, rpos, cpos, model.analysis.calls)

    out: list = []
    rebound_elsewhere = _global_names(src)
    # only blocks that backpropagate a plain name somewhere among their own statements matter
    blocks = [b for b in _blocks(model.module) if any(_backward_stmt(st) is not None for st in b)]
    for block in blocks:
        seen: dict = {}  # name -> first backward call (straight line, not retained)
        for stmt in block:
            call = _backward_stmt(stmt)
            if call is not None:
                name = call.func.value.value
                if name in seen and name not in rebound_elsewhere and _certain(model, call):
                    out.append(GraphReuse("again", call, seen.pop(name), name))
                    continue
                if not kept(call):
                    seen[name] = call
                continue
            for name in list(seen):
                if _rebinds(stmt, name):
                    seen.pop(name)
            # g = torch.autograd.grad(loss, w) frees the graph just like loss.backward()
            gcall = _autograd_grad_stmt(model, stmt)
            if gcall is not None and not kept(gcall, 3, 4):
                seen[gcall.args[0].value.value] = gcall
    for loop, block, index in (_counted_loops(model.module) if "range(" in src else ()):
        if ends_early(loop.body):
            continue
        assigned = _assigned_names(loop.body)
        body = _straight(loop.body)
        for pos, stmt in enumerate(body):
            call = _backward_stmt(stmt)
            if call is None:
                continue
            name = call.func.value.value
            if kept(call) or name in rebound_elsewhere or not _certain(model, call):
                continue
            if name not in assigned:
                out.append(GraphReuse("before_loop", call, name=name))
                continue
            state = _carried_state(model, name, body, pos, block[:index], rebound_elsewhere)
            if state is not None:
                states, where = state
                out.append(GraphReuse("carried", call, name=name, where=where, states=tuple(states)))
                continue
            shared = _shared_intermediate(model, name, body[:pos], block[:index], assigned | rebound_elsewhere)
            if shared is not None:
                inter, where = shared
                out.append(GraphReuse("shared_before_loop", call, name=name, inter=inter, where=where))
    # Straight line: two losses built from one intermediate (a GAN's `fake = G(z)` used, not detached, by
    # the discriminator's loss and then by the generator's): the first backward() frees its graph.
    for block in blocks:
        if sum(_backward_stmt(st) is not None for st in block) < 2:
            continue
        for call, first, inter, where in _shared_in_block(model, block, rebound_elsewhere, kept):
            if _certain(model, call):
                out.append(GraphReuse("shared_in_block", call, first, call.func.value.value, inter, where))
    if not rebound_elsewhere:
        from torchlint.analysis.semantic.provenance import freed_graph_passes

        out += [GraphReuse("carried_graph" if carried else "freed", call, first, where=where)
                for call, first, where, carried in freed_graph_passes(model, {r.call for r in out}, kept)]
    return out
