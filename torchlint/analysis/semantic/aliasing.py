"""Changes to a tensor that the abstract interpreter cannot attribute (aliasing facts).

The interpreter follows values bound to names: `x.requires_grad_()` or
`x.add_(w)` on a plain name updates `x`, and nothing else.  The same tensor
object may also be reachable under another name (`y = x`), inside a
container (`xs = [x]`), as a function parameter, or as an attribute, and
changing it there makes `x` require grad too.  A rule that must be certain
that a tensor does not require grad asks :func:`untracked_grad_change` first.
"""
from __future__ import annotations

import libcst as cst

from torchlint.analysis.cstwalk import children, dotted, walk

_LITERALS = ("Integer", "Float", "Imaginary", "SimpleString", "ConcatenatedString")


_CONTAINER_CALLS = {"dict", "list", "set", "OrderedDict", "defaultdict", "deque", "Counter"}


# operand positions that make a new object, never an alias of the operand
_NO_ALIAS_PARENTS = ("Attribute", "Subscript", "BinaryOperation", "UnaryOperation", "Comparison",
                     "ComparisonTarget", "BooleanOperation", "AssignTarget", "AugAssign", "Del",
                     "Param", "Index", "Slice", "SubscriptElement", "FormattedStringExpression", "If", "While",
                     "IfExp", "Assert", "Global", "Nonlocal", "Decorator", "ImportAlias", "AsName")


def _is_literal(node) -> bool:
    if type(node).__name__ in _LITERALS:
        return True
    if isinstance(node, cst.Name) and node.value in ("True", "False", "None"):
        return True
    if isinstance(node, cst.UnaryOperation):
        return _is_literal(node.expression)
    return False


def _is_false(node) -> bool:
    return isinstance(node, cst.Name) and node.value == "False"


def _root_name(node):
    while isinstance(node, (cst.Attribute, cst.Call, cst.Subscript)):
        node = node.func if isinstance(node, cst.Call) else node.value
    return node.value if isinstance(node, cst.Name) else None


def _fresh(node, torch_names) -> bool:
    """Does ``node`` certainly build a new tensor object (never an alias of an existing one)?"""

    if isinstance(node, (cst.BinaryOperation, cst.UnaryOperation)):
        return True
    if not isinstance(node, cst.Call):
        return False
    f = node.func
    if not isinstance(f, cst.Attribute):
        return False
    if isinstance(f.value, cst.Call) or isinstance(f.value, (cst.BinaryOperation, cst.UnaryOperation)):
        return _fresh(f.value, torch_names)  # torch.randn(3).float()
    if f.attr.value in ("as_tensor", "asarray", "Parameter"):
        return False
    return _root_name(f) in torch_names


