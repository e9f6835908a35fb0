"""Common ``torch.nn`` layers.

A layer with parameters makes an output that requires grad (when grad mode is
on), whatever its input.  Shape rules follow the formulas in PyTorch's
documentation for each layer.
"""
from __future__ import annotations

from torchlint.analysis import shapes as S
from torchlint.analysis.api import Args, is_frozen, module_class, op
from torchlint.analysis.api.pointwise import r_same
from torchlint.analysis.shapes import ShapeUnknown
from torchlint.analysis.values import MANY, Const, Seq, Tensor, TorchObject

N = "torch.nn."


def _self(a: Args, name):
    v = a.bound.get("self." + name)
    if isinstance(v, Const):
        return v.value
    if isinstance(v, Seq) and v.items is not None and all(isinstance(i, Const) for i in v.items):
        return tuple(i.value for i in v.items)
    raise ShapeUnknown(name)


def _param_out(a: Args, shape) -> Tensor:
    if is_frozen(a.bound):  # m.requires_grad_(False): what requires grad comes from the input alone
        inputs = a.tensor_inputs()
        if a.env.grad_enabled is not False and inputs and not a.unknown_inputs() \
                and all(t.requires_grad is False for t in inputs):
            return Tensor(shape=shape, requires_grad=False,
                          grad_note="computed by a layer whose parameters are frozen (requires_grad off), from "
                                    "inputs that do not require grad")
        return Tensor(shape=shape)
    rg = True if a.env.grad_enabled else (False if a.env.grad_enabled is False else None)
    return Tensor(shape=shape, requires_grad=rg, grad_note=f"computed {a.env.grad_off}" if rg is False else None)


# ---------------------------------------------------------------------------
# What stays certain when a layer's exact rule cannot run (a kernel size, a feature count or an input dim of
# unknown value, an input of unknown rank): an entry's ``partial=``.  A Linear-like layer replaces the last
# dim, a convolution the channel dim and the spatial ones, a pool or a resampling the spatial dims only; the
# dims before them (the batch dim) stay.  A known output dim other than 1 makes the element count certain
# (zero, or two and more) even when the input's rank is not known: the output has that dim.


def opt_self(a: Args, name):
    """The constructor argument ``name`` when it is a known int, else None."""
    try:
        v = _self(a, name)
    except ShapeUnknown:
        return None
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def sized(out) -> Tensor:
    """A tensor of unknown rank that has a dim of size ``out`` (an int or None)."""
    return Tensor(shape=None, numel=MANY if isinstance(out, int) and out != 1 else None)


def partial_last(size_of, input_name="input"):
    """Linear-like: the input's shape with its last dim replaced by ``size_of(args)``."""
    def partial(a: Args):
        out = size_of(a)
        v = a[input_name]
        if isinstance(v, Tensor) and v.shape is not None:
            if not v.shape:
                raise ShapeUnknown("0-d input")
            return v.shape[:-1] + (out,)
        return sized(out)
    return partial


def partial_channels(n, size_of):
    """Convolution-like over ``n`` spatial dims: the channel dim is ``size_of(args)``, the spatial dims are
    unknown, the batch dim (of a batched input) stays."""
    def partial(a: Args):
        out = size_of(a)
        v = a["input"]
        if isinstance(v, Tensor) and v.shape is not None:
            if len(v.shape) not in (n + 1, n + 2):
                raise ShapeUnknown("conv rank")
            return v.shape[: -n - 1] + (out,) + (None,) * n
        return sized(out)
    return partial


def partial_append(a: Args, out):
    """Embedding-like: the input's shape and one more dim of size ``out``."""
    v = a["input"]
    if isinstance(v, Tensor) and v.shape is not None:
        return v.shape + (out,)
    return sized(out)


def _no_indices(a: Args, name: str) -> bool:
    if name in a.bound:
        v = a[name]
        return isinstance(v, Const) and v.value is False
    return "self." + name not in a.bound or _self(a, name) is False


def partial_spatial(n, first=None):
    """A pool, padding or resampling over the last ``n`` dims (``n`` None: all dims after the first ``first``):
    those dims unknown, the batch and channel dims kept.  Not for a max pool asked for its indices (a tuple)."""
    def partial(a: Args):
        shape = a.shape("input")
        if not (_no_indices(a, "return_indices")):
            raise ShapeUnknown("returns indices too")
        if n is None:
            if len(shape) <= first:
                raise ShapeUnknown("rank")
            return shape[:first] + (None,) * (len(shape) - first)
        if len(shape) not in (n + 1, n + 2):
            raise ShapeUnknown("rank")
        return shape[:-n] + (None,) * n
    return partial


