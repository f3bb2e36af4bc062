"""Special functions and the rarer pointwise math: torch.special.*, xlogy, logaddexp, copysign,
heaviside, float_power, sinc, logit, i0, polygamma, angle/real/conj, gcd/lcm, frexp...

Math comes from jax.numpy / jax.scipy.special; each op keeps torch's node name and promotion.
torch.special's aliases of torch functions (special.erf is torch.erf) are the same functions.
"""
import collections
import math

import jax
import jax.numpy as jnp
import jax.scipy.special as jss

from .. import _dtype as D
from . import _nodes as N
from . import _promotion as P
from ._registry import METHODS, NAMESPACES, TORCH, op

_SPECIAL = NAMESPACES.setdefault("special", {})


def _xlogy_node(a, b, both):
    def name(arrays, inputs):
        slots = {s for s, _ in inputs}
        if 0 in slots and 1 in slots or not inputs:
            return both
        return a if 1 in slots else b
    return name


# -- binary --------------------------------------------------------------------------------------

@op(tensors="input other", promote=P.to_float, inplace=True,
    node=_xlogy_node("XlogyBackward1", "XlogyBackward2", "XlogyBackward0"))
def xlogy(input, other):
    return jss.xlogy(input, other)


@op(tensors="input other", promote=P.to_float, namespace="special", method=False,
    node=_xlogy_node("SpecialXlog1PyBackward1", "SpecialXlog1PyBackward2", "SpecialXlog1PyBackward0"))
def xlog1py(input, other):
    return jss.xlog1py(input, other)


def _float_only(name):
    def rule(dims, zero_dims, numbers):
        d = P.promote(dims, zero_dims, numbers)
        if not (d.is_floating_point or d.is_complex):
            raise NotImplementedError('"%s_cpu" not implemented for \'%s\'' % (name, d._legacy))
        return d
    rule.__name__ = name
    return rule


@op(tensors="input other", promote=_float_only("logaddexp"), node="LogaddexpBackward0")
def logaddexp(input, other):
    return jnp.logaddexp(input, other)


@op(tensors="input other", promote=_float_only("logaddexp2"), node="Logaddexp2Backward0")
def logaddexp2(input, other):
    return jnp.logaddexp2(input, other)


@op(tensors="input other", promote=P.to_float, inplace=True,
    node=N.by_tensor(1, "CopysignBackward0", "CopysignBackward1"))
def copysign(input, other):
    return jnp.copysign(input, other)


def _same_dtype(name, message):
    def rule(dims, zero_dims, numbers):
        ds = dims + zero_dims
        if numbers or any(d is not ds[0] for d in ds):
            raise RuntimeError(message)
        return None
    rule.__name__ = name
    return rule


@op(tensors="input values", promote=_same_dtype(
    "heaviside", "heaviside is not yet implemented for tensors with different dtypes"),
    inplace=True, node="NotImplemented")
def heaviside(input, values):
    out = jnp.where(input == 0, values, (input > 0).astype(values.dtype))
    return out.astype(jnp.result_type(input, values))


def _float_power_rule(dims, zero_dims, numbers):
    d = P.promote(dims, zero_dims, numbers)
    return D.complex128 if d.is_complex else D.float64


def _pow_node(arrays, inputs):
    slots = {s for s, _ in inputs}
    return "PowBackward1" if slots == {0, 1} else "PowBackward0" if 0 in slots else "PowBackward2"


@op(tensors="input exponent", promote=_float_power_rule, inplace=True, node=_pow_node)
def float_power(input, exponent):
    return jnp.power(input, exponent)


@op(tensors="input other", promote=P.to_float, inplace=True, node="LdexpBackward0")
def ldexp(input, other):
    return input * jnp.power(2.0, other).astype(input.dtype)


@op(tensors="input other", promote=_same_dtype("nextafter", "nextafter: expected both inputs to have the same dtype"),
    inplace=True, node="NextafterBackward0")
def nextafter(input, other):
    return jnp.nextafter(input, other)


def _integral_only(name):
    def rule(dims, zero_dims, numbers):
        d = P.promote(dims, zero_dims, numbers)
        if d.is_floating_point or d.is_complex or d is D.bool:
            raise RuntimeError('"%s_cpu" not implemented for \'%s\'' % (name, d._legacy))
        return d
    rule.__name__ = name
    return rule


@op(tensors="input other", promote=_integral_only("gcd"), inplace=True, differentiable=False)
def gcd(input, other):
    return jnp.gcd(input, other)


@op(tensors="input other", promote=_integral_only("lcm"), inplace=True, differentiable=False)
def lcm(input, other):
    return jnp.lcm(input, other)


@op(tensors="input other", promote=P.to_float, inplace=True, node="IgammaBackward0")
def igamma(input, other):
    return jss.gammainc(input, other)


@op(tensors="input other", promote=P.to_float, inplace=True, node="IgammacBackward0")
def igammac(input, other):
    return jss.gammaincc(input, other)


@op(tensors="input other", promote=P.to_float, namespace="special", method=False,
    node=N.by_tensor(1, "SpecialZetaBackward0", "SpecialZetaBackward1"))
def zeta(input, other):
    return jss.zeta(input, other)


# -- unary ---------------------------------------------------------------------------------------

def _erfcx(x):
    # exp(x^2) erfc(x) overflows/underflows past |x| ~ 10 in float64: an asymptotic series there
    wide = x.astype(jnp.float64) if x.dtype != jnp.float64 else x
    big = wide > 10
    safe = jnp.where(big, 10.0, wide)
    direct = jnp.exp(safe * safe) * jss.erfc(safe)
    z = jnp.where(big, wide, 20.0)
    inv = 1.0 / (2.0 * z * z)
    series, term = 1.0, 1.0
    for n in range(1, 8):
        term = -term * (2 * n - 1) * inv
        series = series + term
    asymptotic = series / (z * math.sqrt(math.pi))
    return jnp.where(big, asymptotic, direct).astype(x.dtype)


