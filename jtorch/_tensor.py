"""Tensor: a thin handle over a value that can be a JAX tracer. See NOTE [Views and version counters]
in _storage.py for how views and memory shared with numpy work."""
import weakref

import numpy as np

from . import _dtype as D
from . import _device as dev
from . import _storage as S
from ._size import Size

# Set by jtorch.compile while it discovers or traces a function (see _compile.py): it learns which
# tensors the function creates, reads and writes. None the rest of the time.
_recorder = None


class Tensor:
    __slots__ = ("_data", "_host", "_base", "_read", "_vbox", "_cver", "_shape", "_stride",
                 "_offset", "_gver", "_verbox", "dtype", "_device", "_requires_grad", "_grad", "_grad_fn",
                 "_output_nr", "_retains_grad", "_hooks", "_accumulator", "_views", "__weakref__",
                 "__dict__")

    # -- construction -------------------------------------------------------------------------

    def __new__(cls, *args, **kwargs):
        self = object.__new__(cls)
        self._base = None
        self._host = None
        self._read = None
        self._vbox = [0]
        self._verbox = [0]
        self._cver = 0
        self._offset = 0
        self._gver = None
        self._device = dev.CPU
        self._requires_grad = False
        self._grad = None
        self._grad_fn = None
        self._output_nr = 0
        self._retains_grad = False
        self._hooks = None
        self._accumulator = None
        if _recorder is not None:
            _recorder.created(self)
        return self

    def __init__(self, *args, **kwargs):
        # torch.Tensor(2, 3) / torch.Tensor([1, 2]) / torch.Tensor(t): the legacy constructor
        if getattr(self, "_shape", None) is not None and not args:
            return
        from .ops import creation
        device = kwargs.pop("device", None)
        if kwargs:
            raise TypeError("new() received an invalid combination of arguments - got unexpected keyword "
                            "argument '%s'" % next(iter(kwargs)))
        src = creation.legacy_new(None, args, device)
        for name in ("_data", "_host", "_base", "_read", "_vbox", "_verbox", "_cver", "_shape", "_stride",
                     "_offset", "dtype", "_device"):
            setattr(self, name, getattr(src, name))

    def _set_root(self, value, dtype, device):
        self._data = value
        self._host = None
        self._base = None
        self._read = None
        self._shape = tuple(value.shape)
        self._stride = S.contiguous_strides(self._shape)
        self._offset = 0
        self.dtype = dtype
        self._device = device

    @classmethod
    def _from_value(cls, value, dtype=None, device=None):
        if dtype is D.complex32:
            raise D.unsupported(dtype)
        t = cls.__new__(cls)
        t._set_root(value, dtype or D._BY_NP[value.dtype], device or dev.CPU)
        return t

    @classmethod
    def _from_host(cls, array, dtype=None):
        """A root whose data is the numpy array itself (from_numpy): writes go both ways."""
        t = cls.__new__(cls)
        t._data = None
        t._host = array
        t._shape = tuple(array.shape)
        t.dtype = dtype or D.from_numpy_dtype(array.dtype)
        if any(s < 0 for s in array.strides):
            raise ValueError("At least one stride in the given numpy array is negative, and tensors with "
                             "negative strides are not currently supported. (You can probably work around "
                             "this by making a copy of your array  with array.copy().) ")
        if any(s % array.itemsize for s in array.strides):
            raise ValueError("given numpy array strides not a multiple of the element byte size. Copy the "
                             "numpy array to reallocate the memory.")
        # a strided numpy array (a slice) stays shared: its strides become the root's strides
        t._stride = tuple(s // array.itemsize for s in array.strides) if array.size else S.contiguous_strides(t._shape)
        return t

    @classmethod
    def _number(cls, value, device=None):
        from .ops import creation
        return creation.scalar_tensor(value, dtype=D.scalar_dtype(value), device=device)

    def _make_view_of(self, src, o, sargs, index=0, entry=None):
        """Turn this freshly computed op result into a view of `src` (view ops only)."""
        root = src._base if src._base is not None else src
        meta = o.view(src._shape, src._stride, src._offset, *sargs)
        if isinstance(meta, list):
            meta = meta[index]
            # torch forbids in-place writes to outputs of split/unbind/chunk that autograd records
            self.__dict__["_multi_output"] = (index, o.node.replace("Backward0", ""), src._requires_grad)
        shape, stride, offset = meta
        parent_read = src._read
        fn = entry.fwd

        def read(root_value):
            v = root_value if parent_read is None else parent_read(root_value)
            r = fn(v)
            return r[index] if isinstance(r, (tuple, list)) else r
        self._base = root
        _live_views(root).add(self)   # Tensor.t_() and kin refuse roots with live views
        self._read = read
        self._vbox = root._vbox
        self._cver = root._vbox[0]
        self._verbox = src._verbox
        self._gver = src._verbox[0]
        self._shape, self._stride, self._offset = tuple(shape), tuple(stride), offset

    # -- values and writes --------------------------------------------------------------------

    def _value(self):
        """The current jax value (a copy of host memory when the data lives in numpy)."""
        if _recorder is not None:
            _recorder.touched(self if self._base is None else self._base)
        base = self._base
        if base is None:
            if self._host is None:
                return self._data
            return S.to_jax(self._host)
        if base._host is not None:
            return S.to_jax(S.host_view(base._host, self._shape, self._stride, self._offset, self.dtype.np))
        if self._cver != self._vbox[0]:
            self._data = self._read(base._data)
            self._cver = self._vbox[0]
        return self._data

    def _write(self, value):
        """Write a jax value of this tensor's shape into its memory (root, host or view)."""
        if value.dtype != self.dtype.np:
            value = value.astype(self.dtype.np)
        base = self._base
        root = self if base is None else base
        if _recorder is not None:
            _recorder.touched(root)
        if root._host is not None:
            target = root._host if base is None else S.host_view(root._host, self._shape, self._stride,
                                                                 self._offset, self.dtype.np)
            target[...] = np.asarray(value)
        elif base is None:
            self._data = value
        else:
            root._data = S.write_back(root._data, self._shape, self._stride, self._offset, value)
            self._data = value
        self._vbox[0] += 1
        self._verbox[0] += 1
        if base is not None:
            self._cver = self._vbox[0]

    def _inplace_update(self, result):
        """Make `result` (computed out of place) this tensor's new contents and history."""
        from .autograd import graph
        graph.rebase_inplace(self, result)
        self._write(result._value())

    def _assign(self, result):
        """out=: resize when needed, then write; torch keeps out's identity."""
        if result.dtype is not self.dtype and not D.can_cast(result.dtype, self.dtype):
            raise RuntimeError("result type %s can't be cast to the desired output type %s"
                               % (result.dtype._legacy, self.dtype._legacy))
        if result._shape != self._shape:
            if self._base is not None:
                raise RuntimeError("out= cannot resize a view")
            self._set_root(result._value().astype(self.dtype.np), self.dtype, self._device)
            self._vbox[0] += 1
            self._verbox[0] += 1
        else:
            self._write(result._value())

    def _host_array(self):
        """Move the root's data into a writable numpy array and return this tensor's numpy view."""
        root = self if self._base is None else self._base
        if root._host is None:
            root._host = np.array(root._data)
            root._data = None
        if self._base is None:
            return root._host
        return S.host_view(root._host, self._shape, self._stride, self._offset, self.dtype.np)

    # -- metadata -----------------------------------------------------------------------------

    @property
    def shape(self):
        return tuple.__new__(Size, self._shape)   # _shape holds ints: no validation needed

    def size(self, dim=None):
        if dim is None:
            return tuple.__new__(Size, self._shape)
        return self._shape[_wrap_dim(dim, len(self._shape))]

    def dim(self):
        return len(self._shape)

    ndimension = dim

    @property
    def ndim(self):
        return len(self._shape)

    def numel(self):
        return S.numel(self._shape)

    nelement = numel

    def stride(self, dim=None):
        if dim is None:
            return self._stride
        return self._stride[_wrap_dim(dim, len(self._shape))]

    def storage_offset(self):
        return self._offset

    def is_contiguous(self, memory_format=None):
        return S.is_contiguous(self._shape, self._stride)

    def element_size(self):
        return self.dtype.itemsize

    def is_floating_point(self):
        return self.dtype.is_floating_point

    def is_complex(self):
        return self.dtype.is_complex

    @property
    def device(self):
        return self._device

    @property
    def is_cuda(self):
        return self._device.type == "cuda"

    @property
    def is_cpu(self):
        return self._device.type == "cpu"

    @property
    def is_leaf(self):
        return self._grad_fn is None

    @property
    def grad_fn(self):
        if self._gver is not None:
            self._refresh_grad_fn()
        return self._grad_fn

    def _refresh_grad_fn(self):
        """After an in-place write to its base or to another view of it, a view's history is
        regenerated from the base's new history, as torch does (AsStridedBackward0)."""
        base = self._base
        if self._gver == self._verbox[0] or base is None:
            return
        self._gver = self._verbox[0]
        if not base._requires_grad:
            return
        from .autograd.grad_mode import enable_grad
        from .ops._registry import apply_function
        key = ("as_strided_view", base._shape, self._shape, self._stride, self._offset, self.dtype.np)
        with enable_grad():
            out, = apply_function(S.strided_reader(*key[1:]), [base], node="AsStridedBackward0", key=key)
        self._grad_fn, self._output_nr, self._requires_grad = out._grad_fn, 0, True

    @property
    def output_nr(self):
        return self._output_nr

    @property
    def _version(self):
        return self._verbox[0]

    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        if self._grad_fn is not None and not flag:
            raise RuntimeError("you can only change requires_grad flags of leaf variables. If you want "
                               "to use a computed variable in a subgraph that doesn't require "
                               "differentiation use var_no_grad = var.detach().")
        if flag and not (self.dtype.is_floating_point or self.dtype.is_complex):
            raise RuntimeError("only Tensors of floating point and complex dtype can require gradients")
        self._requires_grad = bool(flag)

    def requires_grad_(self, requires_grad=True):
        self.requires_grad = requires_grad
        return self

    @property
    def grad(self):
        if self._grad_fn is not None and not self._retains_grad and self._grad is None:
            import warnings
            warnings.warn(
                "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
                "attribute won't be populated during autograd.backward(). If you indeed want the .grad "
                "field to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. "
                "If you access the non-leaf Tensor by mistake, make sure you access the leaf Tensor "
                "instead. See github.com/pytorch/pytorch/pull/30531 for more informations.", stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError("assigned grad expected to be a Tensor or None but got grad of type "
                                + type(value).__name__)
            if value._shape != self._shape:
                raise RuntimeError("assigned grad has data of a different size")
            if value.dtype is not self.dtype:
                raise RuntimeError("assigned grad has data of a different type")
        self._grad = value

    @property
    def retains_grad(self):
        return self._retains_grad

    def retain_grad(self):
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self._grad_fn is not None:
            from .autograd import graph
            graph.retain(self)
            self._retains_grad = True

    @property
    def data(self):
        # shares the memory, not the version counter: writes through .data are hidden from autograd
        t = self._alias()
        t._verbox = [0]
        return t

    @data.setter
    def data(self, other):
        if not isinstance(other, Tensor):
            raise TypeError("data must be a Tensor")
        self._set_root(other._value(), other.dtype, other._device)
        self._vbox = [0]

    def _alias(self):
        """A tensor sharing this one's memory, with no autograd history (.data, .detach())."""
        t = Tensor.__new__(Tensor)
        root = self if self._base is None else self._base
        t._base = root
        parent_read = self._read
        t._read = (lambda v: v) if parent_read is None else parent_read
        t._vbox = root._vbox
        _live_views(root).add(t)
        t._verbox = self._verbox
        t._cver = -1
        t._data = None
        t._shape, t._stride, t._offset = self._shape, self._stride, self._offset
        t.dtype = self.dtype
        t._device = self._device
        return t

    def detach(self):
        return self._alias()

    def detach_(self):
        if self._base is not None and self._grad_fn is not None:
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        self._grad_fn = None
        self._requires_grad = False
        return self

    # -- conversions to Python and numpy -----------------------------------------------------

    def numpy(self, *, force=False):
        if self._requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use "
                               "tensor.detach().numpy() instead.")
        if self._device.type != "cpu" and not force:
            raise TypeError("can't convert %s device type tensor to numpy. Use Tensor.cpu() to copy "
                            "the tensor to host memory first." % self._device)
        if self.dtype is D.bfloat16:
            raise TypeError("Got unsupported ScalarType BFloat16")
        if force:
            return np.array(self._value())
        return self._host_array()

    def __array__(self, dtype=None, copy=None):
        # np.asarray(t) shares t's memory, as torch's does for CPU tensors; where torch would refuse
        # (requires_grad, an accelerator) this gives a copy instead of raising
        if copy or self._requires_grad or self._device.type != "cpu" or self.dtype is D.bfloat16:
            a = np.array(self._value())
        else:
            a = self._host_array()
        return a.astype(dtype, copy=False) if dtype is not None else a

    def item(self):
        if self.numel() != 1:
            raise RuntimeError("a Tensor with %d elements cannot be converted to Scalar" % self.numel())
        return _concrete(self, "item").reshape(()).item()

    def tolist(self):
        a = _concrete(self, "tolist")
        if self.dtype is D.bfloat16 or self.dtype is D.float16:
            a = a.astype(np.float32)
        return a.tolist()

    def __bool__(self):
        if self.numel() != 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return bool(self.item())

    def __float__(self):
        return float(self._scalar())

    def __int__(self):
        return int(self._scalar())

    def __complex__(self):
        return complex(self._scalar())

    def _scalar(self):
        if self.numel() != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return self.item()

    def __index__(self):
        if self.dtype.is_floating_point or self.dtype.is_complex or self.numel() != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __len__(self):
        if not self._shape:
            raise TypeError("len() of a 0-d tensor")
        return self._shape[0]

    def __iter__(self):
        if not self._shape:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __hash__(self):
        return id(self)

    def __contains__(self, element):
        return bool((self == element).any())

    def __format__(self, spec):
        if not self._shape:
            return self.item().__format__(spec)
        return object.__format__(self, spec)

    def __repr__(self, *, tensor_contents=None):
        from . import _printing
        grad_fn = type(self._grad_fn).__name__ if self._grad_fn is not None else None
        values = _concrete(self, "repr")
        device = str(self._device) if self._device.type != "cpu" else None
        return _printing.tensor_repr(values, self.dtype.name, default_dtype_name=D.get_default_dtype().name,
                                     device=device, requires_grad=self._requires_grad and grad_fn is None,
                                     grad_fn=grad_fn, is_parameter=False)

    __str__ = __repr__

    # -- autograd -----------------------------------------------------------------------------

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        from .autograd import engine
        engine.backward((self,), (gradient,) if gradient is not None else None, retain_graph,
                        create_graph, inputs=inputs)

    def register_hook(self, hook):
        from .autograd import graph
        return graph.register_tensor_hook(self, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """hook(tensor) after a backward accumulated into this leaf's .grad."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        from .autograd import graph
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(hook)
        return graph._Handle(self._hooks, hook)


def _live_views(root):
    # a slot, not __dict__: __dict__ holds only what users set on a tensor (torch saves it)
    views = getattr(root, "_views", None)
    if views is None:
        views = root._views = weakref.WeakSet()
    return views


def _concrete(t, what):
    """The value as numpy; inside jtorch.compile the value is a tracer and cannot be read."""
    v = t._value()
    try:
        return np.asarray(v)
    except Exception as e:  # jax's TracerArrayConversionError and kin
        raise RuntimeError("%s() needs a concrete value, but this tensor is being traced by "
                           "jtorch.compile / jax.jit (%s)" % (what, type(e).__name__)) from None


def _wrap_dim(dim, ndim):
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError("Dimension out of range (expected to be in range of [%d, %d], but got %d)"
                         % (-n, n - 1, dim))
    return dim % n