class _Scan:
    def __init__(self, module):
        self.parent: dict = {}
        self.nodes: list = []
        stack = [module]
        while stack:
            n = stack.pop()
            self.nodes.append(n)
            for c in children(n):
                self.parent[id(c)] = n
                stack.append(c)
        self.names = None  # identifier -> its Name nodes (built on first use)
        self.torch_names = {"torch"}
        self.numpy_names: set = set()
        self.modules: set = set()  # names bound by `import x` / `import x as y`
        self.bindings: dict = {}  # name -> [value node or None (bound by something that is not an assignment)]
        for n in self.nodes:
            if isinstance(n, cst.ImportAlias):
                full = dotted(n.name)
                bound = n.asname.name.value if n.asname is not None and isinstance(n.asname.name, cst.Name) \
                    else full.split(".", 1)[0]
                if isinstance(self.parent.get(id(n)), cst.Import):
                    self.modules.add(bound)
                    if full == "numpy":
                        self.numpy_names.add(bound)
                if full == "torch" or full.startswith("torch."):
                    if n.asname is not None and isinstance(n.asname.name, cst.Name):
                        self.torch_names.add(n.asname.name.value)
            elif isinstance(n, cst.ImportFrom) and n.module is not None and dotted(n.module).startswith("torch") \
                    and not isinstance(n.names, cst.ImportStar):
                for a in n.names:
                    bound = a.asname.name if a.asname is not None else a.name
                    if isinstance(bound, cst.Name):
                        self.torch_names.add(bound.value)
            elif isinstance(n, cst.Assign):
                for t in n.targets:
                    self._bind(t.target, n.value)
            elif isinstance(n, (cst.AnnAssign, cst.NamedExpr)):
                self._bind(n.target, n.value)
            elif isinstance(n, cst.AugAssign):
                self._bind(n.target, None)
            elif isinstance(n, (cst.For, cst.CompFor)):
                self._bind(n.target, None)
            elif isinstance(n, cst.WithItem) and n.asname is not None:
                self._bind(n.asname.name, None)
            elif isinstance(n, cst.ExceptHandler) and n.name is not None:
                self._bind(n.name.name, None)
            elif isinstance(n, cst.Param):
                self._bind(n.name, None)
            elif isinstance(n, (cst.Global, cst.Nonlocal)):
                for item in n.names:
                    self._bind(item.name, None)

    def _bind(self, target, value):
        if isinstance(target, cst.Name):
            self.bindings.setdefault(target.value, []).append(value)
        elif isinstance(target, cst.Attribute):
            self.bindings.setdefault("." + target.attr.value, []).append(value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for el in target.elements:
                self._bind(el.value, None)
        elif isinstance(target, cst.StarredElement):
            self._bind(target.value, None)

    def aliased(self, name: str) -> bool:
        """Can the object bound to ``name`` also be reached some other way?"""

        values = self.bindings.get(name)
        if not values or any(v is None or not _fresh(v, self.torch_names) for v in values):
            return True
        if self.names is None:
            self.names = {}
            for n in self.nodes:
                if isinstance(n, cst.Name):
                    self.names.setdefault(n.value, []).append(n)
        for n in self.names.get(name, ()):
            p = self.parent.get(id(n))
            if p is None or type(p).__name__ not in _NO_ALIAS_PARENTS:
                return True  # obj.name, name.x, name[i], name * 2 ... make new objects; anything else may alias
        return False

    def literal_name(self, node) -> bool:
        """A name bound only to literals (``fake_label = 0``)."""

        if not isinstance(node, cst.Name):
            return False
        values = self.bindings.get(node.value)
        return bool(values) and all(v is not None and _is_literal(v) for v in values)

    def foreign(self, node) -> bool:
        """Is ``node`` rooted at an imported module other than torch (``os.environ``), or bound only to NumPy
        calls (``buf = np.zeros(3)``)?"""

        root = _root_name(node)
        if root is None:
            return False
        if isinstance(node, cst.Attribute) and root in self.modules and root not in self.torch_names:
            return True
        if isinstance(node, cst.Name):
            values = self.bindings.get(node.value)
            return bool(values) and all(isinstance(v, cst.Call) and _root_name(v.func) in self.numpy_names
                                        for v in values)
        return False

    def container(self, node) -> bool:
        """Is ``node`` (the base of a subscript store) certainly a dict/list, not a tensor?"""

        key = node.value if isinstance(node, cst.Name) else "." + node.attr.value if isinstance(node, cst.Attribute) else None
        values = self.bindings.get(key) if key else None
        if not values:
            return False
        for v in values:
            if isinstance(v, (cst.Dict, cst.List, cst.Set, cst.DictComp, cst.ListComp, cst.SetComp)):
                continue
            if isinstance(v, cst.Call) and dotted(v.func).rsplit(".", 1)[-1] in _CONTAINER_CALLS:
                continue
            return False
        return True


def _into_container(target, analysis) -> bool:
    """Did every store the interpreter ran at ``target`` (``c[k] = v``) write into a dict or a list? Stores in a
    function analysed on its own may have an unknown container; at least one store must show it."""
    from torchlint.analysis.values import DictValue, Seq, UnknownValue

    stores = getattr(analysis, "item_stores", {}).get(target) if analysis is not None else None
    if not stores:
        return False
    seen = False
    for base, generic in stores:
        if isinstance(base, (DictValue, Seq)):
            seen = True
        elif not (generic and isinstance(base, UnknownValue)):
            return False
    return seen


def untracked_grad_change(module, analysis=None) -> bool:
    """Does the file change a tensor in place where the interpreter cannot follow it?

    Counted: ``t.requires_grad_()`` / ``t.requires_grad = ...`` (unless set to
    False), in-place methods with a non-literal argument (``t.add_(w)``),
    ``t[i] = v`` stores of a non-literal into something that may be a tensor,
    ``setattr(t, "requires_grad", ...)`` and ``out=`` arguments.  A change on a
    plain name that is bound only to freshly built tensors and never aliased is
    followed by the interpreter and does not count, nor does a store that the
    interpreter (``analysis``) saw write into a dict or a list every time it ran.
    """

    scan = None

    def get_scan():
        nonlocal scan
        if scan is None:
            scan = _Scan(module)
        return scan


    def untracked_receiver(node) -> bool:
        if _fresh(node, get_scan().torch_names):
            return False  # torch.ones(1, 1).fill_(x): a new object, reachable only through this expression's value
        return not isinstance(node, cst.Name) or get_scan().aliased(node.value)

    def statement_level(call, receiver) -> bool:
        """``x.op_(...)`` as a statement, or ``x = x.op_(...)``: the result is not bound to another name."""
        if not isinstance(receiver, cst.Name):
            return True  # a fresh receiver: the result is the only way to reach it
        p = get_scan().parent.get(id(call))
        if isinstance(p, cst.Expr):
            return True
        return isinstance(p, cst.Assign) and len(p.targets) == 1 and isinstance(p.targets[0].target, cst.Name) \
            and p.targets[0].target.value == receiver.value

    for n in walk(module):
        if isinstance(n, cst.Call):
            f = n.func
            if any(a.keyword is not None and a.keyword.value == "out" for a in n.args):
                return True
            if isinstance(f, cst.Attribute):
                attr = f.attr.value
                if attr == "requires_grad_":
                    if n.args and _is_false(n.args[0].value):
                        continue
                    if untracked_receiver(f.value) or not statement_level(n, f.value):
                        return True
                elif attr.endswith("_") and not attr.startswith("_") and not attr.endswith("__"):
                    if attr in _NEVER_GRAD_INPLACE or _through_data(f.value):
                        continue
                    if any(not _is_literal(a.value) and not get_scan().literal_name(a.value) for a in n.args) and (
                            untracked_receiver(f.value) or not statement_level(n, f.value)):
                        return True
                elif attr == "__setattr__" and len(n.args) >= 2 and _mentions_requires_grad(n.args[0].value):
                    return True
            elif isinstance(f, cst.Name) and f.value == "setattr" and len(n.args) >= 2 \
                    and _mentions_requires_grad(n.args[1].value):
                return True
        elif isinstance(n, (cst.Assign, cst.AugAssign, cst.AnnAssign)):
            targets = [t.target for t in n.targets] if isinstance(n, cst.Assign) else [n.target]
            value = n.value
            for t in targets:
                if isinstance(t, cst.Attribute) and t.attr.value == "requires_grad":
                    if value is not None and _is_false(value):
                        continue
                    if untracked_receiver(t.value):
                        return True
                elif isinstance(t, cst.Subscript):
                    if value is None or _is_literal(value) or _string_index(t) or _through_data(t.value) \
                            or _never_requires_grad(value, get_scan().torch_names):
                        continue
                    if not get_scan().container(t.value) and not get_scan().foreign(t.value) \
                            and not _into_container(t, analysis):
                        return True
    return False


# In-place calls that never make a tensor require grad: initialisers and random fills (run under no_grad or take
# Python numbers), gradient clipping and AMP unscaling (they write .grad).
_NEVER_GRAD_INPLACE = set("""random_ uniform_ normal_ bernoulli_ exponential_ geometric_ cauchy_ log_normal_
xavier_normal_ xavier_uniform_ kaiming_normal_ kaiming_uniform_ orthogonal_ trunc_normal_ constant_ ones_ zeros_ eye_
dirac_ sparse_ clip_grad_norm_ clip_grad_value_ unscale_ zero_ detach_""".split())


_NO_GRAD_METHODS = {"item", "detach", "tolist", "numpy", "size", "dim", "numel", "long", "int", "bool", "argmax",
                    "argmin"}


_FACTORIES = {"tensor", "zeros", "ones", "empty", "full", "randn", "rand", "randint", "arange", "linspace", "eye",
              "zeros_like", "ones_like", "empty_like", "full_like", "randn_like", "rand_like", "as_tensor"}


def _never_requires_grad(value, torch_names) -> bool:
    """A value that certainly is not a tensor requiring grad: displays, f-strings, ``t.item()``, ``t.detach()``,
    factories without ``requires_grad``."""

    if isinstance(value, (cst.Dict, cst.List, cst.Tuple, cst.Set, cst.DictComp, cst.ListComp, cst.SetComp,
                          cst.FormattedString, cst.SimpleString, cst.ConcatenatedString)):
        return True
    if isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute):
        if value.func.attr.value in _NO_GRAD_METHODS:
            return True
        if value.func.attr.value in _FACTORIES and _root_name(value.func) in torch_names and not any(
                a.keyword is not None and a.keyword.value == "requires_grad" for a in value.args):
            return True
    if isinstance(value, cst.Call) and isinstance(value.func, cst.Name) and value.func.value in (
            "str", "int", "float", "bool", "len", "dict", "list", "tuple", "set"):
        return True
    return False


def _through_data(node) -> bool:
    """``x.data...``: a detached alias; changing it never changes whether ``x`` requires grad."""

    while isinstance(node, (cst.Attribute, cst.Subscript)):
        if isinstance(node, cst.Attribute) and node.attr.value == "data":
            return True
        node = node.value
    return False


def _string_index(sub) -> bool:
    """``d["key"] = v``: tensors cannot be indexed by a string, so ``d`` is a mapping."""

    return len(sub.slice) == 1 and isinstance(sub.slice[0].slice, cst.Index) and \
        isinstance(sub.slice[0].slice.value, (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString))


def _mentions_requires_grad(node) -> bool:
    return isinstance(node, cst.SimpleString) and "requires_grad" in node.value
