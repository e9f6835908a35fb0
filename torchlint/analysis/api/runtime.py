"""Calls that real training code makes around its tensors (counted by ``benchmarks/op_usage.py``): seeds and
generators, device and process-group queries, tensor predicates, the default dtype, ``torch.finfo``, and the
``torch.nn.init`` initialisers.

None of them makes a new tensor that autograd records; what matters is the kind of value they give (a
Python bool or int, a dtype, the tensor they were given), so that code using it (``loss / world_size``,
``.to(torch.get_default_dtype())``, ``nn.init.normal_(self.weight)``) keeps what torchlint knows.
"""
from __future__ import annotations

from torchlint.analysis.api import Args, dtype_kind, dtype_value, op
from torchlint.analysis.shapes import ShapeUnknown
from torchlint.analysis.values import UNKNOWN, Const, Number, Seq, Tensor, TorchObject


def _number(kind):
    return lambda a: Number(kind)


def r_generator(a: Args):
    return TorchObject("torch.Generator")


# ---------------------------------------------------------------------------
# seeds and generators

op("torch.manual_seed|torch.random.manual_seed", "seed", r_generator, group="runtime", examples=["torch.manual_seed(0)"])
op("torch.seed|torch.initial_seed", "", _number("int"), group="runtime", examples=["torch.initial_seed()"])
op("torch.Generator", "device='cpu'", r_generator, group="runtime", examples=["torch.Generator()"])

# ---------------------------------------------------------------------------
# devices, compilation and process groups: what the program asks of its environment

for _q in ("torch.cuda.is_available", "torch.backends.mps.is_available", "torch.backends.mps.is_built",
           "torch.backends.cudnn.is_available", "torch.xpu.is_available", "torch.accelerator.is_available",
           "torch.distributed.is_available", "torch.distributed.is_initialized", "torch.jit.is_scripting",
           "torch.jit.is_tracing", "torch.compiler.is_compiling", "torch.is_grad_enabled",
           "torch.is_inference_mode_enabled", "torch.cuda.is_bf16_supported"):
    op(_q, "*args", _number("bool"), group="runtime", examples=[f"{_q}()"])
for _q in ("torch.cuda.device_count", "torch.xpu.device_count",
           "torch.accelerator.device_count", "torch.get_num_threads"):
    op(_q, "*args", _number("int"), group="runtime", examples=[f"{_q}()"])
# a process group's size and rank, the current GPU (they raise without a process group, without CUDA: no
# example runs here)
op("torch.distributed.get_world_size|torch.distributed.get_rank|torch.cuda.current_device", "group=None", _number("int"),
   group="runtime")
op("torch.cuda.empty_cache|torch.use_deterministic_algorithms|torch.set_num_threads|torch.set_float32_matmul_precision",
   "*args, warn_only=False", lambda a: Const(None), group="runtime",
   examples=["torch.cuda.empty_cache()", "torch.use_deterministic_algorithms(False)", "torch.set_num_threads(1)",
             "torch.set_float32_matmul_precision('highest')"])

# ---------------------------------------------------------------------------
# tensor predicates and dtype queries


def r_is_tensor(a: Args):
    v = a["obj"]
    if isinstance(v, Tensor):
        return Const(True)
    if isinstance(v, (Const, Number, Seq)):
        return Const(False)
    return Number("bool")


def r_dtype_is(kinds):
    def rule(a: Args):
        v = a["input"]
        if isinstance(v, Tensor) and v.dtype is not None:
            return Const(v.dtype in kinds)
        return Number("bool")
    return rule


op("torch.is_tensor", "obj", r_is_tensor, group="runtime",
   examples=[("torch.is_tensor(x)", "x = torch.randn(2)"), ("torch.is_tensor(x)", "x = 3.0")])
op("torch.is_floating_point|Tensor.is_floating_point", "input", r_dtype_is(("float",)), group="runtime",
   examples=[("torch.is_floating_point(x)", "x = torch.randn(2)"), ("torch.is_floating_point(x)", "x = torch.arange(3)")])
op("torch.is_complex|Tensor.is_complex", "input", r_dtype_is(("complex",)), group="runtime",
   examples=[("torch.is_complex(x)", "x = torch.randn(2)")])
op("torch.equal|Tensor.equal", "input, other", _number("bool"), group="runtime",
   examples=[("torch.equal(x, x)", "x = torch.randn(2)")])
op("torch.allclose|Tensor.allclose", "input, other, rtol=1e-05, atol=1e-08, equal_nan=False", _number("bool"), group="runtime",
   examples=[("torch.allclose(x, x + 1e-9)", "x = torch.randn(2)")])
op("torch.get_default_dtype", "", lambda a: dtype_value("float"), group="runtime", examples=["torch.get_default_dtype()"])
op("torch.set_default_dtype", "d", lambda a: Const(None), group="runtime", examples=["torch.set_default_dtype(torch.float32)"])


def r_finfo(a: Args):
    t = a["type"]
    if not (isinstance(t, Const) and t.value is None) and dtype_kind(t) not in (None, "float", "complex"):
        return UNKNOWN  # finfo of an integer dtype raises
    floats = ("eps", "max", "min", "tiny", "smallest_normal", "resolution")
    return TorchObject("torch.finfo", tuple((n, Number("float")) for n in floats) + (("bits", Number("int")),))


def r_iinfo(a: Args):
    return TorchObject("torch.iinfo", (("max", Number("int")), ("min", Number("int")), ("bits", Number("int"))))


op("torch.finfo", "type=None", r_finfo, group="runtime",
   examples=[("torch.finfo(x.dtype).eps", "x = torch.randn(2)"), ("torch.finfo().max", "")])
op("torch.iinfo", "type", r_iinfo, group="runtime", examples=[("torch.iinfo(torch.int64).max", "")])

# ---------------------------------------------------------------------------
# torch.nn.init: each fills its tensor in place, without autograd recording it, and returns that tensor


def r_init(a: Args):
    t = a["tensor"]
    if not isinstance(t, Tensor):
        raise ShapeUnknown("not a tensor")
    return t


_INIT_KW = ("*args, mean=0.0, std=1.0, a=0.0, b=1.0, gain=1.0, mode='fan_in', nonlinearity='leaky_relu', "
            "generator=None, val=None, groups=1, sparsity=0.1")
for _name in ("constant_", "zeros_", "ones_", "normal_", "uniform_", "xavier_uniform_", "xavier_normal_",
              "kaiming_uniform_", "kaiming_normal_", "trunc_normal_", "orthogonal_", "eye_", "dirac_"):
    _arg = {"constant_": ", 0.5", "dirac_": ""}.get(_name, "")
    _setup = "w = nn.Parameter(torch.empty(3, 2, 3))" if _name == "dirac_" else "w = nn.Parameter(torch.empty(3, 4))"
    op(f"torch.nn.init.{_name}", f"tensor, {_INIT_KW}", r_init, flow="keeps", group="runtime",
       examples=[(f"nn.init.{_name}(w{_arg})", _setup)])