def r_linear(a: Args):
    shape = a.shape("input")
    if not shape:
        raise ShapeUnknown("linear of 0-d")
    return _param_out(a, shape[:-1] + (_self(a, "out_features"),))


def r_bilinear(a: Args):
    shape = a.shape("input1")
    return _param_out(a, shape[:-1] + (_self(a, "out_features"),))


def r_same_params(a: Args):
    t = a.tensor("input")
    out = _param_out(a, t.shape)
    return out.with_(shape=t.shape, numel=t.numel)


def r_affine(a: Args):
    return r_same_params(a) if _self(a, "affine") else r_same(a)


def _tuple(v, n):
    if isinstance(v, int):
        return (v,) * n
    if isinstance(v, tuple) and len(v) == n:
        return v
    raise ShapeUnknown("bad tuple")


def r_conv(n):
    def rule(a: Args):
        shape = a.shape("input")
        if len(shape) not in (n + 1, n + 2):
            raise ShapeUnknown("conv rank")
        k = _tuple(_self(a, "kernel_size"), n)
        st = _tuple(_self(a, "stride"), n)
        dil = _tuple(_self(a, "dilation"), n)
        pad = _self(a, "padding")
        spatial = shape[-n:]
        if pad == "same":
            out_sp = spatial
        else:
            pad = (0,) * n if pad == "valid" else _tuple(pad, n)
            out_sp = tuple(S.conv_out(s, kk, ss, p, d) for s, kk, ss, p, d in zip(spatial, k, st, pad, dil))
        lead = shape[: -n - 1]
        return _param_out(a, lead + (_self(a, "out_channels"),) + out_sp)

    return rule


def r_pool(n, kind):
    def rule(a: Args):
        shape = a.shape("input")
        if len(shape) not in (n + 1, n + 2):
            raise ShapeUnknown("pool rank")
        k = _tuple(_self(a, "kernel_size"), n)
        stride = _self(a, "stride")
        st = k if stride is None else _tuple(stride, n)
        pad = _tuple(_self(a, "padding"), n)
        dil = _tuple(_self(a, "dilation"), n) if kind == "max" else (1,) * n
        ceil = bool(_self(a, "ceil_mode"))
        spatial = shape[-n:]
        out = tuple(S.pool_out(s, kk, ss, p, d, ceil) for s, kk, ss, p, d in zip(spatial, k, st, pad, dil))
        return shape[:-n] + out

    return rule


def r_adaptive(n):
    def rule(a: Args):
        shape = a.shape("input")
        size = _self(a, "output_size")
        out = _tuple(size, n) if size is not None else (None,) * n
        out = tuple(s if o is None else o for s, o in zip(shape[-n:], out))
        return shape[:-n] + out

    return rule


def r_embedding(a: Args):
    out = _param_out(a, a.shape("input") + (_self(a, "embedding_dim"),))
    return out.with_(shape=out.shape, dtype="float")


def r_flatten(a: Args):
    t = a.tensor("input")
    return Tensor(shape=S.flatten(a.shape("input"), _self(a, "start_dim"), _self(a, "end_dim")), numel=t.numel)


def r_rnn(lstm: bool):
    def rule(a: Args):
        shape = a.tensor("input").shape
        if shape is None:  # an output and a state (a tuple of two for an LSTM), of unknown shapes
            out, h = _param_out(a, None), _param_out(a, None)
            return Seq("tuple", (out, Seq("tuple", (h, h)) if lstm else h))
        if len(shape) not in (2, 3):
            raise ShapeUnknown("RNN input must be 2-D or 3-D")
        hidden = _self(a, "hidden_size")
        layers = _self(a, "num_layers") if "self.num_layers" in a.bound else 1
        bidir = 2 if _self(a, "bidirectional") else 1
        proj = (_self(a, "proj_size") if "self.proj_size" in a.bound else 0) if lstm else 0
        out = _param_out(a, shape[:-1] + (((proj or hidden) * bidir),))
        if len(shape) == 3:
            batch = (shape[0] if _self(a, "batch_first") else shape[1],)
        else:
            batch = ()
        h = _param_out(a, (layers * bidir,) + batch + ((proj or hidden),))
        if lstm:
            c = _param_out(a, (layers * bidir,) + batch + (hidden,))
            return Seq("tuple", (out, Seq("tuple", (h, c))))
        return Seq("tuple", (out, h))
    return rule


