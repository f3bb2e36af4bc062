"""torch.Size: a tuple subclass that prints as torch.Size([5, 3])."""


class Size(tuple):
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

    def __reduce__(self):
        return Size, (tuple(self),)
