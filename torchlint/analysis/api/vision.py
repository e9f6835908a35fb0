"""Spatial layers and functions: transposed convolutions, upsampling, pooling, pixel shuffle.

Shape rules follow the formulas in PyTorch's documentation.  Module classes read
their constructor arguments as ``self.<name>``; functions read the call's own
arguments.  A ``return_indices=True`` pool returns ``(values, indices)``.
"""
from __future__ import annotations

from torchlint.analysis import shapes as S
from torchlint.analysis.api import Args, module_class, op
from torchlint.analysis.api.layers import _param_out, _self, _tuple, opt_self, partial_channels, partial_spatial
from torchlint.analysis.shapes import ShapeUnknown
from torchlint.analysis.values import Seq, Tensor

N = "torch.nn."
F = "torch.nn.functional."


def _spatial(a: Args, n: int) -> tuple:
    shape = a.shape("input")
    if len(shape) not in (n + 1, n + 2):
        raise ShapeUnknown(f"expected a {n + 1}-D or {n + 2}-D input")
    return shape


# ---------------------------------------------------------------------------
# Transposed convolutions


def _conv_transpose_spatial(spatial, k, st, pad, dil, outpad, output_size, n):
    if output_size is not None:
        size = output_size  # a sequence (an int raises in torch)
        if not isinstance(size, tuple) or len(size) not in (n, n + 1, n + 2):
            raise ShapeUnknown("output_size")
        return tuple(size[-n:])
    return tuple(S.conv_transpose_out(s, kk, ss, p, d, op_) for s, kk, ss, p, d, op_ in zip(spatial, k, st, pad, dil, outpad))


def r_conv_transpose(n):
    def rule(a: Args):
        shape = _spatial(a, n)
        k = _tuple(_self(a, "kernel_size"), n)
        st, pad = _tuple(_self(a, "stride"), n), _tuple(_self(a, "padding"), n)
        dil, outpad = _tuple(_self(a, "dilation"), n), _tuple(_self(a, "output_padding"), n)
        out_size = None if a.is_none("output_size") else a.const("output_size")
        sp = _conv_transpose_spatial(shape[-n:], k, st, pad, dil, outpad, out_size, n)
        return _param_out(a, shape[: -n - 1] + (_self(a, "out_channels"),) + sp)

    return rule


def r_f_conv_transpose(n):
    def rule(a: Args):
        shape = _spatial(a, n)
        w = a.shape("weight")
        if len(w) != n + 2:
            raise ShapeUnknown("weight rank")
        k = w[2:]
        st, pad = _tuple(a.const("stride"), n), _tuple(a.const("padding"), n)
        dil, outpad = _tuple(a.const("dilation"), n), _tuple(a.const("output_padding"), n)
        groups = a.int("groups")
        out_c = w[1] * groups if isinstance(w[1], int) else None
        sp = _conv_transpose_spatial(shape[-n:], k, st, pad, dil, outpad, None, n)
        return shape[: -n - 1] + (out_c,) + sp

    return rule


def r_f_conv(n):
    def rule(a: Args):
        shape = _spatial(a, n)
        w = a.shape("weight")
        if len(w) != n + 2:
            raise ShapeUnknown("weight rank")
        st, dil = _tuple(a.const("stride"), n), _tuple(a.const("dilation"), n)
        pad = a.const("padding")
        if pad == "same":
            sp = shape[-n:]
        else:
            pad = (0,) * n if pad == "valid" else _tuple(pad, n)
            sp = tuple(S.conv_out(s, kk, ss, p, d) for s, kk, ss, p, d in zip(shape[-n:], w[2:], st, pad, dil))
        return shape[: -n - 1] + (w[0],) + sp

    return rule


def _weight_dim(n: int, i: int, times: str = ""):
    """Dim ``i`` of a convolution's weight (of rank ``n + 2``), times the int argument ``times``; None when
    either is unknown."""
    def size_of(a: Args):
        w = a["weight"]
        if not isinstance(w, Tensor) or w.shape is None or len(w.shape) != n + 2 or not isinstance(w.shape[i], int):
            return None
        if not times:
            return w.shape[i]
        try:
            return w.shape[i] * a.int(times)
        except ShapeUnknown:
            return None
    return size_of


_CT_INIT = ("in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1, bias=True, "
            "dilation=1, padding_mode='zeros', device=None, dtype=None")
