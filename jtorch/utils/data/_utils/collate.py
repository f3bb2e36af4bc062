"""torch.utils.data._utils.collate: the names live in jtorch.utils.data._collate."""
from .._collate import *  # noqa: F401,F403
from .._collate import (collate_float_fn, collate_int_fn, collate_numpy_array_fn, collate_numpy_scalar_fn,  # noqa: F401
                        collate_str_fn, collate_tensor_fn, np_str_obj_array_pattern)
