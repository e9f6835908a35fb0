"""Element-wise ops: unary math and their in-place forms, casts (``.float()``, ``.long()``, ...), ``detach`` and
``requires_grad_``, activations and softmax, binary arithmetic and comparisons with broadcasting, ``where``,
``lerp``, ``addcmul``, ``masked_fill``.

The result keeps its input's shape, or the broadcast of its inputs' shapes.  One ``op(...)`` call is one entry
(see :mod:`torchlint.analysis.api`); its examples are checked against real PyTorch by
``tests/test_api_model.py``.
"""
from __future__ import annotations

from torchlint.analysis import shapes as S
from torchlint.analysis.api import Args, op
from torchlint.analysis.values import Const, Seq, Tensor


def r_same(a: Args):
    t = a.tensor("input")
    return Tensor(shape=t.shape, numel=t.numel)


def r_binary(a: Args):
    return S.broadcast(a.tensor("input").shape, a.tensor("other").shape)


def r_ternary(name1, name2, name3):
    def rule(a: Args):
        return S.broadcast(a.tensor(name1).shape, a.tensor(name2).shape, a.tensor(name3).shape)

    return rule


def r_detach(a: Args):
    t = a.tensor("input")
    return Tensor(shape=t.shape, numel=t.numel, requires_grad=False, dtype=t.dtype,
                  grad_note="detached from the graph by .detach()", leaf=True)


def r_requires_grad_(a: Args):
    t = a.tensor("input")
    want = a["requires_grad"]
    rg = bool(want.value) if isinstance(want, Const) else None
    # a tensor that does not require grad is a leaf of the graph, whatever op made it: requires_grad_()
    # makes it a leaf that requires grad (``(torch.randn(3) * 0.5).requires_grad_()``)
    leaf = t.leaf or (t.requires_grad is False and rg is True)
    return Tensor(shape=t.shape, numel=t.numel, requires_grad=rg, dtype=t.dtype, leaf=leaf)


def r_cast(kind):
    def rule(a: Args):
        t = a.tensor("input")
        return Tensor(shape=t.shape, numel=t.numel, dtype=kind)

    return rule


def r_softmax(a: Args):
    t = a.tensor("input")
    if not a.is_none("dim") and t.shape is not None:
        S.norm_dim(a.int("dim"), len(t.shape))
    return Tensor(shape=t.shape, numel=t.numel)


def r_where(a: Args):
    if a.is_none("input") and a.is_none("other"):
        shape = a.shape("condition")
        return Seq("tuple", tuple(Tensor(shape=(None,), dtype="int", requires_grad=False) for _ in shape))
    return S.broadcast(a.tensor("condition").shape, a.tensor("input").shape, a.tensor("other").shape)


# ---------------------------------------------------------------------------
# the entries

UNARY = """abs absolute neg negative exp exp2 expm1 log log2 log10 log1p sin cos tan asin acos atan sinh cosh tanh
asinh acosh atanh arcsin arccos arctan arcsinh arccosh arctanh sigmoid relu sqrt rsqrt square floor ceil round trunc fix frac sign sgn
reciprocal erf erfc erfinv lgamma digamma deg2rad rad2deg nan_to_num positive conj angle i0 sinc logit signbit isnan
isinf isfinite isposinf isneginf logical_not bitwise_not clone contiguous cpu""".split()
NON_DIFF_UNARY = {"sign", "sgn", "floor", "ceil", "round", "trunc", "fix", "signbit", "isnan", "isinf", "isfinite", "isposinf",
                  "isneginf", "logical_not", "bitwise_not"}
