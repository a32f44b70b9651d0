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


@intrinsic
def pow2_bits(typingctx, k):
    """``2.0 ** k`` for a whole number 0 <= k < 64 (an integer, or a float holding one), built
    from its bits: exponent ``k + 1023``, mantissa 0. The same number as ``rules.POW2[k]``."""
    if not isinstance(k, (nbtypes.Integer, nbtypes.Float)):
        return None

    def codegen(context, builder, signature, args):
        i64 = llvm_ir.IntType(64)
        if isinstance(signature.args[0], nbtypes.Float):
            whole = builder.fptosi(args[0], i64)
        else:
            whole = context.cast(builder, args[0], signature.args[0], nbtypes.int64)
        bits = builder.shl(builder.add(whole, i64(1023)), i64(52))
        return builder.bitcast(bits, llvm_ir.DoubleType())

    return nbtypes.float64(k), codegen


def bind_leaves(decorate, fused=fma, power=None) -> dict:
    """Compile the leaves of ``rules`` with ``decorate``, each seeing the others' compiled forms.

    The leaves are recreated from their code with a namespace in which their names refer to the
    compiled versions, so a leaf may call another (``activate`` calls ``tanh_fast``), ``fma``
    to ``fused`` and ``pow2`` to ``power`` (by default ``rules.pow2``, a table lookup, compiled
    with ``decorate``); the CUDA backend uses the same function with ``cuda.jit(device=True)``
    and the device's fused multiply-add.
    """
    names = dict(vars(rules))
    names["fma"] = fused
    names["pow2"] = power or decorate(
        types.FunctionType(rules.pow2.__code__, names, "pow2", rules.pow2.__defaults__)
    )
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


_LEAF = bind_leaves(_leaf_decorator, power=pow2_bits)
tanh_fast = _LEAF["tanh_fast"]
activate = _LEAF["activate"]
activation_slope = _LEAF["activation_slope"]
bce_with_logit = _LEAF["bce_with_logit"]
schedule_lr = _LEAF["schedule_lr"]
step_coefficients = _LEAF["step_coefficients"]
update_param = _LEAF["update_param"]
