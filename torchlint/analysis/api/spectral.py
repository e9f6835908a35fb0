"""``torch.fft``, sampling (``torch.multinomial``).

An FFT keeps every dim but the transformed ones: ``n``/``s`` set their length,
and the real-input transforms halve the last transformed dim (``n // 2 + 1``)
while their inverses restore it (``2 * (m - 1)`` by default).  The complex
transforms return complex tensors, the inverse real ones float tensors.
"""
from __future__ import annotations

from torchlint.analysis import shapes as S
from torchlint.analysis.api import Args, op
from torchlint.analysis.api.pointwise import r_same
from torchlint.analysis.shapes import ShapeUnknown
from torchlint.analysis.values import Tensor

FFT = "torch.fft."


def _half(m):
    return m // 2 + 1 if isinstance(m, int) else None


def _double(m):
    return 2 * (m - 1) if isinstance(m, int) else None


def _transform(shape, dims, sizes, last):
    """``shape`` after transforming ``dims`` (normalised) to ``sizes`` (None: unchanged); ``last`` maps the
    last transformed dim's length ('half', 'double' or None)."""
    out = list(shape)
    for i, (d, n) in enumerate(zip(dims, sizes)):
        is_last = i == len(dims) - 1
        if n is not None and n != -1:
            out[d] = n if not (is_last and last == "half") else _half(n)
        elif is_last and last == "half":
            out[d] = _half(out[d])
        elif is_last and last == "double":
            out[d] = _double(out[d])
    return tuple(out)


def r_fft1(last):
    def rule(a: Args):
        shape = a.shape("input")
        if not shape:
            raise ShapeUnknown("fft of a 0-d tensor")
        d = S.norm_dim(a.int("dim"), len(shape))
        return _transform(shape, (d,), (a.opt_int("n"),), last)

    return rule


def r_fftn(last, default_dims):
    def rule(a: Args):
        shape = a.shape("input")
        s = None if a.is_none("s") else a.const("s")
        dim = None if a.is_none("dim") else a.dims("dim")
        if isinstance(dim, int):
            dim = (dim,)
        if s is not None and not (isinstance(s, tuple) and all(isinstance(i, int) for i in s)):
            raise ShapeUnknown("s")
        if dim is None and default_dims:
            dim = default_dims
        elif dim is None:
            dim = tuple(range(-len(s), 0)) if s is not None else tuple(range(len(shape)))
        if s is not None and len(s) != len(dim):
            raise ShapeUnknown("s and dim differ in length")
        dims = tuple(S.norm_dim(d, len(shape)) for d in dim)
        return _transform(shape, dims, s if s is not None else (None,) * len(dims), last)

    return rule


_ONE = "input, n=None, dim=-1, norm=None, *, out=None"
_TWO = "input, s=None, dim=None, norm=None, *, out=None"  # dim=None: (-2, -1) (a sig default cannot hold a comma)
_N = "input, s=None, dim=None, norm=None, *, out=None"

op(FFT + "fft|" + FFT + "ifft", _ONE, r_fft1(None), group="fft", dtype="complex",
   examples=[("torch.fft.fft(x)", "x = torch.randn(2, 3, 8)"), ("torch.fft.ifft(x, n=5, dim=0)", "x = torch.randn(4, 3)"),
             ("torch.fft.fft(x, 12)", "x = torch.randn(8)")])
op(FFT + "rfft|" + FFT + "ihfft", _ONE, r_fft1("half"), group="fft", dtype="complex",
   examples=[("torch.fft.rfft(x)", "x = torch.randn(2, 3, 8)"), ("torch.fft.rfft(x, n=7, dim=1)", "x = torch.randn(2, 5)"),
             ("torch.fft.ihfft(x)", "x = torch.randn(9)")])
op(FFT + "irfft|" + FFT + "hfft", _ONE, r_fft1("double"), group="fft", dtype="float",
   examples=[("torch.fft.irfft(x)", "x = torch.randn(2, 5, dtype=torch.cfloat)"),
             ("torch.fft.irfft(x, n=9)", "x = torch.randn(2, 5, dtype=torch.cfloat)"),
             ("torch.fft.hfft(x, dim=0)", "x = torch.randn(4, 3, dtype=torch.cfloat)")])
op(FFT + "fft2|" + FFT + "ifft2", _TWO, r_fftn(None, (-2, -1)), group="fft", dtype="complex",
   examples=[("torch.fft.fft2(x)", "x = torch.randn(2, 4, 6)"), ("torch.fft.ifft2(x, s=(3, 5))", "x = torch.randn(2, 4, 6)")])
op(FFT + "rfft2", _TWO, r_fftn("half", (-2, -1)), group="fft", dtype="complex",
   examples=[("torch.fft.rfft2(x)", "x = torch.randn(2, 4, 6)"), ("torch.fft.rfft2(x, s=(3, 5))", "x = torch.randn(2, 4, 6)")])
op(FFT + "irfft2", _TWO, r_fftn("double", (-2, -1)), group="fft", dtype="float",
   examples=[("torch.fft.irfft2(x)", "x = torch.randn(2, 4, 4, dtype=torch.cfloat)"),
             ("torch.fft.irfft2(x, s=(4, 6))", "x = torch.randn(2, 4, 4, dtype=torch.cfloat)")])
op(FFT + "fftn|" + FFT + "ifftn", _N, r_fftn(None, None), group="fft", dtype="complex",
   examples=[("torch.fft.fftn(x)", "x = torch.randn(2, 4, 6)"), ("torch.fft.ifftn(x, s=(3, 5))", "x = torch.randn(2, 4, 6)"),
             ("torch.fft.fftn(x, dim=(0, 2))", "x = torch.randn(2, 4, 6)"), ("torch.fft.fftn(x, s=(5,), dim=1)", "x = torch.randn(2, 4, 6)")])
op(FFT + "rfftn", _N, r_fftn("half", None), group="fft", dtype="complex",
   examples=[("torch.fft.rfftn(x)", "x = torch.randn(2, 4, 6)"), ("torch.fft.rfftn(x, dim=(0, 1))", "x = torch.randn(2, 4, 6)")])
op(FFT + "irfftn", _N, r_fftn("double", None), group="fft", dtype="float",
   examples=[("torch.fft.irfftn(x)", "x = torch.randn(2, 4, 4, dtype=torch.cfloat)"),
             ("torch.fft.irfftn(x, s=(3, 8))", "x = torch.randn(2, 4, 5, dtype=torch.cfloat)")])
op(FFT + "fftshift|" + FFT + "ifftshift", "input, dim=None", r_same, flow="keeps", group="fft", dtype="input",
   examples=[("torch.fft.fftshift(x)", "x = torch.randn(2, 5)"), ("torch.fft.ifftshift(x, dim=1)", "x = torch.randn(2, 5)")])


def r_multinomial(a: Args):
    shape = a.shape("input")
    if len(shape) not in (1, 2):
        raise ShapeUnknown("multinomial takes a 1-D or 2-D input")
    return Tensor(shape=shape[:-1] + (a.int("num_samples"),), dtype="int", requires_grad=False)


op("torch.multinomial|Tensor.multinomial", "input, num_samples, replacement=False, *, generator=None, out=None", r_multinomial,
   differentiable=False, group="sampling", dtype="int",
   examples=[("torch.multinomial(p, 3)", "p = torch.rand(2, 5)"), ("p.multinomial(4, replacement=True)", "p = torch.rand(5)"),
             ("torch.multinomial(p, 1)", "p = torch.rand(5, requires_grad=True)")])
