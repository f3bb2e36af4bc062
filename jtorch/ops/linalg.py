"""Linear algebra: matmul and friends in the torch namespace, torch.linalg's decompositions."""
import builtins
import collections
import functools
import math

import jax
import jax.numpy as jnp

from . import _nodes as N
from . import _promotion as P
from ._registry import op
from .reduction import vector_norm as _vector_norm


def _same_dtype(name):
    """matmul-like ops do not promote in torch: mixed dtypes raise."""
    def rule(dims, zero_dims, numbers):
        ds = dims + zero_dims
        if any(d is not ds[0] for d in ds):
            raise RuntimeError("expected m1 and m2 to have the same dtype, but got: %s != %s"
                               % (ds[0].name if ds[0].name != "float32" else "float",
                                  next(d for d in ds if d is not ds[0]).name.replace("float32", "float")
                                  .replace("int64", "long")))
        return None
    return rule


def _matmul_node(arrays, inputs):
    a, b = arrays[0], arrays[1]
    if a.ndim == 2 and b.ndim == 2:
        return "MmBackward0"
    if a.ndim == 1 and b.ndim == 1:
        return "DotBackward0"
    if a.ndim == 2 and b.ndim == 1:
        return "MvBackward0"
    if a.ndim == 3 and b.ndim == 3:
        return "BmmBackward0"
    return "UnsafeViewBackward0" if a.ndim > 2 else "SqueezeBackward4"


def _int_scalars(input, beta, alpha):
    # integer tensors take beta and alpha as integers (torch casts the scalars to the tensor's type)
    if jnp.issubdtype(input.dtype, jnp.integer):
        return int(beta), int(alpha)
    return beta, alpha


def _inner_node(arrays, inputs):
    return "MulBackward0" if arrays[0].ndim == 0 or arrays[1].ndim == 0 else "ViewBackward0"


@op(tensors="input other", promote=P.promote, node=_inner_node)
def inner(input, other):
    if input.ndim == 0 or other.ndim == 0:
        return input * other
    if input.shape[-1] != other.shape[-1]:
        raise RuntimeError("inner() the last dimension must match on both input tensors but got shapes "
                           "%s and %s" % (list(input.shape), list(other.shape)))
    return jnp.tensordot(input, other, axes=([-1], [-1]))


def _shape_str(shape):
    return "x".join(str(s) for s in shape)


@op(tensors="input other", promote=_same_dtype("matmul"), dunder="matmul", node=_matmul_node)
def matmul(input, other):
    if input.ndim == 0 or other.ndim == 0:
        raise RuntimeError("both arguments to matmul need to be at least 1D, but they are %dD and %dD"
                           % (input.ndim, other.ndim))
    k1 = input.shape[-1]
    k2 = other.shape[-2] if other.ndim > 1 else other.shape[0]
    if k1 != k2:
        if input.ndim == 1 and other.ndim == 1:
            raise RuntimeError("inconsistent tensor size, expected tensor [%d] and src [%d] to have the "
                               "same number of elements, but got %d and %d elements respectively"
                               % (k1, k2, k1, k2))
        if other.ndim == 1:
            raise RuntimeError("size mismatch, got input (%d), mat (%s), vec (%d)"
                               % (math.prod(input.shape[:-1]), _shape_str(input.shape), k2))
        # torch folds the batch dimensions of the left operand into its rows for this message
        rows = math.prod(input.shape[:-1]) if other.ndim == 2 else input.shape[-2] if input.ndim > 1 else 1
        raise RuntimeError("mat1 and mat2 shapes cannot be multiplied (%dx%d and %s)"
                           % (rows, k1, _shape_str(other.shape[-2:])))
    return jnp.matmul(input, other)


def _mm_check(name, a, b, ndim):
    if a.ndim != ndim or b.ndim != ndim:
        raise RuntimeError("%s: expected %dD tensors, but got %dD and %dD" % (name, ndim, a.ndim, b.ndim))


@op(tensors="input mat2", promote=_same_dtype("mm"), node="MmBackward0")
def mm(input, mat2):
    if input.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if mat2.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    if input.shape[1] != mat2.shape[0]:
        raise RuntimeError("mat1 and mat2 shapes cannot be multiplied (%s and %s)"
                           % (_shape_str(input.shape), _shape_str(mat2.shape)))
    return input @ mat2


