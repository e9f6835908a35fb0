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
from torchlint.analysis.values import UNKNOWN, Const, Instance, Number, Seq, Tensor, TorchObject


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


# ---------------------------------------------------------------------------
# more of the long tail: sizes, legacy constructors, wrappers that return their module, gradient clipping


def r_size(a: Args):
    v = a["sizes"]
    if isinstance(v, Seq) and v.items is not None and len(v.items) == 1 and isinstance(v.items[0], Seq) \
            and v.items[0].items is not None:
        return Seq("tuple", v.items[0].items)
    if isinstance(v, Seq) and v.items == ():
        return Seq("tuple", ())
    return UNKNOWN


op("torch.Size", "*sizes", r_size, group="runtime", examples=["torch.Size([2, 3])", "torch.Size()"])


def r_new(a: Args):
    """``t.new(...)``: a new leaf of ``t``'s dtype; ``t.new()`` is empty, ``t.new(2, 3)`` of that size (data or
    a size object: unknown)."""
    src = a.tensor("input")
    items = a["args"].items if isinstance(a["args"], Seq) else None
    if items == ():
        shape = (0,)
    elif items and all(isinstance(i, Const) and isinstance(i.value, int) and not isinstance(i.value, bool) for i in items):
        shape = tuple(i.value for i in items)
    else:
        shape = None
    return Tensor(shape=shape, dtype=src.dtype, requires_grad=False, leaf=True, grad_note="created by .new()")


op("Tensor.new", "input, *args, dtype=None, device=None", r_new, differentiable=False, dtype="rule", group="creation",
   examples=[("x.new(2, 3)", "x = torch.randn(4, requires_grad=True)"), ("x.new()", "x = torch.arange(3)")])


def r_same_module(a: Args):
    m = a["module"]
    if isinstance(m, (TorchObject, Instance)):
        return m
    return UNKNOWN


op("torch.nn.utils.weight_norm|torch.nn.utils.spectral_norm|torch.nn.utils.parametrizations.weight_norm|"
   "torch.nn.utils.parametrizations.spectral_norm|torch.nn.utils.parametrizations.orthogonal|torch.nn.utils.remove_weight_norm|"
   "torch.nn.utils.remove_spectral_norm",
   "module, name='weight', *args, dim=0, n_power_iterations=1, eps=1e-12, orthogonal_map=None, use_trivialization=True",
   r_same_module, group="runtime",
   examples=[("nn.utils.weight_norm(nn.Linear(3, 4))(x)", "x = torch.randn(2, 3)"),
             ("nn.utils.parametrizations.spectral_norm(nn.Conv1d(2, 3, 3))(x)", "x = torch.randn(1, 2, 5)")])


def r_clip_grad_norm(a: Args):
    return Tensor(shape=(), dtype="float", requires_grad=False, grad_note="a norm of gradients")


op("torch.nn.utils.clip_grad_norm_|torch.nn.utils.get_total_norm", "parameters, max_norm=None, norm_type=2.0, "
   "error_if_nonfinite=False, foreach=None", r_clip_grad_norm, differentiable=False, group="runtime",
   examples=[("nn.utils.clip_grad_norm_(m.parameters(), 1.0)", "m = nn.Linear(3, 2); m(torch.randn(4, 3)).sum().backward()")])
op("torch.nn.utils.clip_grad_value_|torch.testing.assert_close|torch.cuda.manual_seed_all|torch.cuda.manual_seed",
   "*args, clip_value=None, foreach=None, rtol=None, atol=None, equal_nan=False, check_dtype=True, msg=None",
   lambda a: Const(None), group="runtime",
   examples=[("nn.utils.clip_grad_value_(m.parameters(), 1.0)", "m = nn.Linear(3, 2); m(torch.randn(4, 3)).sum().backward()"),
             ("torch.testing.assert_close(x, x)", "x = torch.randn(2)"), ("torch.cuda.manual_seed_all(0)", "")])
# process groups and devices that a CPU-only run cannot set up: no example runs here
op("torch.distributed.barrier|torch.distributed.init_process_group|torch.distributed.destroy_process_group|"
   "torch.cuda.synchronize|torch.cuda.set_device", "*args, backend=None, init_method=None, world_size=-1, rank=-1, "
   "timeout=None, group=None, device_ids=None, async_op=False", lambda a: Const(None), group="runtime")
op("Tensor.data_ptr|Tensor.element_size|Tensor.get_device", "input", lambda a: Number("int"), differentiable=False,
   group="runtime", examples=[("x.element_size()", "x = torch.randn(2)"), ("x.get_device()", "x = torch.randn(2)")])
op("torch.nn.init.calculate_gain", "nonlinearity, param=None", lambda a: Number("float"), group="runtime",
   examples=["nn.init.calculate_gain('relu')"])
