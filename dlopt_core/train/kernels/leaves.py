"""The leaves of ``rules`` compiled for the CPU, and the binding the CUDA backend reuses.

``bind_leaves`` recreates each leaf of ``rules`` (activations, losses, schedules, the optimizer
update) from its code with a namespace in which the names of the others refer to their compiled
forms, and ``fma`` to a fused multiply-add; this module binds them with ``numba.njit`` for the CPU
kernels, ``kernels/cuda.py`` with ``cuda.jit(device=True)``: one source for every backend.
"""

import types

from llvmlite import ir as llvm_ir
from numba import njit
from numba import types as nbtypes
from numba.extending import intrinsic

from . import rules

LEAVES = (
    "tanh_fast",
    "activate",
    "activation_slope",
    "bce_with_logit",
    "schedule_lr",
    "step_coefficients",
    "update_param",
)


@intrinsic
def fma(typingctx, a, b, c):
    """``a * b + c`` rounded once (LLVM's ``llvm.fma``, one instruction on x86 with FMA)."""
    if not all(isinstance(x, nbtypes.Float) for x in (a, b, c)):
        return None

    def codegen(context, builder, signature, args):
        double = llvm_ir.DoubleType()
        args = [
            context.cast(builder, v, t, nbtypes.float64)
            for v, t in zip(args, signature.args, strict=True)
        ]
        fnty = llvm_ir.FunctionType(double, [double, double, double])
        return builder.call(builder.module.declare_intrinsic("llvm.fma", [double], fnty), args)

    return nbtypes.float64(a, b, c), codegen


def bind_leaves(decorate, fused=fma) -> dict:
    """Compile the leaves of ``rules`` with ``decorate``, each seeing the others' compiled forms.

    The leaves are recreated from their code with a namespace in which their names refer to the
    compiled versions, so a leaf may call another (``activate`` calls ``tanh_fast``), and
    ``fma`` to ``fused``; the CUDA backend uses the same function with ``cuda.jit(device=True)``
    and the device's fused multiply-add.
    """
    names = dict(vars(rules))
    names["fma"] = fused
    for name in LEAVES:
        src = getattr(rules, name)
        names[name] = decorate(types.FunctionType(src.__code__, names, name, src.__defaults__))
    return names


def _leaf_decorator(fn):
    """``update_param`` is inlined where it is called, so that a kernel's constant rule prunes
    the other rules before they are compiled; the other leaves are compiled once each, and LLVM
    inlines them into the loops that call them."""
    inline = "always"
    return njit(cache=True, error_model="numpy", inline=inline)(fn)


_LEAF = bind_leaves(_leaf_decorator)
tanh_fast = _LEAF["tanh_fast"]
activate = _LEAF["activate"]
activation_slope = _LEAF["activation_slope"]
bce_with_logit = _LEAF["bce_with_logit"]
schedule_lr = _LEAF["schedule_lr"]
step_coefficients = _LEAF["step_coefficients"]
update_param = _LEAF["update_param"]