def r_rnn_cell(lstm: bool):
    def rule(a: Args):
        shape = a.tensor("input").shape
        if shape is None:
            h = _param_out(a, None)
            return Seq("tuple", (h, h)) if lstm else h
        if len(shape) not in (1, 2):
            raise ShapeUnknown("RNN cell input must be 1-D or 2-D")
        h = _param_out(a, shape[:-1] + (_self(a, "hidden_size"),))
        return Seq("tuple", (h, h)) if lstm else h
    return rule


_out_features = partial_last(lambda a: opt_self(a, "out_features"))
module_class(N + "Linear", "in_features, out_features, bias=True, device=None, dtype=None", "input", r_linear, group="layers", params=True,
             partial=_out_features,
             examples=[("nn.Linear(3, 4)(x)", "x = torch.randn(2, 3)"), ("nn.Linear(3, 1)(x)", "x = torch.randn(1, 3)"),
                       ("nn.Linear(3, 2)(x)", "x = torch.randn(5, 7, 3)")])
module_class(N + "LazyLinear", "out_features, bias=True, device=None, dtype=None", "input", r_linear, group="layers", params=True,
             partial=_out_features,
             examples=[("nn.LazyLinear(4)(x)", "x = torch.randn(2, 3)")])
module_class(N + "Bilinear", "in1_features, in2_features, out_features, bias=True, device=None, dtype=None", "input1, input2",
             r_bilinear, group="layers", params=True, partial=partial_last(lambda a: opt_self(a, "out_features"), "input1"),
             examples=[("nn.Bilinear(3, 2, 4)(x, y)", "x = torch.randn(5, 3); y = torch.randn(5, 2)")])
for _n in (1, 2, 3):
    module_class(N + f"Conv{_n}d", "in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True, padding_mode='zeros', device=None, dtype=None",
                 "input", r_conv(_n), group="layers", params=True, partial=partial_channels(_n, lambda a: opt_self(a, "out_channels")),
                 examples=[(f"nn.Conv{_n}d(2, 4, 3)(x)", f"x = torch.randn(1, 2, {', '.join(['8'] * _n)})"),
                           (f"nn.Conv{_n}d(2, 3, 3, stride=2, padding=1)(x)", f"x = torch.randn(2, {', '.join(['7'] * _n)})"),
                           (f"nn.Conv{_n}d(2, 3, 3, padding='same')(x)", f"x = torch.randn(1, 2, {', '.join(['5'] * _n)})")])
for _n in (1, 2, 3):
    module_class(N + f"MaxPool{_n}d", "kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False",
                 "input", r_pool(_n, "max"), flow="spatial", group="layers", partial=partial_spatial(_n),
                 examples=[(f"nn.MaxPool{_n}d(2)(x)", f"x = torch.randn(1, 2, {', '.join(['6'] * _n)})"),
                           (f"nn.MaxPool{_n}d(3, stride=2, ceil_mode=True)(x)", f"x = torch.randn(1, 2, {', '.join(['8'] * _n)})")])
    module_class(N + f"AvgPool{_n}d", "kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None"
                 if _n > 1 else "kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True",
                 "input", r_pool(_n, "avg"), flow="spatial", group="layers", partial=partial_spatial(_n),
                 examples=[(f"nn.AvgPool{_n}d(2)(x)", f"x = torch.randn(1, 2, {', '.join(['6'] * _n)})")])
    module_class([N + f"AdaptiveAvgPool{_n}d", N + f"AdaptiveMaxPool{_n}d"], "output_size, return_indices=False", "input",
                 r_adaptive(_n), flow="spatial", group="layers", partial=partial_spatial(_n),
                 examples=[(f"nn.AdaptiveAvgPool{_n}d(1)(x)", f"x = torch.randn(2, 3, {', '.join(['5'] * _n)})")])
