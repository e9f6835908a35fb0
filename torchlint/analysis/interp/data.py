"""Data pipelines and command lines as training scripts write them.

- ``torch.utils.data``: ``TensorDataset``, a user ``Dataset`` (``__getitem__``/``__len__``), and
  ``DataLoader`` with the default collate (stacking adds the batch dimension; numbers become tensors;
  tuples, lists and dicts are collated field by field), ``batch_size``, ``drop_last`` and a user
  ``collate_fn``. Iterating a loader (``for xb, yb in loader``, ``enumerate(loader)``,
  ``next(iter(loader))``) gives one batch. The batch dimension is what the first batch has:
  ``batch_size``, or the dataset's length when that is known and smaller (the first batch is the one
  that fails, so a later, smaller last batch does not change a verdict).
- ``argparse``: ``ArgumentParser().add_argument(...)`` and ``parse_args([...])`` with a literal argument
  list give the options' values (the defaults, or what the list sets, converted by ``type=``); with no
  list (the real command line) an option's value is unknown, of its ``type`` when that is given.
"""
from __future__ import annotations

from typing import Optional

from torchlint.analysis.interp.state import UNROLL_LIMIT
from torchlint.analysis.values import (
    UNKNOWN,
    ClassValue,
    Const,
    DictValue,
    Function,
    Instance,
    Number,
    Seq,
    Tensor,
    TorchObject,
    Value,
    is_number,
)

DATALOADER = "torch.utils.data.DataLoader"
TENSOR_DATASET = "torch.utils.data.TensorDataset"
CONSTRUCTORS = {
    "torch.utils.data.DataLoader": DATALOADER,
    "torch.utils.data.dataloader.DataLoader": DATALOADER,
    "torch.utils.data.TensorDataset": TENSOR_DATASET,
    "torch.utils.data.dataset.TensorDataset": TENSOR_DATASET,
    "argparse.ArgumentParser": "argparse.ArgumentParser",
    "argparse.Namespace": "argparse.Namespace",
}
# DataLoader(dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0, collate_fn=None,
#            pin_memory=False, drop_last=False, ...)
_LOADER_PARAMS = ("dataset", "batch_size", "shuffle", "sampler", "batch_sampler", "num_workers", "collate_fn",
                  "pin_memory", "drop_last")

# argparse objects are mutable Python objects: instances of these stand-in classes (no source node)
_PARSER_NODE, _NAMESPACE_NODE = object(), object()
PARSER = ClassValue(node=_PARSER_NODE, frame=None, name="ArgumentParser")
NAMESPACE = ClassValue(node=_NAMESPACE_NODE, frame=None, name="Namespace")
_TYPES = {"builtins.int": int, "builtins.float": float, "builtins.str": str}


def is_stand_in(inst) -> bool:
    return isinstance(inst, Instance) and inst.cls.node in (_PARSER_NODE, _NAMESPACE_NODE)


