"""torch.Size: a tuple subclass that prints as torch.Size([5, 3])."""


class Size(tuple):
    def __new__(cls, sizes=()):
        self = tuple.__new__(cls, sizes)
        for s in self:
            if type(s) is not int:
                return tuple.__new__(cls, _ints(self))
        return self

    def __repr__(self):
        return "torch.Size([%s])" % ", ".join(str(s) for s in self)

    __str__ = __repr__

    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n

    def __getitem__(self, item):
        r = tuple.__getitem__(self, item)
        return Size(r) if isinstance(item, slice) else r

    def __add__(self, other):
        return Size(tuple(self) + tuple(other))

    def __mul__(self, n):
        return Size(tuple(self) * n)

    __rmul__ = __mul__

    def __reduce__(self):
        return Size, (tuple(self),)


def _ints(sizes):
    out = []
    for i, s in enumerate(sizes):
        if type(s) is not int:
            if not hasattr(s, "__index__") or getattr(s, "is_floating_point", lambda: False)():
                raise TypeError("torch.Size() takes an iterable of 'int' (item %d is '%s')" % (i, type(s).__name__))
            s = s.__index__()
        out.append(s)
    return out
