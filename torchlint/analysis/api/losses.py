"""Every loss in ``torch.nn`` and ``torch.nn.functional``, with ``reduction``.

The result is a 0-d tensor for ``'mean'``, ``'sum'`` (and ``'batchmean'`` of
``kl_div``).  For ``'none'`` it is one loss per element, with the shape each
loss defines; such a tensor is marked ``per_element`` (the TL001 fix then
inserts ``.mean()``) and, when its shape is unknown, ``likely`` non-scalar.
The legacy ``size_average``/``reduce`` arguments are honoured as PyTorch does:
``reduce=False`` means ``'none'``, else ``size_average=False`` means ``'sum'``.
"""
from __future__ import annotations

from typing import Optional

from torchlint.analysis import shapes as S
from torchlint.analysis.api import Args, module_class, op
from torchlint.analysis.shapes import ShapeUnknown
from torchlint.analysis.values import Const, Note, Tensor

LEGACY = "size_average=None, reduce=None"


def _arg(a: Args, name: str):
    if name in a.bound:
        return a.bound[name]
    return a.bound.get("self." + name, Const(None))


def reduction_of(a: Args) -> Optional[str]:
    size_average, reduce = _arg(a, "size_average"), _arg(a, "reduce")
    legacy = [v for v in (size_average, reduce) if not (isinstance(v, Const) and v.value is None)]
    if legacy:
        if not all(isinstance(v, Const) for v in legacy):
            return None
        r = True if isinstance(reduce, Const) and reduce.value is None else bool(reduce.value)
        sa = True if isinstance(size_average, Const) and size_average.value is None else bool(size_average.value)
        if not r:
            return "none"
        return "mean" if sa else "sum"
    red = _arg(a, "reduction")
    if isinstance(red, Const) and isinstance(red.value, str):
        return red.value
    return None


def _describe_reduction(a: Args) -> str:
    red = _arg(a, "reduction")
    if isinstance(red, Const) and red.value == "none":
        return "reduction='none'"
    if isinstance(_arg(a, "reduce"), Const) and _arg(a, "reduce").value is False:
        return "reduce=False"
    return "reduction='none'"


def loss(shape_rule):
    """Wrap a per-element shape rule into a full loss rule."""

    def rule(a: Args):
        red = reduction_of(a)
        if red in ("mean", "sum", "batchmean"):
            return Tensor(shape=())
        if red != "none":
            return Tensor(shape=None)
        try:
            shape = shape_rule(a)
        except ShapeUnknown:
            shape = None
        env = a.env
        obj = a.bound.get("self")
        how = _describe_reduction(a)
        if obj is not None:
            who = f"`{env.label}`" if env.label else "the loss module"
            where = " (line {line})" if getattr(obj, "node", None) is not None else ""
            note = Note(f"{who} was built with {how}{where}, so it returns one loss per element", obj.node)
        else:
            who = f"`{env.label}(...)`" if env.label else "the loss"
            note = Note(f"{who} is called with {how}, so it returns one loss per element")
        # numel unknown (rank unknown, or a dim of unknown size): an unreduced loss is still likely non-scalar
        return Tensor(shape=shape, per_element=True, likely=note, origin=(note,))

    return rule


def elementwise(*names):
    def rule(a: Args):
        return S.broadcast(*(a.tensor(_name(a, n)).shape for n in names))

    return rule


def _name(a: Args, n: str) -> str:
    return n


def class_dim(a: Args):
    shape = a.shape("input")
    if len(shape) == 1:
        return ()
    return (shape[0],) + shape[2:]


def batch_only(name):
    def rule(a: Args):
        shape = a.shape(name)
        if len(shape) <= 1:
            return ()
        return (shape[0],)

    return rule


def ctc(a: Args):
    shape = a.shape("log_probs")
    if len(shape) == 2:
        return ()
    return (shape[1],)


F = "torch.nn.functional."
N = "torch.nn."