class DataPipelines:
    """Datasets, loaders and argument parsers of the abstract interpreter; shared state on ``self.ip``."""

    def __init__(self, ip):
        self.ip = ip

    # -- construction

    def construct(self, qual: str, args: list, kwargs: dict, node) -> Value:
        kind = CONSTRUCTORS[qual]
        if kind == TENSOR_DATASET:
            if kwargs or not args or not all(isinstance(a, Tensor) for a in args):
                return UNKNOWN
            return TorchObject(TENSOR_DATASET, (("tensors", Seq("tuple", tuple(args))),), node=node)
        if kind == DATALOADER:
            bound = dict(zip(_LOADER_PARAMS, args))
            if len(args) > len(_LOADER_PARAMS) or any(k in bound for k in kwargs):
                return UNKNOWN
            bound.update(kwargs)
            if "batch_sampler" in bound and not _is_none(bound["batch_sampler"]):
                return UNKNOWN  # the sampler decides the batch size
            attrs = [("dataset", bound.get("dataset", UNKNOWN)), ("batch_size", bound.get("batch_size", Const(1))),
                     ("drop_last", bound.get("drop_last", Const(False))),
                     ("collate_fn", bound.get("collate_fn", Const(None)))]
            return TorchObject(DATALOADER, tuple(attrs), node=node)
        if kind == "argparse.Namespace":  # argparse.Namespace(lr=0.1, ...): an options object built by hand
            if args:
                return UNKNOWN
            ns = self.ip.new_instance(NAMESPACE)
            for k, v in kwargs.items():
                ns.attrs[k] = v
            return ns
        parser = self.ip.new_instance(PARSER)
        parser.attrs["__options__"] = []
        return parser

    # -- datasets and loaders

    def length(self, v: Value) -> Value:
        """``len(v)`` for a dataset or a loader (Const when known, else an int of unknown value)."""
        if isinstance(v, TorchObject) and v.qual == TENSOR_DATASET:
            first = v.attr("tensors").items[0]
            d = first.shape[0] if first.shape else None
            return Const(d) if isinstance(d, int) else Number("int")
        if isinstance(v, TorchObject) and v.qual == DATALOADER:
            n, b = self.length(v.attr("dataset")), v.attr("batch_size")
            if isinstance(n, Const) and isinstance(b, Const) and isinstance(b.value, int) and b.value > 0:
                drop = v.attr("drop_last")
                full, rest = divmod(n.value, b.value)
                if isinstance(drop, Const):
                    return Const(full if drop.value or not rest else full + 1)
            return Number("int")
        if isinstance(v, Instance) and not is_stand_in(v):
            fn = self.ip.objects.class_attr(v.cls, "__len__")
            if isinstance(fn, Function):
                r = self.ip.objects.call_user(fn, [v], {})
                return r if isinstance(r, Const) and isinstance(r.value, int) else Number("int")
        return Number("int")

    def item(self, ds: Value) -> Value:
        """One element of a dataset."""
        if isinstance(ds, TorchObject) and ds.qual == TENSOR_DATASET:
            return Seq("tuple", tuple(self.ip.tensors.element_of(t) for t in ds.attr("tensors").items))
        if isinstance(ds, Instance) and not is_stand_in(ds):
            fn = self.ip.objects.class_attr(ds.cls, "__getitem__")
            if isinstance(fn, Function):
                return self.ip.objects.call_user(fn, [ds, Number("int")], {})
            return UNKNOWN
        if isinstance(ds, (Seq, Tensor)):
            return self.ip.tensors.element_of(ds)
        return UNKNOWN

    def batch(self, loader: TorchObject) -> Value:
        """The first batch a loader yields."""
        ds = loader.attr("dataset")
        b = loader.attr("batch_size")
        if _is_none(b):
            return UNKNOWN  # batch_size=None: no batching, items converted one by one
        if not (isinstance(b, Const) and isinstance(b.value, int) and not isinstance(b.value, bool) and b.value > 0):
            size: Optional[int] = None
        else:
            size = b.value
            n = self.length(ds)
            if isinstance(n, Const):
                if n.value <= 0:
                    return UNKNOWN  # an empty loader never yields
                size = min(size, n.value)
        item = self.item(ds)
        collate = loader.attr("collate_fn")
        if not _is_none(collate):
            if isinstance(collate, Function):  # a list of the batch's items: their number, when it is known
                items = Seq("list", (item,) * size) if size is not None and size <= UNROLL_LIMIT else Seq("list", None, item)
                return self.ip.objects.call_user(collate, [items], {})
            return UNKNOWN
        return collate_default(item, size)

    def element(self, v: Value) -> Optional[Value]:
        """What iterating ``v`` gives, when ``v`` is a loader or a dataset; None for anything else."""
        if isinstance(v, TorchObject) and v.qual == DATALOADER:
            return self.batch(v)
        if isinstance(v, TorchObject) and v.qual == TENSOR_DATASET:
            return self.item(v)
        return None

    # -- argparse

    def parser_method(self, parser: Instance, name: str, args: list, kwargs: dict) -> Value:
        options = parser.attrs.get("__options__")
        if options is None:
            return UNKNOWN
        if name == "add_argument":
            options.append((tuple(args), dict(kwargs)))
            return Const(None)
        if name == "parse_args":
            argv = args[0] if args else kwargs.get("args", Const(None))
            return self.parse(options, argv)
        if name in ("set_defaults",):
            options.append(((), {"__defaults__": kwargs}))
            return Const(None)
        return UNKNOWN

    def parse(self, options: list, argv: Value) -> Value:
        ns = self.ip.new_instance(NAMESPACE)
        literal = None
        if isinstance(argv, Seq) and argv.items is not None and all(
                isinstance(a, Const) and isinstance(a.value, str) for a in argv.items):
            literal = [a.value for a in argv.items]
        given = _parse_argv(options, literal) if literal is not None else None
        for names, kw in options:
            if "__defaults__" in kw:
                for k, v in kw["__defaults__"].items():
                    ns.attrs[k] = v
                continue
            dest = _dest(names, kw)
            if dest is None:
                continue
            kind = _TYPES.get(getattr(kw.get("type"), "qual", None))
            if given is None or given is ...:
                ns.attrs[dest] = Number("int" if kind is int else "float") if kind in (int, float) else UNKNOWN
            elif dest in given:
                ns.attrs[dest] = given[dest]
            else:
                ns.attrs[dest] = _default(kw, kind)
        return ns