for _name in ("BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d"):
    _inst = _name.startswith("Instance")
    module_class(N + _name, f"num_features, eps=1e-05, momentum=0.1, affine={not _inst}, track_running_stats={not _inst}, device=None, dtype=None",
                 "input", r_affine, flow="keeps", group="layers", params="affine",
                 examples=[(f"nn.{_name}(3)(x)", f"x = torch.randn(2, 3{', 4' * (int(_name[-2]) if _name[-2].isdigit() else 1)})")])
module_class(N + "LayerNorm", "normalized_shape, eps=1e-05, elementwise_affine=True, bias=True, device=None, dtype=None", "input",
             r_same_params, flow="keeps", group="layers", params="elementwise_affine", examples=[("nn.LayerNorm(4)(x)", "x = torch.randn(2, 4)")])
module_class(N + "GroupNorm", "num_groups, num_channels, eps=1e-05, affine=True, device=None, dtype=None", "input",
             r_same_params, flow="keeps", group="layers", params="affine", examples=[("nn.GroupNorm(2, 4)(x)", "x = torch.randn(2, 4, 3)")])
module_class(N + "RMSNorm", "normalized_shape, eps=None, elementwise_affine=True, device=None, dtype=None", "input",
             r_same_params, flow="keeps", group="layers", params="elementwise_affine", examples=[("nn.RMSNorm(4)(x)", "x = torch.randn(2, 4)")])
module_class(N + "PReLU", "num_parameters=1, init=0.25, device=None, dtype=None", "input", r_same_params, flow="keeps",
             group="layers", params=True, examples=[("nn.PReLU()(x)", "x = torch.randn(2, 4)")])
for _name in ("ReLU", "ReLU6", "GELU", "SiLU", "Mish", "ELU", "SELU", "CELU", "Tanh", "Sigmoid", "Softplus", "Softsign",
              "LeakyReLU", "Hardtanh", "Hardswish", "Hardsigmoid", "LogSigmoid", "Tanhshrink", "Softshrink", "Hardshrink",
              "Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "Identity", "Softmax", "LogSoftmax", "Softmin",
              "Threshold"):
    module_class(N + _name, "*args, inplace=False, dim=None, p=0.5, approximate='none', negative_slope=0.01, alpha=1.0, beta=1.0, threshold=20.0, min_val=-1.0, max_val=1.0, lambd=0.5",
                 "input", r_same, flow="keeps", group="activations",
                 examples=[(f"nn.{_name}({'0.1, 20.0' if _name == 'Threshold' else 'dim=1' if _name in ('Softmax', 'LogSoftmax', 'Softmin') else ''})(x)",
                            "x = torch.randn(2, 4)")])
module_class(N + "Embedding", "num_embeddings, embedding_dim, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False, sparse=False, _weight=None, _freeze=False, device=None, dtype=None",
             "input", r_embedding, group="layers", params=True,
             partial=lambda a: partial_append(a, opt_self(a, "embedding_dim")), examples=[("nn.Embedding(10, 3)(i)", "i = torch.tensor([[1, 2], [3, 4]])")])
module_class(N + "Flatten", "start_dim=1, end_dim=-1", "input", r_flatten, flow="keeps", group="layers",
             examples=[("nn.Flatten()(x)", "x = torch.randn(2, 3, 4)"), ("nn.Flatten(0)(x)", "x = torch.randn(2, 3)")])
for _name in ("RNNCell", "LSTMCell", "GRUCell"):
    _lstm = _name == "LSTMCell"
    module_class(N + _name, "input_size, hidden_size, bias=True, nonlinearity='tanh', device=None, dtype=None",
                 "input, hx=None", r_rnn_cell(_lstm), group="layers", params=True,
                 examples=[(f"nn.{_name}(3, 5)(x){'[0]' if _lstm else ''}", "x = torch.randn(2, 3)"),
                           (f"nn.{_name}(3, 5)(x){'[1]' if _lstm else ''}", "x = torch.randn(3)"),
                           (f"nn.{_name}(3, 4)(x, h){'[0]' if _lstm else ''}",
                            "x = torch.randn(6, 3); h = " + ("(torch.zeros(6, 4), torch.zeros(6, 4))" if _lstm
                                                             else "torch.zeros(6, 4)"))])