REAL_UNARY = {"abs", "absolute", "angle"}
BOOL_UNARY = {"signbit", "isnan", "isinf", "isfinite", "isposinf", "isneginf", "logical_not"}
for _name in UNARY:
    _names = [f"Tensor.{_name}"]
    if _name not in ("cpu", "contiguous"):
        _names.append(f"torch.{_name}")
    if _name in ("sigmoid", "tanh", "relu"):
        _names.append(f"torch.nn.functional.{_name}")
    op(_names, "input", r_same, flow="keeps", differentiable=_name not in NON_DIFF_UNARY,
       dtype="bool" if _name in BOOL_UNARY else "real" if _name in REAL_UNARY else None, group="pointwise",
       examples=[(f"{_names[-1] if _names[-1].startswith('torch') else 'torch.' + _name}(x)" if len(_names) > 1 else f"x.{_name}()",
                  "x = torch.randint(0, 4, (2, 3))" if _name == "bitwise_not" else "x = torch.rand(2, 3) + 0.5")])
    if _name in ("abs", "neg", "exp", "log", "sqrt", "sigmoid", "tanh", "relu", "clamp", "floor", "ceil", "round",
                 "reciprocal", "sin", "cos", "square", "rsqrt", "log1p", "expm1", "sign", "trunc", "frac", "erf"):
        op(f"Tensor.{_name}_", "input", r_same, flow="keeps", group="pointwise",
           examples=[(f"x.{_name}_()", "x = torch.rand(2, 3) + 0.5")])
op("Tensor.detach|torch.detach", "input", r_detach, flow="keeps", group="pointwise", examples=[("x.detach()", "x = torch.randn(3)")])
op("Tensor.detach_", "input", r_detach, flow="keeps", group="pointwise")
op("Tensor.requires_grad_", "input, requires_grad=True", r_requires_grad_, flow="keeps", group="pointwise",
   examples=[("x.requires_grad_()", "x = torch.randn(3)")])
for _name, _kind in (("float", "float"), ("double", "float"), ("half", "float"), ("bfloat16", "float"), ("long", "int"),
                     ("int", "int"), ("short", "int"), ("byte", "int"), ("char", "int"), ("bool", "bool"),
                     ("cfloat", "complex"), ("cdouble", "complex")):
    op(f"Tensor.{_name}", "input, memory_format=None", r_cast(_kind), flow="keeps", differentiable=_kind in ("float", "complex"),
       group="pointwise", examples=[(f"x.{_name}()", "x = torch.randn(2, 2)")])
op("Tensor.type_as", "input, other", r_same, flow="keeps", group="pointwise", dtype=None,
   examples=[("x.type_as(y)", "x = torch.randn(3); y = torch.randn(1)")])
op("torch.clamp|torch.clip|Tensor.clamp|Tensor.clip|Tensor.clamp_|Tensor.clip_", "input, min=None, max=None", r_same, flow="keeps",
   group="pointwise", examples=[("torch.clamp(x, min=0.0)", "x = torch.randn(4)"), ("x.clamp(-1, 1)", "x = torch.randn(2, 2)")])
op("torch.nn.functional.softmax|torch.nn.functional.log_softmax|torch.softmax|torch.log_softmax|Tensor.softmax|Tensor.log_softmax",
   "input, dim=None, _stacklevel=3, dtype=None", r_softmax, flow="keeps", group="pointwise",
   examples=[("F.softmax(x, dim=1)", "x = torch.randn(2, 3)"), ("x.log_softmax(-1)", "x = torch.randn(4)")])
for _name in ("relu", "relu6", "gelu", "silu", "mish", "elu", "selu", "celu", "softplus", "softsign", "tanhshrink",
              "hardtanh", "hardswish", "hardsigmoid", "leaky_relu", "logsigmoid", "sigmoid", "tanh", "dropout",
              "alpha_dropout", "dropout1d", "dropout2d", "dropout3d", "softshrink", "hardshrink", "rrelu"):
    op(f"torch.nn.functional.{_name}", "input, *args, inplace=False, approximate='none', training=True, p=0.5, beta=1.0, threshold=20.0, negative_slope=0.01, alpha=1.0, min_val=-1.0, max_val=1.0, lambd=0.5, lower=0.125, upper=0.3333333333333333",
       r_same, flow="keeps", group="activations", examples=[(f"F.{_name}(x)", "x = torch.randn(2, 5)")])