# (functional name, class name, functional signature, class init signature, forward signature, shape rule, example setup)
LOSSES = [
    ("mse_loss", "MSELoss", f"input, target, {LEGACY}, reduction='mean', weight=None", f"{LEGACY}, reduction='mean'",
     "input, target", elementwise("input", "target"), "x = torch.randn(4, 3); t = torch.randn(4, 3)"),
    ("l1_loss", "L1Loss", f"input, target, {LEGACY}, reduction='mean'", f"{LEGACY}, reduction='mean'",
     "input, target", elementwise("input", "target"), "x = torch.randn(4, 3); t = torch.randn(4, 3)"),
    ("smooth_l1_loss", "SmoothL1Loss", f"input, target, {LEGACY}, reduction='mean', beta=1.0", f"{LEGACY}, reduction='mean', beta=1.0",
     "input, target", elementwise("input", "target"), "x = torch.randn(4); t = torch.randn(4)"),
    ("huber_loss", "HuberLoss", "input, target, reduction='mean', delta=1.0, weight=None", "reduction='mean', delta=1.0",
     "input, target", elementwise("input", "target"), "x = torch.randn(2, 3); t = torch.randn(2, 3)"),
    ("binary_cross_entropy", "BCELoss", f"input, target, weight=None, {LEGACY}, reduction='mean'", f"weight=None, {LEGACY}, reduction='mean'",
     "input, target", elementwise("input", "target"), "x = torch.rand(4, 2); t = torch.rand(4, 2)"),
    ("binary_cross_entropy_with_logits", "BCEWithLogitsLoss", f"input, target, weight=None, {LEGACY}, reduction='mean', pos_weight=None",
     f"weight=None, {LEGACY}, reduction='mean', pos_weight=None", "input, target", elementwise("input", "target"),
     "x = torch.randn(4, 2); t = torch.rand(4, 2)"),
    ("cross_entropy", "CrossEntropyLoss", "input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction='mean', label_smoothing=0.0",
     "weight=None, size_average=None, ignore_index=-100, reduce=None, reduction='mean', label_smoothing=0.0",
     "input, target", class_dim, "x = torch.randn(10, 5); t = torch.randint(0, 5, (10,))"),
    ("nll_loss", "NLLLoss", "input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction='mean'",
     "weight=None, size_average=None, ignore_index=-100, reduce=None, reduction='mean'",
     "input, target", class_dim, "x = torch.randn(3, 5, 2).log_softmax(1); t = torch.randint(0, 5, (3, 2))"),
    ("kl_div", "KLDivLoss", f"input, target, {LEGACY}, reduction='mean', log_target=False", f"{LEGACY}, reduction='mean', log_target=False",
     "input, target", elementwise("input", "target"), "x = torch.randn(2, 4).log_softmax(1); t = torch.rand(2, 4)"),
    ("poisson_nll_loss", "PoissonNLLLoss", "input, target, log_input=True, full=False, size_average=None, eps=1e-08, reduce=None, reduction='mean'",
     "log_input=True, full=False, size_average=None, eps=1e-08, reduce=None, reduction='mean'",
     "input, target", elementwise("input", "target"), "x = torch.randn(5); t = torch.rand(5)"),
    ("gaussian_nll_loss", "GaussianNLLLoss", "input, target, var, full=False, eps=1e-06, reduction='mean'",
     "*, full=False, eps=1e-06, reduction='mean'", "input, target, var", elementwise("input", "target"),
     "x = torch.randn(4, 2); t = torch.randn(4, 2); v = torch.rand(4, 2) + 0.1"),
    ("soft_margin_loss", "SoftMarginLoss", f"input, target, {LEGACY}, reduction='mean'", f"{LEGACY}, reduction='mean'",
     "input, target", elementwise("input", "target"), "x = torch.randn(3); t = torch.ones(3)"),
    ("hinge_embedding_loss", "HingeEmbeddingLoss", f"input, target, margin=1.0, {LEGACY}, reduction='mean'",
     f"margin=1.0, {LEGACY}, reduction='mean'", "input, target", elementwise("input", "target"),
     "x = torch.randn(3, 2); t = torch.ones(3, 2)"),
    ("margin_ranking_loss", "MarginRankingLoss", f"input1, input2, target, margin=0, {LEGACY}, reduction='mean'",
     f"margin=0.0, {LEGACY}, reduction='mean'", "input1, input2, target", elementwise("input1", "input2", "target"),
     "x = torch.randn(4); y = torch.randn(4); t = torch.ones(4)"),
    ("multi_margin_loss", "MultiMarginLoss", f"input, target, p=1, margin=1.0, weight=None, {LEGACY}, reduction='mean'",
     f"p=1, margin=1.0, weight=None, {LEGACY}, reduction='mean'", "input, target", batch_only("input"),
     "x = torch.randn(3, 4); t = torch.tensor([0, 2, 1])"),
    ("multilabel_margin_loss", "MultiLabelMarginLoss", f"input, target, {LEGACY}, reduction='mean'", f"{LEGACY}, reduction='mean'",
     "input, target", batch_only("input"), "x = torch.randn(2, 4); t = torch.tensor([[3, 0, -1, 1], [0, 1, 2, -1]])"),
    ("multilabel_soft_margin_loss", "MultiLabelSoftMarginLoss", f"input, target, weight=None, {LEGACY}, reduction='mean'",
     f"weight=None, {LEGACY}, reduction='mean'", "input, target", batch_only("input"),
     "x = torch.randn(2, 4); t = torch.randint(0, 2, (2, 4)).float()"),
    ("cosine_embedding_loss", "CosineEmbeddingLoss", f"input1, input2, target, margin=0, {LEGACY}, reduction='mean'",
     f"margin=0.0, {LEGACY}, reduction='mean'", "input1, input2, target", batch_only("input1"),
     "x = torch.randn(3, 5); y = torch.randn(3, 5); t = torch.ones(3)"),
    ("triplet_margin_loss", "TripletMarginLoss", f"anchor, positive, negative, margin=1.0, p=2, eps=1e-06, swap=False, {LEGACY}, reduction='mean'",
     f"margin=1.0, p=2.0, eps=1e-06, swap=False, {LEGACY}, reduction='mean'", "anchor, positive, negative", batch_only("anchor"),
     "x = torch.randn(3, 5); y = torch.randn(3, 5); t = torch.randn(3, 5)"),
    ("triplet_margin_with_distance_loss", "TripletMarginWithDistanceLoss",
     "anchor, positive, negative, *, distance_function=None, margin=1.0, swap=False, reduction='mean'",
     "*, distance_function=None, margin=1.0, swap=False, reduction='mean'", "anchor, positive, negative", batch_only("anchor"),
     "x = torch.randn(3, 5); y = torch.randn(3, 5); t = torch.randn(3, 5)"),
    ("ctc_loss", "CTCLoss", "log_probs, targets, input_lengths, target_lengths, blank=0, reduction='mean', zero_infinity=False",
     "blank=0, reduction='mean', zero_infinity=False", "log_probs, targets, input_lengths, target_lengths", ctc,
     "x = torch.randn(6, 2, 4).log_softmax(2); t = torch.randint(1, 4, (2, 3)); il = torch.tensor([6, 6]); tl = torch.tensor([3, 2])"),
]

_CALL_ARGS = {
    "input, target": "x, t",
    "input, target, var": "x, t, v",
    "input1, input2, target": "x, y, t",
    "anchor, positive, negative": "x, y, t",
    "log_probs, targets, input_lengths, target_lengths": "x, t, il, tl",
}

for fname, cname, fsig, csig, fwd, shape_rule, setup in LOSSES:
    call = _CALL_ARGS[fwd]
    legacy = "size_average" in fsig
    f_examples = [(f"F.{fname}({call})", setup), (f"F.{fname}({call}, reduction='none')", setup),
                  (f"F.{fname}({call}, reduction='sum')", setup)]
    c_examples = [(f"nn.{cname}()({call})", setup), (f"nn.{cname}(reduction='none')({call})", setup)]
    if legacy:
        f_examples.append((f"F.{fname}({call}, reduce=False)", setup))
        c_examples.append((f"nn.{cname}(size_average=False)({call})", setup))
    if fname == "kl_div":
        f_examples.append((f"F.kl_div({call}, reduction='batchmean')", setup))
    op(F + fname, fsig, loss(shape_rule), group="loss", examples=f_examples)
    module_class(N + cname, csig, fwd, loss(shape_rule), group="loss", examples=c_examples)