@op(tensors="input mat2", promote=_same_dtype("bmm"), node="BmmBackward0")
def bmm(input, mat2):
    if input.ndim != 3 or mat2.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor" if input.ndim != 3 else "batch2 must be a 3D tensor")
    if input.shape[0] != mat2.shape[0] or input.shape[2] != mat2.shape[1]:
        raise RuntimeError("Expected size for first two dimensions of batch2 tensor to be: [%d, %d] but "
                           "got: [%d, %d]." % (input.shape[0], input.shape[2], mat2.shape[0], mat2.shape[1]))
    return jnp.matmul(input, mat2)


@op(tensors="input vec", promote=_same_dtype("mv"), node="MvBackward0")
def mv(input, vec):
    if input.ndim != 2 or vec.ndim != 1:
        raise RuntimeError("vector + matrix @ vector expected, got %d, %d, %d" % (1, input.ndim, vec.ndim))
    if input.shape[1] != vec.shape[0]:
        raise RuntimeError("size mismatch, got input (%d), mat (%s), vec (%d)"
                           % (input.shape[0], _shape_str(input.shape), vec.shape[0]))
    return input @ vec


@op(tensors="input tensor", promote=_same_dtype("dot"), node="DotBackward0")
def dot(input, tensor):
    if input.ndim != 1 or tensor.ndim != 1:
        raise RuntimeError("1D tensors expected, but got %dD and %dD tensors" % (input.ndim, tensor.ndim))
    if input.shape != tensor.shape:
        raise RuntimeError("inconsistent tensor size, expected tensor [%d] and src [%d] to have the same "
                           "number of elements, but got %d and %d elements respectively"
                           % (input.shape[0], tensor.shape[0], input.shape[0], tensor.shape[0]))
    return jnp.dot(input, tensor)


@op(tensors="input vec2", promote=P.promote, node="MulBackward0", aliases=("ger",))
def outer(input, vec2):
    return jnp.outer(input, vec2)


@op(tensors="input mat1 mat2", promote=P.promote, inplace=True, node="AddmmBackward0")
def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    beta, alpha = _int_scalars(input, beta, alpha)
    return beta * input + alpha * (mat1 @ mat2) if (beta, alpha) != (1, 1) else input + mat1 @ mat2


@op(tensors="input batch1 batch2", promote=P.promote, inplace=True, node="BaddbmmBackward0")
def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    beta, alpha = _int_scalars(input, beta, alpha)
    return beta * input + alpha * jnp.matmul(batch1, batch2)


@op(tensors="input mat vec", promote=P.promote, inplace=True, node="AddmvBackward0")
def addmv(input, mat, vec, *, beta=1, alpha=1):
    beta, alpha = _int_scalars(input, beta, alpha)
    return beta * input + alpha * (mat @ vec)


@op(tensors=(), lists="operands", promote=P.promote, method=False, function=False,
    node="EinsumBackward0", name="einsum")
def _einsum(equation, operands):
    return jnp.einsum(equation, *operands)