for _n in (1, 2, 3):
    _sp = lambda v: ", ".join([str(v)] * _n)  # noqa: E731
    module_class(N + f"ConvTranspose{_n}d", _CT_INIT, "input, output_size=None", r_conv_transpose(_n), group="layers",
                 params=True, partial=partial_channels(_n, lambda a: opt_self(a, "out_channels")),
                 examples=[(f"nn.ConvTranspose{_n}d(3, 4, 2, stride=2)(x)", f"x = torch.randn(2, 3, {_sp(5)})"),
                           (f"nn.ConvTranspose{_n}d(3, 4, 3)(x)", f"x = torch.randn(3, {_sp(4)})"),
                           (f"nn.ConvTranspose{_n}d(2, 3, 3, stride=2, padding=1, output_padding=1, dilation=2)(x)",
                            f"x = torch.randn(1, 2, {_sp(4)})"),
                           (f"nn.ConvTranspose{_n}d(2, 3, 3, stride=2, padding=1)(x, output_size=[{_sp(8)}])",
                            f"x = torch.randn(1, 2, {_sp(4)})")])
    op(F + f"conv_transpose{_n}d", "input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1",
       r_f_conv_transpose(_n), group="layers", partial=partial_channels(_n, _weight_dim(_n, 1, "groups")),
       examples=[(f"F.conv_transpose{_n}d(x, w, stride=2)", f"x = torch.randn(2, 3, {_sp(4)}); w = torch.randn(3, 2, {_sp(3)})"),
                 (f"F.conv_transpose{_n}d(x, w, groups=3)", f"x = torch.randn(1, 3, {_sp(4)}); w = torch.randn(3, 2, {_sp(2)})")])
    op(F + f"conv{_n}d", "input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1", r_f_conv(_n), group="layers",
       partial=partial_channels(_n, _weight_dim(_n, 0)),
       examples=[(f"F.conv{_n}d(x, w)", f"x = torch.randn(2, 3, {_sp(6)}); w = torch.randn(4, 3, {_sp(3)})"),
                 (f"F.conv{_n}d(x, w, stride=2, padding=1)", f"x = torch.randn(3, {_sp(7)}); w = torch.randn(5, 3, {_sp(3)})"),
                 (f"F.conv{_n}d(x, w, padding='same')", f"x = torch.randn(1, 3, {_sp(5)}); w = torch.randn(2, 3, {_sp(3)})")])


# ---------------------------------------------------------------------------
# Upsampling (their own group: a module in "layers" is taken to save tensors for backward, and these do not)


def _upsample(a: Args, size, scale):
    shape = a.shape("input")
    n = len(shape) - 2
    if n < 1:
        raise ShapeUnknown("interpolate needs a batched input")
    if (size is None) == (scale is None):
        raise ShapeUnknown("exactly one of size and scale_factor")
    if size is not None:
        sp = _tuple(size, n)
    else:
        sp = tuple(S.scaled(s, f) for s, f in zip(shape[2:], _tuple(scale, n) if not isinstance(scale, float) else (scale,) * n))
    return shape[:2] + tuple(sp)


def r_interpolate(a: Args):
    return _upsample(a, a.const("size"), a.const("scale_factor"))


def r_upsample_module(a: Args):
    return _upsample(a, _self(a, "size"), _self(a, "scale_factor"))


def r_upsample_2d_module(a: Args):
    if len(a.shape("input")) != 4:
        raise ShapeUnknown("4-D input")
    return r_upsample_module(a)


op(F + "interpolate", "input, size=None, scale_factor=None, mode='nearest', align_corners=None, recompute_scale_factor=None, antialias=False",
   r_interpolate, group="layers", dtype="input", partial=partial_spatial(None, 2),
   examples=[("F.interpolate(x, scale_factor=2)", "x = torch.randn(2, 3, 5, 5)"),
             ("F.interpolate(x, size=(7, 9), mode='bilinear', align_corners=False)", "x = torch.randn(2, 3, 5, 5)"),
             ("F.interpolate(x, scale_factor=1.5, mode='linear')", "x = torch.randn(2, 3, 5)"),
             ("F.interpolate(x, size=4)", "x = torch.randn(1, 2, 3, 3, 3)"),
             ("F.interpolate(x, scale_factor=(2, 0.5))", "x = torch.randn(1, 2, 3, 4)")])
op(F + "upsample", "input, size=None, scale_factor=None, mode='nearest', align_corners=None", r_interpolate,
   group="layers", dtype="input", partial=partial_spatial(None, 2), examples=[("F.upsample(x, scale_factor=2)", "x = torch.randn(2, 3, 4, 4)")])
op(F + "upsample_nearest|" + F + "upsample_bilinear", "input, size=None, scale_factor=None", r_interpolate,
   group="layers", dtype="input", partial=partial_spatial(None, 2), examples=[("F.upsample_nearest(x, size=(6, 8))", "x = torch.randn(2, 3, 4, 4)"),
                                            ("F.upsample_bilinear(x, scale_factor=2)", "x = torch.randn(2, 3, 4, 4)")])