for _name in ("RNN", "LSTM", "GRU"):
    _h = "[1][0]" if _name == "LSTM" else "[1]"
    module_class(N + _name, "input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0, bidirectional=False, proj_size=0, nonlinearity='tanh', device=None, dtype=None",
                 "input, hx=None", r_rnn(_name == "LSTM"), group="layers", params=True,
                 examples=[(f"nn.{_name}(3, 5)(x)[0]", "x = torch.randn(4, 2, 3)"),
                           (f"nn.{_name}(3, 5, bidirectional=True, batch_first=True)(x)[0]", "x = torch.randn(2, 4, 3)"),
                           (f"nn.{_name}(3, 5)(x){_h}", "x = torch.randn(4, 2, 3)"),
                           (f"nn.{_name}(3, 5, num_layers=2, bidirectional=True, batch_first=True)(x){_h}", "x = torch.randn(2, 4, 3)"),
                           (f"nn.{_name}(3, 5, num_layers=3)(x){_h}", "x = torch.randn(4, 3)")]
                 + ([("nn.LSTM(3, 5, num_layers=2)(x)[1][1]", "x = torch.randn(4, 2, 3)"),
                     ("nn.LSTM(3, 5, proj_size=2)(x)[1][0]", "x = torch.randn(4, 2, 3)"),
                     ("nn.LSTM(3, 5, proj_size=2)(x)[1][1]", "x = torch.randn(4, 2, 3)"),
                     ("nn.LSTM(3, 5, proj_size=2, bidirectional=True)(x)[0]", "x = torch.randn(4, 2, 3)")]
                    if _name == "LSTM" else []))


# ---------------------------------------------------------------------------
# Lazy and synchronised variants, more activations, transformer blocks


def r_same_params_of(name: str):
    """The shape of argument ``name``, computed with the module's parameters."""
    def rule(a: Args):
        t = a.tensor(name)
        return _param_out(a, t.shape).with_(shape=t.shape, numel=t.numel)
    return rule


def r_stack_of(layer_qual: str, name: str):
    """nn.TransformerEncoder/Decoder: copies of a torch transformer layer, then an optional norm; each keeps
    the shape (a user layer or norm may not: then unknown)."""
    same = r_same_params_of(name)

    def rule(a: Args):
        layer, norm = a["self." + layer_qual.rsplit("Transformer", 1)[1].replace("Layer", "_layer").lower()], a["self.norm"]
        if not (isinstance(layer, TorchObject) and layer.qual == N + layer_qual):
            raise ShapeUnknown("a layer of unknown shape behaviour")
        if not (isinstance(norm, Const) and norm.value is None
                or isinstance(norm, TorchObject) and norm.qual in (N + "LayerNorm", N + "RMSNorm")):
            raise ShapeUnknown("a norm of unknown shape behaviour")
        return same(a)
    return rule