def _sinc(x):
    return jnp.sinc(x)


def _ndtri(x):
    return jss.ndtri(x)


# (name, function, promotion, node, namespace: None torch.*, "special", or "both")
_UNARY = [
    ("sinc", _sinc, P.to_float, "SincBackward0", "both"),
    ("i0", jss.i0, P.to_float, "I0Backward0", "both"),
    ("i0e", jss.i0e, P.to_float, "SpecialI0EBackward0", "special"),
    ("i1", jss.i1, P.to_float, "SpecialI1Backward0", "special"),
    ("i1e", jss.i1e, P.to_float, "SpecialI1EBackward0", "special"),
    ("ndtr", jss.ndtr, P.to_float, "MulBackward1", "special"),
    ("ndtri", _ndtri, P.to_float, "SpecialNdtriBackward0", "special"),
    ("log_ndtr", jss.log_ndtr, P.to_float, "SpecialLogNdtrBackward0", "special"),
    ("erfcx", _erfcx, P.to_float, "SpecialErfcxBackward0", "special"),
    ("entr", jss.entr, P.to_float, "SpecialEntrBackward0", "special"),
]


def _unary(name, fn, promote, node, where):
    def impl(input):
        return fn(input)
    impl.__name__ = name
    special = where == "special"
    f = op(promote=promote, inplace=not special, node=node, namespace="special" if special else None,
           method=not special)(impl)
    if where == "both":
        _SPECIAL[name] = f


for _row in _UNARY:
    _unary(*_row)


@op(promote=P.to_float, inplace=True, node="LogitBackward0")
def logit(input, eps=None):
    x = input if eps is None else jnp.clip(input, eps, 1 - eps)
    return jnp.log(x / (1 - x))


@op(tensors="input", promote=P.to_float, method=False, node="PolygammaBackward0")
def polygamma(n, input):
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    return jss.digamma(input) if n == 0 else jss.polygamma(n, input)


def _polygamma_method(self, n):
    return polygamma(n, self)


METHODS["polygamma"] = _polygamma_method


@op(promote=P.to_float, inplace=True, node="MvlgammaBackward0")
def mvlgamma(input, p):
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    return jss.multigammaln(input, p)


def _angle_rule(dims, zero_dims, numbers):
    return P.to_float(dims, zero_dims, numbers)


@op(promote=_angle_rule, node="AngleBackward0")
def angle(input):
    if jnp.iscomplexobj(input):
        return jnp.angle(input)
    return jnp.where(input < 0, jnp.pi, 0).astype(input.dtype) + jnp.where(jnp.isnan(input), input, 0)


@op(differentiable=False)
def isneginf(input):
    return jnp.isneginf(input) if jnp.issubdtype(input.dtype, jnp.floating) else jnp.zeros(input.shape, bool)


@op(differentiable=False)
def isposinf(input):
    return jnp.isposinf(input) if jnp.issubdtype(input.dtype, jnp.floating) else jnp.zeros(input.shape, bool)


@op(differentiable=False)
def isreal(input):
    return jnp.imag(input) == 0 if jnp.iscomplexobj(input) else jnp.ones(input.shape, bool)


_Frexp = collections.namedtuple("frexp", ("mantissa", "exponent"))
_Frexp.__module__ = "torch.return_types"


def _frexp_rule(dims, zero_dims, numbers):
    d = P.promote(dims, zero_dims, numbers)
    if not d.is_floating_point:
        raise RuntimeError("torch.frexp() only supports floating-point dtypes")
    return d


@op(promote=_frexp_rule, node="FrexpBackward0", returns=lambda *o: _Frexp(*o))
def frexp(input):
    m, e = jnp.frexp(input)
    return m, e.astype(jnp.int32)


@op(tensors="input", promote=P.promote, node="ConjBackward0", method=False, name="_conj")
def _conj(input):
    return jnp.conj(input)


# conj of a real tensor is the tensor itself in torch (no copy, no node); torch.real/imag are
# views, in ops/shape.py
def conj(input):
    return _conj(input) if input.is_complex() else input


def positive(input):
    if input.dtype is D.bool:
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


def _resolve(input):
    return input


for _fn, _names in ((conj, ("conj", "conj_physical")), (positive, ("positive",)),
                    (_resolve, ("resolve_conj", "resolve_neg"))):
    for _n in _names:
        TORCH.setdefault(_n, _fn)
        METHODS.setdefault(_n, _fn)


# -- torch.special: aliases of torch functions ---------------------------------------------------

def _install_special_aliases():
    pairs = {"expit": "sigmoid", "erf": "erf", "erfc": "erfc", "erfinv": "erfinv", "gammaln": "lgamma",
             "digamma": "digamma", "psi": "digamma", "exp2": "exp2", "expm1": "expm1",
             "log1p": "log1p", "round": "round", "xlogy": "xlogy", "logit": "logit",
             "polygamma": "polygamma", "multigammaln": "mvlgamma", "gammainc": "igamma",
             "gammaincc": "igammac", "softmax": "softmax", "log_softmax": "log_softmax",
             "logsumexp": "logsumexp", "i0": "i0", "sinc": "sinc"}
    for alias, name in pairs.items():
        if name in TORCH:
            _SPECIAL.setdefault(alias, TORCH[name])


_install_special_aliases()