def collate_default(item: Value, size: Optional[int]) -> Value:
    """torch's default_collate of ``size`` items like ``item``."""
    if isinstance(item, Tensor):
        shape = None if item.shape is None else (size,) + tuple(item.shape)
        return Tensor(shape=shape, requires_grad=item.requires_grad, dtype=item.dtype, graph=item.graph,
                      origin=item.origin)
    if isinstance(item, Const) and isinstance(item.value, (bool, int, float)) or isinstance(item, Number):
        kind = _num_kind(item)
        return Tensor(shape=(size,), requires_grad=False, dtype=kind, grad_note="a batch of Python numbers")
    if isinstance(item, Seq) and item.items is not None:
        return Seq("list", tuple(collate_default(i, size) for i in item.items))
    if isinstance(item, DictValue):
        return DictValue(tuple((k, collate_default(v, size)) for k, v in item.items), item.complete, item.exact)
    return UNKNOWN


def _num_kind(v) -> Optional[str]:
    if isinstance(v, Const):
        return "bool" if isinstance(v.value, bool) else "int" if isinstance(v.value, int) else "float"
    return v.kind if is_number(v) and v.kind in ("int", "float", "bool") else None


def _is_none(v) -> bool:
    return isinstance(v, Const) and v.value is None


def _dest(names: tuple, kw: dict) -> Optional[str]:
    d = kw.get("dest")
    if isinstance(d, Const) and isinstance(d.value, str):
        return d.value
    strs = [n.value for n in names if isinstance(n, Const) and isinstance(n.value, str)]
    if len(strs) != len(names) or not strs:
        return None
    longs = [s for s in strs if s.startswith("--")]
    pick = longs[0] if longs else strs[0]
    return pick.lstrip("-").replace("-", "_")


def _default(kw: dict, kind) -> Value:
    action = kw.get("action")
    act = action.value if isinstance(action, Const) else None
    if act == "store_true":
        return kw.get("default", Const(False))
    if act == "store_false":
        return kw.get("default", Const(True))
    if action is not None and act is None:
        return UNKNOWN
    d = kw.get("default", Const(None))
    if isinstance(d, Const) and isinstance(d.value, str) and kind in (int, float):
        try:
            return Const(kind(d.value))  # argparse converts string defaults with type=
        except ValueError:
            return UNKNOWN
    return d


def _parse_argv(options: list, argv: list):
    """{dest: value} for a literal argument list, or ``...`` when torchlint cannot follow it."""
    flags = {}
    positionals = []
    for names, kw in options:
        if "__defaults__" in kw:
            continue
        dest = _dest(names, kw)
        strs = [n.value for n in names if isinstance(n, Const) and isinstance(n.value, str)]
        if dest is None:
            return ...
        if strs and strs[0].startswith("-"):
            for s in strs:
                flags[s] = (dest, kw)
        elif "nargs" in kw:
            return ...  # a positional taking several words: which words are its, torchlint does not follow
        else:
            positionals.append((dest, kw))
    out: dict = {}
    i = 0
    while i < len(argv):
        a = argv[i]
        if a.startswith("-") and a != "-":
            key, _, inline = a.partition("=")
            if key not in flags:
                return ...
            dest, kw = flags[key]
            if "nargs" in kw:
                return ...  # an option given several words (an option left out just takes its default)
            action = kw.get("action")
            act = action.value if isinstance(action, Const) else None
            if act in ("store_true", "store_false"):
                out[dest] = Const(act == "store_true")
                i += 1
                continue
            if action is not None:
                return ...
            if inline:
                raw = inline
                i += 1
            elif i + 1 < len(argv):
                raw = argv[i + 1]
                i += 2
            else:
                return ...
        else:
            if not positionals:
                return ...
            dest, kw = positionals.pop(0)
            raw = a
            i += 1
        kind = _TYPES.get(getattr(kw.get("type"), "qual", None))
        if kw.get("type") is not None and kind is None:
            out[dest] = UNKNOWN
            continue
        try:
            out[dest] = Const(kind(raw) if kind else raw)
        except ValueError:
            return ...
    return out