def r_glu(a: Args):
    shape = a.shape("input")
    dim = _self(a, "dim") if "self.dim" in a.bound else a.int("dim")
    d = S.norm_dim(dim, len(shape))
    if isinstance(shape[d], int) and shape[d] % 2:
        raise ShapeUnknown("GLU halves an even dim")
    return shape[:d] + ((shape[d] // 2) if isinstance(shape[d], int) else None,) + shape[d + 1:]


def r_unflatten_module(a: Args):
    shape = a.shape("input")
    d = S.norm_dim(_self(a, "dim"), len(shape))
    return shape[:d] + S.reshape((shape[d],), list(_self(a, "unflattened_size"))) + shape[d + 1:]


for _n in (1, 2, 3):
    module_class(N + f"LazyConv{_n}d", "out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True, padding_mode='zeros', device=None, dtype=None",
                 "input", r_conv(_n), group="layers", params=True,
                 partial=partial_channels(_n, lambda a: opt_self(a, "out_channels")),
                 examples=[(f"nn.LazyConv{_n}d(4, 3)(x)", f"x = torch.randn(1, 2, {', '.join(['6'] * _n)})")])
    module_class(N + f"LazyBatchNorm{_n}d", "eps=1e-05, momentum=0.1, affine=True, track_running_stats=True, device=None, dtype=None, *, bias=True",
                 "input", r_affine, flow="keeps", group="layers", params="affine",
                 examples=[(f"nn.LazyBatchNorm{_n}d()(x)", f"x = torch.randn(2, 3{', 4' * _n})")])
    module_class(N + f"LazyInstanceNorm{_n}d", "eps=1e-05, momentum=0.1, affine=True, track_running_stats=True, device=None, dtype=None, *, bias=True",
                 "input", r_affine, flow="keeps", group="layers", params="affine",
                 examples=[(f"nn.LazyInstanceNorm{_n}d()(x)", f"x = torch.randn(2, 3{', 4' * _n})"),
                           (f"nn.LazyInstanceNorm{_n}d(affine=False)(x)", f"x = torch.randn(2, 3{', 4' * _n})")])
module_class(N + "SyncBatchNorm", "num_features, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True, process_group=None, device=None, dtype=None, *, bias=True",
             "input", r_affine, flow="keeps", group="layers", params="affine",
             examples=[("nn.SyncBatchNorm(3).eval()(x)", "x = torch.randn(2, 3, 4)")])
module_class(N + "RReLU|" + N + "Softmax2d", "*args, lower=0.125, upper=0.3333333333333333, inplace=False", "input", r_same,
             flow="keeps", group="activations",
             examples=[("nn.RReLU()(x)", "x = torch.randn(2, 4)"), ("nn.Softmax2d()(x)", "x = torch.randn(2, 3, 4, 4)")])
module_class(N + "LocalResponseNorm|" + N + "CrossMapLRN2d", "size, alpha=0.0001, beta=0.75, k=1.0", "input", r_same,
             flow="keeps", group="activations", examples=[("nn.LocalResponseNorm(2)(x)", "x = torch.randn(2, 3, 4, 4)")])
module_class(N + "GLU", "dim=-1", "input", r_glu, group="activations",
             examples=[("nn.GLU()(x)", "x = torch.randn(2, 4, 6)"), ("nn.GLU(1)(x)", "x = torch.randn(2, 4, 6)")])
op("torch.nn.functional.glu", "input, dim=-1", r_glu, group="activations", examples=[("F.glu(x)", "x = torch.randn(3, 4)")])
module_class(N + "Unflatten", "dim, unflattened_size", "input", r_unflatten_module, flow="keeps", group="layers",
             examples=[("nn.Unflatten(1, (2, 2))(x)", "x = torch.randn(3, 4)"), ("nn.Unflatten(-1, (2, -1))(x)", "x = torch.randn(3, 6)")])
_TEL = "d_model, nhead, dim_feedforward=2048, dropout=0.1, activation='relu', layer_norm_eps=1e-05, batch_first=False, norm_first=False, bias=True, device=None, dtype=None"
module_class(N + "TransformerEncoderLayer", _TEL, "src, src_mask=None, src_key_padding_mask=None, is_causal=False",
             r_same_params_of("src"), flow="keeps", group="layers", params=True,
             examples=[("nn.TransformerEncoderLayer(8, 2, 16)(x)", "x = torch.randn(5, 3, 8)"),
                       ("nn.TransformerEncoderLayer(8, 2, 16, batch_first=True)(x)", "x = torch.randn(3, 5, 8)")])
module_class(N + "TransformerDecoderLayer", _TEL, "tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None, "
             "memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False",
             r_same_params_of("tgt"), flow="keeps", group="layers", params=True,
             examples=[("nn.TransformerDecoderLayer(8, 2, 16)(t, m)", "t = torch.randn(4, 3, 8); m = torch.randn(5, 3, 8)")])
module_class(N + "TransformerEncoder", "encoder_layer, num_layers, norm=None, enable_nested_tensor=True, mask_check=True",
             "src, mask=None, src_key_padding_mask=None, is_causal=None", r_stack_of("TransformerEncoderLayer", "src"), flow="keeps",
             group="layers", params=True,
             examples=[("nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16), 2)(x)", "x = torch.randn(5, 3, 8)"),
                       ("nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16), 2, norm=nn.LayerNorm(8))(x)",
                        "x = torch.randn(5, 3, 8)")])
module_class(N + "TransformerDecoder", "decoder_layer, num_layers, norm=None",
             "tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None, memory_key_padding_mask=None, "
             "tgt_is_causal=None, memory_is_causal=False", r_stack_of("TransformerDecoderLayer", "tgt"), flow="keeps", group="layers",
             params=True,
             examples=[("nn.TransformerDecoder(nn.TransformerDecoderLayer(8, 2, 16), 2)(t, m)",
                        "t = torch.randn(4, 3, 8); m = torch.randn(5, 3, 8)")])