op("torch.nn.functional.normalize", "input, p=2.0, dim=1, eps=1e-12, out=None", r_same, flow="keeps", group="pointwise",
   examples=[("F.normalize(x)", "x = torch.randn(3, 4)")])
op("torch.nn.functional.layer_norm", "input, normalized_shape, weight=None, bias=None, eps=1e-05", r_same, flow="keeps",
   group="pointwise", examples=[("F.layer_norm(x, (4,))", "x = torch.randn(3, 4)")])
op("torch.nn.functional.one_hot", "input, num_classes=-1", lambda a: Tensor(shape=a.shape("input") + (None if a.int("num_classes") < 0 else a.int("num_classes"),), dtype="int", requires_grad=False),
   flow="new", group="pointwise", examples=[("F.one_hot(t, 5)", "t = torch.tensor([0, 3, 1])")])

BINARY = """add sub subtract mul multiply div divide true_divide floor_divide pow maximum minimum fmax fmin atan2 arctan2 fmod
remainder hypot copysign xlogy logaddexp logaddexp2 nextafter""".split()
COMPARE = """eq ne lt le gt ge greater greater_equal less less_equal not_equal logical_and logical_or logical_xor
bitwise_and bitwise_or bitwise_xor isclose""".split()
for _name in BINARY:
    op([f"torch.{_name}", f"Tensor.{_name}"], "input, other, *, alpha=1, rounding_mode=None, out=None", r_binary,
       flow="broadcast", differentiable=_name != "floor_divide", group="pointwise",
       examples=[(f"torch.{_name}(x, y)", "x = torch.rand(2, 3) + 0.5; y = torch.rand(3) + 0.5"),
                 (f"x.{_name}(y)", "x = torch.rand(4, 1) + 0.5; y = torch.rand(1, 5) + 0.5")])
    if _name in ("add", "sub", "mul", "div", "pow"):
        op(f"Tensor.{_name}_", "input, other, *, alpha=1, rounding_mode=None", lambda a: a.tensor("input").shape, flow="keeps",
           group="pointwise", examples=[(f"x.{_name}_(y)", "x = torch.rand(2, 3) + 0.5; y = torch.rand(3) + 0.5")])
for _name in COMPARE:
    op([f"torch.{_name}", f"Tensor.{_name}"], "input, other, *, out=None, rtol=1e-05, atol=1e-08, equal_nan=False", r_binary,
       flow="broadcast", differentiable=False, dtype=None if _name.startswith("bitwise") else "bool", group="pointwise",
       examples=[(f"torch.{_name}(x, y)", "x = torch.randint(0, 3, (2, 3)); y = torch.randint(0, 3, (3,))")])
op("torch.where|Tensor.where", "condition, input=None, other=None", r_where, flow="broadcast", group="pointwise",
   examples=[("torch.where(c, x, y)", "c = torch.rand(2, 3) > 0.5; x = torch.randn(2, 3); y = torch.randn(3)")])
op("torch.lerp|Tensor.lerp", "input, end, weight", r_ternary("input", "end", "weight"), flow="broadcast", group="pointwise",
   examples=[("torch.lerp(x, y, 0.5)", "x = torch.randn(3); y = torch.randn(2, 3)")])
op("torch.addcmul|torch.addcdiv|Tensor.addcmul|Tensor.addcdiv", "input, tensor1, tensor2, *, value=1",
   r_ternary("input", "tensor1", "tensor2"), flow="broadcast", group="pointwise",
   examples=[("torch.addcmul(x, y, z)", "x = torch.randn(3); y = torch.randn(2, 1); z = torch.randn(3)")])
op("Tensor.masked_fill|Tensor.masked_fill_", "input, mask, value", lambda a: a.shape("input"), flow="keeps", group="pointwise",
   examples=[("x.masked_fill(m, 0.0)", "x = torch.randn(2, 3); m = torch.rand(2, 3) > 0.5")])