module_class(N + "Upsample", "size=None, scale_factor=None, mode='nearest', align_corners=None, recompute_scale_factor=None",
             "input", r_upsample_module, group="upsampling", partial=partial_spatial(None, 2),
             examples=[("nn.Upsample(scale_factor=2)(x)", "x = torch.randn(2, 3, 4, 4)"),
                       ("nn.Upsample(size=10, mode='linear')(x)", "x = torch.randn(2, 3, 4)"),
                       ("nn.Upsample(scale_factor=2, mode='trilinear')(x)", "x = torch.randn(1, 2, 3, 3, 3)")])
module_class(N + "UpsamplingNearest2d|" + N + "UpsamplingBilinear2d", "size=None, scale_factor=None", "input",
             r_upsample_2d_module, group="upsampling", partial=partial_spatial(2),
             examples=[("nn.UpsamplingNearest2d(scale_factor=2)(x)", "x = torch.randn(2, 3, 4, 4)"),
                       ("nn.UpsamplingBilinear2d(size=(5, 7))(x)", "x = torch.randn(2, 3, 4, 4)")])


# ---------------------------------------------------------------------------
# Pooling functions


def _with_indices(a: Args, shape):
    if a.bool("return_indices"):
        return Seq("tuple", (Tensor(shape=shape), Tensor(shape=shape, dtype="int", requires_grad=False)))
    return shape


def r_f_pool(n, kind):
    def rule(a: Args):
        shape = _spatial(a, n)
        k = _tuple(a.const("kernel_size"), n)
        stride = a.const("stride")
        st = k if stride is None or stride == () else _tuple(stride, n)
        pad = _tuple(a.const("padding"), n)
        dil = _tuple(a.const("dilation"), n) if kind == "max" else (1,) * n
        ceil = a.bool("ceil_mode")
        out = shape[:-n] + tuple(S.pool_out(s, kk, ss, p, d, ceil) for s, kk, ss, p, d in zip(shape[-n:], k, st, pad, dil))
        return _with_indices(a, out) if kind == "max" else out

    return rule


def r_f_adaptive(n, kind):
    def rule(a: Args):
        shape = _spatial(a, n)
        size = a.const("output_size")
        want = _tuple(size, n) if size is not None else (None,) * n
        out = shape[:-n] + tuple(s if o is None else o for s, o in zip(shape[-n:], want))
        return _with_indices(a, out) if kind == "max" else out

    return rule


for _n in (1, 2, 3):
    _sp = lambda v: ", ".join([str(v)] * _n)  # noqa: E731
    op(F + f"max_pool{_n}d", "input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False",
       r_f_pool(_n, "max"), flow="spatial", group="layers", dtype="input", partial=partial_spatial(_n),
       examples=[(f"F.max_pool{_n}d(x, 2)", f"x = torch.randn(2, 3, {_sp(6)})"),
                 (f"F.max_pool{_n}d(x, 3, stride=2, padding=1, ceil_mode=True)", f"x = torch.randn(3, {_sp(8)})"),
                 (f"F.max_pool{_n}d(x, 2, return_indices=True)", f"x = torch.randn(1, 2, {_sp(4)})")])
    op(F + f"avg_pool{_n}d", "input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True"
       + (", divisor_override=None" if _n > 1 else ""), r_f_pool(_n, "avg"), flow="spatial", group="layers", dtype="input",
       partial=partial_spatial(_n),
       examples=[(f"F.avg_pool{_n}d(x, 2)", f"x = torch.randn(2, 3, {_sp(6)})"),
                 (f"F.avg_pool{_n}d(x, 3, stride=2, padding=1, ceil_mode=True)", f"x = torch.randn(3, {_sp(8)})")])
    op(F + f"adaptive_avg_pool{_n}d", "input, output_size", r_f_adaptive(_n, "avg"), flow="spatial", group="layers",
       partial=partial_spatial(_n),
       dtype="input", examples=[(f"F.adaptive_avg_pool{_n}d(x, 1)", f"x = torch.randn(2, 3, {_sp(5)})"),
                                (f"F.adaptive_avg_pool{_n}d(x, ({_sp(2)}))", f"x = torch.randn(3, {_sp(5)})")])
    op(F + f"adaptive_max_pool{_n}d", "input, output_size, return_indices=False", r_f_adaptive(_n, "max"), flow="spatial",
       group="layers", dtype="input", partial=partial_spatial(_n),
       examples=[(f"F.adaptive_max_pool{_n}d(x, 2)", f"x = torch.randn(2, 3, {_sp(5)})"),
                 (f"F.adaptive_max_pool{_n}d(x, 3, return_indices=True)", f"x = torch.randn(1, 2, {_sp(6)})")])


# ---------------------------------------------------------------------------
# Pixel shuffle