def einsum(equation, *operands):
    """torch.einsum(eq, a, b) and torch.einsum(eq, [a, b]) alike."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    return _einsum(equation, operands)


def _register():
    from ._registry import TORCH
    TORCH["einsum"] = einsum


_register()


@op(tensors="input other", promote=P.promote, node="UnsafeViewBackward0")
def kron(input, other):
    if input.dtype == jnp.bool_:
        return jnp.kron(input.astype(jnp.int8), other.astype(jnp.int8)).astype(jnp.bool_)
    return jnp.kron(input, other)


@op(tensors="a b", promote=P.promote, method=False, node="ViewBackward0")
def tensordot(a, b, dims=2):
    return jnp.tensordot(a, b, axes=dims)


@op(node="TraceBackward0")
def trace(input):
    if input.ndim != 2:
        raise RuntimeError("trace: expected a matrix, but got tensor with dim %d" % input.ndim)
    return jnp.trace(input)


def _diag_node(arrays, inputs):
    return "DiagEmbedBackward0" if arrays[0].ndim == 1 else "DiagonalBackward0_copy"


@op(node=_diag_node)
def diag(input, diagonal=0):
    return jnp.diag(input, k=diagonal)


@op(node="TrilBackward0", inplace=True)
def tril(input, diagonal=0):
    return jnp.tril(input, k=diagonal)


@op(node="TriuBackward0", inplace=True)
def triu(input, diagonal=0):
    return jnp.triu(input, k=diagonal)


# -- torch.linalg ------------------------------------------------------------------------------------

def _square(name, A):
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise RuntimeError("linalg.%s: A must be batches of square matrices, but they are %s by %s matrices"
                           % (name, A.shape[-2] if A.ndim >= 2 else 1, A.shape[-1]))


def _float_only(name):
    def rule(dims, zero_dims, numbers):
        d = P.promote(dims, zero_dims, numbers)
        if not (d.is_floating_point or d.is_complex):
            raise RuntimeError("linalg.%s: Expected a floating point or complex tensor as input. Got %s"
                               % (name, d._legacy))
        return d
    return rule


@op(tensors="A", promote=_float_only("inv"), namespace="linalg", method=False, node="LinalgInvExBackward0")
def inv(A):
    _square("inv", A)
    return jnp.linalg.inv(A)


@op(tensors="A", promote=_float_only("det"), namespace="linalg", method=False, node="LinalgDetBackward0")
def det(A):
    _square("det", A)
    if A.shape[-1] == 0:
        return jnp.ones(A.shape[:-2], A.dtype)
    return jnp.linalg.det(A)


@op(tensors="A B", promote=_float_only("solve"), namespace="linalg", method=False,
    node="LinalgSolveExBackward0")
def solve(A, B, *, left=True):
    _square("solve", A)
    if not left:
        return jnp.swapaxes(jnp.linalg.solve(jnp.swapaxes(A, -1, -2), jnp.swapaxes(B, -1, -2)), -1, -2)
    if B.ndim == A.ndim - 1:
        return jnp.linalg.solve(A, B[..., None])[..., 0]
    return jnp.linalg.solve(A, B)


def _named(name, fields):
    cls = collections.namedtuple(name, fields)
    cls.__module__ = "torch.return_types"
    return cls


_SVD = _named("svd", ("U", "S", "Vh"))
_QR = _named("qr", ("Q", "R"))
_EIGH = _named("eigh", ("eigenvalues", "eigenvectors"))
_SLOGDET = _named("slogdet", ("sign", "logabsdet"))


@op(tensors="A", promote=_float_only("svd"), namespace="linalg", method=False, node="LinalgSvdBackward0",
    returns=lambda *o: _SVD(*o))
def svd(A, full_matrices=True, *, driver=None):
    return tuple(jnp.linalg.svd(A, full_matrices=full_matrices))


@op(tensors="A", promote=_float_only("svdvals"), namespace="linalg", method=False,
    node="LinalgSvdBackward0")
def svdvals(A, *, driver=None):
    return jnp.linalg.svd(A, compute_uv=False)


@op(tensors="A", promote=_float_only("qr"), namespace="linalg", method=False, node="LinalgQrBackward0",
    returns=lambda *o: _QR(*o))
def qr(A, mode="reduced"):
    return tuple(jnp.linalg.qr(A, mode=mode))


def _hermitian_from(A, UPLO):
    """The Hermitian matrix that the UPLO triangle of A describes (torch reads only that triangle)."""
    if UPLO not in ("L", "U"):
        raise RuntimeError("Expected UPLO argument to be 'L' or 'U', but got %s" % UPLO)
    return _hermitian_tri(A, UPLO)


@functools.partial(jax.custom_vjp, nondiff_argnums=(1,))
def _hermitian_tri(A, UPLO):
    tri = jnp.tril(A) if UPLO == "L" else jnp.triu(A)
    strict = jnp.tril(A, -1) if UPLO == "L" else jnp.triu(A, 1)
    return tri + jnp.swapaxes(strict, -1, -2).conj()


def _hermitian_tri_fwd(A, UPLO):
    return _hermitian_tri(A, UPLO), None


def _hermitian_tri_bwd(UPLO, _, g):
    # torch's eigh backward gives a Hermitian gradient (its formula projects V^H gV onto the
    # skew-Hermitian matrices: the Hermitian part of jax's) and passes it to A whole, both
    # triangles, though the forward read only one
    return ((g + jnp.swapaxes(g, -1, -2).conj()) / 2,)


_hermitian_tri.defvjp(_hermitian_tri_fwd, _hermitian_tri_bwd)


@op(tensors="A", promote=_float_only("eigh"), namespace="linalg", method=False, node="LinalgEighBackward0",
    returns=lambda *o: _EIGH(*o))
def eigh(A, UPLO="L"):
    _square("eigh", A)
    return tuple(jnp.linalg.eigh(_hermitian_from(A, UPLO), symmetrize_input=False))


@op(tensors="A", promote=_float_only("eigvalsh"), namespace="linalg", method=False,
    node="LinalgEighBackward0")
def eigvalsh(A, UPLO="L"):
    _square("eigvalsh", A)
    return jnp.linalg.eigh(_hermitian_from(A, UPLO), symmetrize_input=False)[0]


@op(tensors="A", promote=_float_only("slogdet"), namespace="linalg", method=False,
    node="LinalgSlogdetBackward0", returns=lambda *o: _SLOGDET(*o))
def slogdet(A):
    return tuple(jnp.linalg.slogdet(A))


@op(tensors="A", promote=_float_only("cholesky"), namespace="linalg", method=False,
    node="LinalgCholeskyExBackward0")
def cholesky(A, *, upper=False):
    L = jnp.linalg.cholesky(A)
    return jnp.swapaxes(L, -1, -2).conj() if upper else L


def _spectrum(A, hermitian):
    """Singular values (descending) and the pieces to rebuild A from them."""
    if hermitian:
        w, V = jnp.linalg.eigh(_hermitian_from(A, "L"), symmetrize_input=False)
        return jnp.abs(w), (w, V)
    U, S, Vh = jnp.linalg.svd(A, full_matrices=False)
    return S, (U, S, Vh)


def _cutoff(A, S, atol, rtol):
    """torch's tolerance: max(atol, rtol * largest singular value), rtol defaulting to eps * max(m, n)
    when neither is given, and to 0 when only atol is."""
    if rtol is None:
        rtol = 0.0 if atol is not None else jnp.finfo(A.dtype).eps * builtins.max(A.shape[-2:], default=0)
    smax = jnp.max(S, axis=-1, keepdims=True, initial=0.0)
    return jnp.maximum(0.0 if atol is None else atol, rtol * smax)


@jax.custom_vjp
def _pinv_general_grad(A, pinvA):
    """pinvA, differentiated as torch's pinv_backward does: the derivative of the pseudo-inverse of
    a general A (torch's hermitian=True computes the forward from eigh, not the backward)."""
    return pinvA


def _pinv_general_grad_fwd(A, pinvA):
    return pinvA, (A, pinvA)


def _pinv_general_grad_bwd(res, grad):
    A, pinvA = res
    h = lambda x: jnp.swapaxes(x, -1, -2).conj()   # noqa: E731
    pinvAh, gradh = h(pinvA), h(grad)
    if A.shape[-2] <= A.shape[-1]:
        K = gradh @ pinvA
        KpinvAh = K @ pinvAh
        gA = -h(pinvA @ K) + KpinvAh - (A @ pinvA) @ KpinvAh + (pinvAh @ pinvA) @ (gradh - K @ A)
    else:
        K = pinvA @ gradh
        pinvAhK = pinvAh @ K
        gA = -h(K @ pinvA) + pinvAhK - pinvAhK @ pinvA @ A + (gradh - A @ K) @ pinvA @ pinvAh
    return gA, jnp.zeros_like(pinvA)


_pinv_general_grad.defvjp(_pinv_general_grad_fwd, _pinv_general_grad_bwd)


@op(tensors="A", promote=_float_only("pinv"), namespace="linalg", method=False, node="LinalgPinvBackward0")
def pinv(A, *, atol=None, rtol=None, hermitian=False):
    if A.ndim < 2:
        raise RuntimeError("linalg.pinv(%s): expected a tensor with 2 or more dimensions of float, double, "
                           "cfloat or cdouble types" % ("A",))
    S, parts = _spectrum(A, hermitian)
    keep = S > _cutoff(A, S, atol, rtol)
    if hermitian:
        w, V = parts
        winv = jnp.where(keep, 1 / jnp.where(keep, w, 1), 0)
        return _pinv_general_grad(A, (V * winv[..., None, :]) @ jnp.swapaxes(V, -1, -2).conj())
    U, S, Vh = parts
    sinv = jnp.where(keep, 1 / jnp.where(keep, S, 1), 0)
    return (jnp.swapaxes(Vh, -1, -2).conj() * sinv[..., None, :]) @ jnp.swapaxes(U, -1, -2).conj()


@op(tensors="A", promote=_float_only("matrix_rank"), namespace="linalg", method=False, differentiable=False)
def matrix_rank(A, *, atol=None, rtol=None, hermitian=False):
    if A.shape[-1] == 0 or A.shape[-2] == 0:
        return jnp.zeros(A.shape[:-2], jnp.int64)
    S, _ = _spectrum(A, hermitian)
    return jnp.sum(S > _cutoff(A, S, atol, rtol), axis=-1).astype(jnp.int64)


def _axes(dim):
    return dim if dim is None or isinstance(dim, int) else tuple(dim)


@op(tensors="A", promote=P.to_float, namespace="linalg", method=False, node="LinalgVectorNormBackward0")
def vector_norm(A, ord=2, dim=None, keepdim=False, *, dtype=None):
    x = A if dtype is None else A.astype(dtype.np)
    return _vector_norm(x, ord, _axes(dim) if x.ndim else None, keepdim)


def _matrix_norm_node(arrays, inputs, sargs):
    ord = sargs[0]
    if ord == "fro":
        return "LinalgVectorNormBackward0"
    if ord == "nuc":
        return "SumBackward1"
    return "AmaxBackward0" if ord > 0 else "AminBackward0"


def _matrix_norm(x, ord, dim, keepdim):
    if x.ndim < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 dimensions.")
    dim = tuple(d % x.ndim for d in dim)
    if ord == "fro":
        return _vector_norm(x, 2, dim, keepdim)
    if ord not in ("nuc", 2, -2, 1, -1, float("inf"), float("-inf")):
        raise RuntimeError("linalg.matrix_norm: Order %s not supported." % (ord,))
    return jnp.linalg.norm(x, ord=ord, axis=dim, keepdims=keepdim)


@op(tensors="A", promote=P.to_float, namespace="linalg", method=False, node=N.static(_matrix_norm_node))
def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    x = A if dtype is None else A.astype(dtype.np)
    return _matrix_norm(x, ord, tuple(dim), keepdim)


def _linalg_norm_node(arrays, inputs, sargs):
    ord, dim = sargs[0], sargs[1]
    matrix = (dim is not None and not isinstance(dim, int) and len(dim) == 2) or \
        (dim is None and ord is not None and arrays[0].ndim == 2)
    return _matrix_norm_node(arrays, inputs, (ord,)) if matrix else "LinalgVectorNormBackward0"


@op(tensors="A", promote=P.to_float, namespace="linalg", method=False, node=N.static(_linalg_norm_node),
    name="linalg_norm", aliases=("norm",))
def _linalg_norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    x = A if dtype is None else A.astype(dtype.np)
    if dim is None and ord is not None and x.ndim not in (1, 2):
        raise RuntimeError("linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. "
                           "Got %dD." % x.ndim)
    axis = _axes(dim)
    if (axis is not None and not isinstance(axis, int) and len(axis) == 2) or \
            (axis is None and ord is not None and x.ndim == 2):
        return _matrix_norm(x, "fro" if ord is None else ord, axis or (-2, -1), keepdim)
    return _vector_norm(x, 2 if ord is None else ord, axis, keepdim)


@op(tensors="x1 x2", promote=P.to_float, method=False, node="CdistBackward0")
def cdist(x1, x2, p=2.0, compute_mode=None):
    diff = x1[..., :, None, :] - x2[..., None, :, :]
    return _vector_norm(diff, p, -1, False)
