"""grad_fn names that depend on how an op was called, as PyTorch's overloads do.

torch names a node after the overload that ran: `fmod(x, y)` with a tensor `y` records
FmodBackward1, with a number FmodBackward0; `x.sum(1)` records SumBackward1, `x.sum()` SumBackward0.
These helpers build the `node=` functions of the op table for those cases.
"""


def by_tensor(slot, tensor_name, number_name):
    """One name when the argument in `slot` is a tensor, another when it is a Python number."""
    def name(arrays, inputs):
        for s, _ in inputs:
            if s == slot:
                return tensor_name
        return number_name
    return name


def static(fn):
    """Mark a node function that also takes the static arguments: fn(arrays, inputs, sargs)."""
    fn.static = True
    return fn


def by_static(index, given, absent, absent_values=(None, (), False, 0)):
    """One name when static argument `index` (in the op's static order) is given, another when
    it has its default."""
    def name(arrays, inputs, sargs):
        v = sargs[index]
        return absent if any(v is a or (type(v) is type(a) and v == a) for a in absent_values) else given
    return static(name)