def _pixel_shuffle(a: Args, r: int, inverse: bool):
    shape = a.shape("input")
    if len(shape) < 3:
        raise ShapeUnknown("pixel_shuffle needs 3 or more dims")
    c, h, w = shape[-3:]
    if inverse:
        out = (c * r * r if isinstance(c, int) else None, h // r if isinstance(h, int) else None,
               w // r if isinstance(w, int) else None)
    else:
        if isinstance(c, int) and c % (r * r):
            raise ShapeUnknown("channels not divisible")
        out = (c // (r * r) if isinstance(c, int) else None, h * r if isinstance(h, int) else None,
               w * r if isinstance(w, int) else None)
    return shape[:-3] + out


op(F + "pixel_shuffle", "input, upscale_factor", lambda a: _pixel_shuffle(a, a.int("upscale_factor"), False),
   flow="keeps", group="layers", dtype="input", examples=[("F.pixel_shuffle(x, 2)", "x = torch.randn(2, 12, 3, 4)")])
op(F + "pixel_unshuffle", "input, downscale_factor", lambda a: _pixel_shuffle(a, a.int("downscale_factor"), True),
   flow="keeps", group="layers", dtype="input", examples=[("F.pixel_unshuffle(x, 2)", "x = torch.randn(2, 3, 4, 6)")])
module_class(N + "PixelShuffle", "upscale_factor", "input", lambda a: _pixel_shuffle(a, _self(a, "upscale_factor"), False),
             flow="keeps", group="upsampling", examples=[("nn.PixelShuffle(3)(x)", "x = torch.randn(1, 18, 2, 2)")])
module_class(N + "PixelUnshuffle", "downscale_factor", "input", lambda a: _pixel_shuffle(a, _self(a, "downscale_factor"), True),
             flow="keeps", group="upsampling", examples=[("nn.PixelUnshuffle(2)(x)", "x = torch.randn(1, 2, 4, 4)")])


# ---------------------------------------------------------------------------
# Padding (negative pads crop), channel shuffle


def _padded(shape, pad):
    if not isinstance(pad, tuple) or len(pad) % 2 or len(pad) // 2 > len(shape) \
            or not all(isinstance(p, int) and not isinstance(p, bool) for p in pad):
        raise ShapeUnknown("pad")
    out = list(shape)
    for i in range(len(pad) // 2):
        d = len(shape) - 1 - i
        out[d] = out[d] + pad[2 * i] + pad[2 * i + 1] if isinstance(out[d], int) else None
    return tuple(out)


def r_pad(a: Args):
    return _padded(a.shape("input"), a.const("pad"))


def r_pad_module(n):
    def rule(a: Args):
        shape = _spatial(a, n)
        pad = _self(a, "padding")
        return _padded(shape, (pad,) * (2 * n) if isinstance(pad, int) else pad)

    return rule


def r_channel_shuffle(a: Args):
    t = a.tensor("input")
    if t.shape is None or len(t.shape) < 3:
        raise ShapeUnknown("channel_shuffle needs 3 or more dims")
    return Tensor(shape=t.shape, numel=t.numel)


op(F + "pad", "input, pad, mode='constant', value=None", r_pad, group="padding", dtype="input",
   examples=[("F.pad(x, (1, 2))", "x = torch.randn(2, 3)"), ("F.pad(x, (1, 1, 2, 0), mode='reflect')", "x = torch.randn(1, 2, 4, 4)"),
             ("F.pad(x, [0, 0, -1, 1], value=0.5)", "x = torch.randn(3, 4)")])
for _n in (1, 2, 3):
    _sp = lambda v: ", ".join([str(v)] * _n)  # noqa: E731
    for _kind in ("Zero", "Constant", "Reflection", "Replication", "Circular"):
        module_class(N + f"{_kind}Pad{_n}d", "padding, value=0.0" if _kind == "Constant" else "padding", "input",
                     r_pad_module(_n), flow="reduce", group="padding", partial=partial_spatial(_n),
                     examples=[(f"nn.{_kind}Pad{_n}d(1{', 0.5' if _kind == 'Constant' else ''})(x)", f"x = torch.randn(2, 3, {_sp(4)})"),
                               (f"nn.{_kind}Pad{_n}d(({_sp('1, 2')}){', 0.5' if _kind == 'Constant' else ''})(x)",
                                f"x = torch.randn(3, {_sp(5)})")])
op(F + "channel_shuffle|torch.channel_shuffle|torch.native_channel_shuffle", "input, groups", r_channel_shuffle, flow="keeps",
   group="padding", dtype="input", examples=[("F.channel_shuffle(x, 2)", "x = torch.randn(2, 4, 3, 3)")])
module_class(N + "ChannelShuffle", "groups", "input", r_channel_shuffle, flow="keeps", group="padding",
             examples=[("nn.ChannelShuffle(2)(x)", "x = torch.randn(2, 4, 3, 3)")])
