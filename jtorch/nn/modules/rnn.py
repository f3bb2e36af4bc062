"""Recurrent layers: RNN, LSTM, GRU (stacked, bidirectional, batch_first, inter-layer dropout,
LSTM projections, PackedSequence input) and the single-step RNNCell, LSTMCell, GRUCell.

The modules only hold weights and check arguments; the recurrences are in `ops/nn_rnn.py`.
What must match torch here: parameter names and their registration order (they fix the
state_dict keys and the order `reset_parameters` draws random numbers in), the attributes kept in
`__dict__` (a pickled module crosses between the libraries), reprs, and the exception class and
text of every argument error."""
import math
import numbers
import warnings

from ...ops import creation
from ...ops import nn_rnn as R
from .. import init
from ..parameter import Parameter
from ._utils import empty
from .module import Module

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

# How many hidden_size-row blocks a cell stacks in weight_ih / weight_hh / the biases: one per gate
# (LSTM: input, forget, cell, output; GRU: reset, update, new; plain RNN: the candidate state).
GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "GRU": 3, "LSTM": 4}

# The modes RNN's `nonlinearity` argument selects.
RNN_MODES = {"tanh": "RNN_TANH", "relu": "RNN_RELU"}

# Extra-repr fields after "input_size, hidden_size", each shown only when it is not its default.
REPR_DEFAULTS = (("proj_size", 0), ("num_layers", 1), ("bias", True), ("batch_first", False), ("dropout", 0),
                 ("bidirectional", False))


def _differs(value, default):
    # torch tests flags by identity (bidirectional=0 is still shown) and numbers by value
    return value is not default if isinstance(default, bool) else value != default


def _packed_sequence():
    # utils.rnn imports this package's functional layer; a late import avoids the cycle
    from ..utils.rnn import PackedSequence
    return PackedSequence


def _uniform_reset(module):
    """Every weight and bias ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), drawn in registration order."""
    bound = 1.0 / math.sqrt(module.hidden_size) if module.hidden_size > 0 else 0
    for p in module.parameters():
        init.uniform_(p, -bound, bound)


def _check_config(input_size, hidden_size, num_layers, bias, batch_first, dropout, proj_size):
    """Constructor argument checks, in the order torch makes them (it decides which error a call
    with several bad arguments gets)."""
    if isinstance(dropout, bool) or not isinstance(dropout, numbers.Number) or not 0 <= dropout <= 1:
        raise ValueError("dropout should be a number in range [0, 1] representing the probability of an element "
                         "being zeroed")
    if dropout > 0 and num_layers == 1:
        # dropout sits between stacked layers, so a single layer never applies it
        warnings.warn("dropout option adds dropout after all but last recurrent layer, so non-zero dropout expects "
                      "num_layers greater than 1, but got dropout=%s and num_layers=%s" % (dropout, num_layers),
                      stacklevel=3)
    for name, value in (("bias", bias), ("batch_first", batch_first)):
        if not isinstance(value, bool):
            raise TypeError("%s should be of type bool, got: %s" % (name, type(value).__name__))
    for name, value in (("input_size", input_size), ("hidden_size", hidden_size)):
        if not isinstance(value, int):
            raise TypeError("%s should be of type int, got: %s" % (name, type(value).__name__))
        if value <= 0:
            raise ValueError("%s must be greater than zero" % name)
    if num_layers <= 0:
        raise ValueError("num_layers must be greater than zero")
    if proj_size < 0:
        raise ValueError("proj_size should be a positive integer or zero to disable projections")
    if proj_size >= hidden_size:
        raise ValueError("proj_size has to be smaller than hidden_size")


def _weight_layout(gates, input_size, hidden_size, num_layers, bidirectional, bias, proj_size):
    """The parameters of a stacked recurrent layer, one group per (layer, direction) in the order
    torch registers them: a list of groups, each a list of (name, shape).

    Layer 0 reads the input; a deeper layer reads the previous layer's output, which is the
    (projected) hidden state of every direction concatenated. With proj_size, the recurrent weight
    reads the projected state and weight_hr maps hidden_size down to proj_size."""
    out_size = proj_size if proj_size > 0 else hidden_size
    directions = ("", "_reverse") if bidirectional else ("",)
    rows = gates * hidden_size
    groups = []
    for layer in range(num_layers):
        reads = input_size if layer == 0 else out_size * len(directions)
        for tag in directions:
            key = "_l%d%s" % (layer, tag)
            group = [("weight_ih" + key, (rows, reads)), ("weight_hh" + key, (rows, out_size))]
            if bias:
                group += [("bias_ih" + key, (rows,)), ("bias_hh" + key, (rows,))]
            if proj_size > 0:
                group.append(("weight_hr" + key, (proj_size, hidden_size)))
            groups.append(group)
    return groups


class RNNBase(Module):
    """The stacked recurrent layer behind RNN, LSTM and GRU; `mode` names the cell.

    Differs from torch: no cuDNN weight packing (flatten_parameters does nothing), and
    `_flat_weights` is read from the module on each access instead of being cached in `__dict__`
    (a pickle still carries it, for torch's loader)."""
    __constants__ = ["mode", "input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout",
                     "bidirectional", "proj_size"]

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        # torch stores the arguments before it checks them; the attribute order is its __dict__ order
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        _check_config(input_size, hidden_size, num_layers, bias, batch_first, dropout, proj_size)
        if mode not in GATES:
            raise ValueError("Unrecognized RNN mode: " + mode)
        groups = _weight_layout(GATES[mode], input_size, hidden_size, num_layers, bidirectional, bias, proj_size)
        for name, shape in (entry for group in groups for entry in group):
            setattr(self, name, Parameter(empty(shape, device, dtype)))
        self._flat_weights_names = [name for group in groups for name, _ in group]
        self._all_weights = [[name for name, _ in group] for group in groups]
        self.reset_parameters()

    # -- weights -----------------------------------------------------------------------------

    @property
    def _flat_weights(self):
        return [getattr(self, name, None) for name in self._flat_weights_names]

    @property
    def all_weights(self):
        return [[getattr(self, name) for name in group] for group in self._all_weights]

    def flatten_parameters(self):
        """A no-op: jtorch's kernels take the weights as they are (torch packs them for cuDNN)."""

    def reset_parameters(self):
        _uniform_reset(self)

    def __getstate__(self):
        # torch's unpickler rebuilds its weight cache from the saved `_flat_weights` list
        state = super().__getstate__()
        state["_flat_weights"] = self._flat_weights
        return state

    def __setstate__(self, state):
        # a torch pickle carries its cached `_flat_weights`; here the property derives it
        state = dict(state)
        state.pop("_flat_weights", None)
        super().__setstate__(state)

    # -- shapes ------------------------------------------------------------------------------

    @property
    def _num_directions(self):
        return 2 if self.bidirectional else 1

    @property
    def _paired_state(self):
        """LSTM carries (h, c); the other cells carry h alone."""
        return self.mode == "LSTM"

    # forward handles the state as a tuple of tensors whichever the mode; these convert at the edges
    def _as_tuple(self, hx):
        return tuple(hx) if self._paired_state else (hx,)

    def _from_tuple(self, state):
        return state if self._paired_state else state[0]

    def _state_features(self):
        """Feature size of each state tensor: h is projected when proj_size > 0, c never is."""
        h = self.proj_size if self.proj_size > 0 else self.hidden_size
        return (h, self.hidden_size) if self._paired_state else (h,)

    def _batch_size(self, input, batch_sizes):
        if batch_sizes is not None:
            return int(batch_sizes[0])  # a packed batch is widest at its first step
        return input.size(0) if self.batch_first else input.size(1)

    def get_expected_hidden_size(self, input, batch_sizes):
        return (self.num_layers * self._num_directions, self._batch_size(input, batch_sizes),
                self._state_features()[0])

    def check_input(self, input, batch_sizes):
        weight_dtype = self._flat_weights[0].dtype
        if input.dtype != weight_dtype:
            raise ValueError("RNN input dtype (%s) does not match weight dtype (%s). Convert input: input.to(%s), or "
                             "convert model: model.to(%s)" % (input.dtype, weight_dtype, weight_dtype, input.dtype))
        want_dims = 3 if batch_sizes is None else 2  # packed data is (sum of lengths, features)
        if input.dim() != want_dims:
            raise RuntimeError("input must have %d dimensions, got %d" % (want_dims, input.dim()))
        if input.size(-1) != self.input_size:
            raise RuntimeError("input.size(-1) must be equal to input_size. Expected %d, got %d"
                               % (self.input_size, input.size(-1)))

    def check_hidden_size(self, hx, expected_hidden_size, msg="Expected hidden size {}, got {}"):
        if tuple(hx.size()) != tuple(expected_hidden_size):
            raise RuntimeError(msg.format(expected_hidden_size, list(hx.size())))

    def check_forward_args(self, input, hidden, batch_sizes):
        """Input checks, then each state tensor against (layers * directions, batch, features).
        forward calls it after normalising the state, so a subclass may override it as in torch."""
        self.check_input(input, batch_sizes)
        leading = (self.num_layers * self._num_directions, self._batch_size(input, batch_sizes))
        if self._paired_state:
            msgs = ("Expected hidden[0] size {}, got {}", "Expected hidden[1] size {}, got {}")
        else:
            msgs = ("Expected hidden size {}, got {}",)
        for tensor, features, msg in zip(self._as_tuple(hidden), self._state_features(), msgs):
            self.check_hidden_size(tensor, leading + (features,), msg)

    def permute_hidden(self, hx, permutation):
        """Reorder the batch axis of the state (a pair for LSTM) by `permutation`."""
        if permutation is None:
            return hx
        if self._paired_state:
            return tuple(t.index_select(1, permutation) for t in hx)
        return hx.index_select(1, permutation)

    def extra_repr(self):
        shown = ["%s, %s" % (self.input_size, self.hidden_size)]
        shown += ["%s=%s" % (k, getattr(self, k)) for k, default in REPR_DEFAULTS if _differs(getattr(self, k), default)]
        return ", ".join(shown)

    # -- forward -----------------------------------------------------------------------------

    def _zero_state(self, like, batch):
        lead = self.num_layers * self._num_directions
        return tuple(creation.zeros(lead, batch, f, dtype=like.dtype, device=like.device)
                     for f in self._state_features())

    def _as_batch(self, input, hx):
        """A (T, B, *) / (B, T, *) batch and its state as a tuple of 3-D tensors, whatever the
        caller passed: an unbatched (T, *) sequence gains a batch axis of 1 and its 2-D state one at
        dim 1. Returns (input, state, unbatched)."""
        kind = "RNN" if self.mode in RNN_MODES.values() else self.mode
        if input.dim() not in (2, 3):
            # torch words RNN's message differently from LSTM's and GRU's
            raise ValueError("%s: Expected input to be 2D or 3D, got %dD %sinstead"
                             % (kind, input.dim(), "tensor " if kind == "RNN" else ""))
        unbatched = input.dim() == 2
        if unbatched:
            input = input.unsqueeze(0 if self.batch_first else 1)
        if hx is None:
            return input, self._zero_state(input, self._batch_size(input, None)), unbatched
        state = self._as_tuple(hx)
        want = 2 if unbatched else 3
        if any(t.dim() != want for t in state):
            what = "hx and cx" if self._paired_state else "hx"
            got = ("(%s) tensors" % ", ".join("%d-D" % t.dim() for t in state) if self._paired_state
                   else "%d-D tensor" % state[0].dim())
            raise RuntimeError("For %s %d-D input, %s should also be %d-D but got %s"
                               % ("unbatched" if unbatched else "batched", want, what, want, got))
        if unbatched:
            state = tuple(t.unsqueeze(1) for t in state)
        return input, state, unbatched

    def _recur(self, input, state, lengths=None):
        """Run the stacked cells; returns (output, final state as a tuple)."""
        result = R.rnn_forward(self.mode, input, self._from_tuple(state), self._flat_weights, self.bias, self.num_layers, self.dropout,
                               self.training, self.bidirectional, self.batch_first and lengths is None,
                               has_proj=self.proj_size > 0, lengths=lengths)
        return result[0], tuple(result[1:])

    def _forward_packed(self, packed, hx):
        """A PackedSequence runs as a padded (T, B, *) batch in sorted order, masked by length.

        The caller's state is in the caller's batch order, so it is permuted into the sorted order
        on the way in and back on the way out."""
        from ..utils.rnn import pack_padded_sequence, pad_packed_sequence
        data, batch_sizes, sorted_indices, unsorted_indices = packed
        padded, lengths = pad_packed_sequence(type(packed)(data, batch_sizes, None, None))
        if hx is None:
            state = self._zero_state(data, int(batch_sizes[0]))
        else:
            state = self._as_tuple(self.permute_hidden(hx, sorted_indices))
        self.check_forward_args(data, self._from_tuple(state), batch_sizes)
        output, state = self._recur(padded, state, lengths.to(device=data.device))
        repacked = pack_padded_sequence(output, lengths, enforce_sorted=True)
        output = _packed_sequence()(repacked.data, batch_sizes, sorted_indices, unsorted_indices)
        return output, self.permute_hidden(self._from_tuple(state), unsorted_indices)

    def _forward(self, input, hx):
        if isinstance(input, _packed_sequence()):
            return self._forward_packed(input, hx)
        input, state, unbatched = self._as_batch(input, hx)
        self.check_forward_args(input, self._from_tuple(state), None)
        output, state = self._recur(input, state)
        if unbatched:
            output = output.squeeze(0 if self.batch_first else 1)
            state = tuple(t.squeeze(1) for t in state)
        return output, self._from_tuple(state)


def _refuse_proj_size(kwargs):
    if "proj_size" in kwargs:
        raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")


class RNN(RNNBase):
    """Elman RNN: h_t = nonlinearity(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)."""

    def __init__(self, *args, **kwargs):
        _refuse_proj_size(kwargs)
        # RNN takes `nonlinearity` fourth, between num_layers and bias; RNNBase takes a mode instead
        args = list(args)
        self.nonlinearity = args.pop(3) if len(args) > 3 else kwargs.pop("nonlinearity", "tanh")
        if self.nonlinearity not in ("tanh", "relu"):
            raise ValueError("Unknown nonlinearity '%s'. Select from 'tanh' or 'relu'." % (self.nonlinearity,))
        super().__init__(RNN_MODES[self.nonlinearity], *args, **kwargs)

    def forward(self, input, hx=None):
        return self._forward(input, hx)


class LSTM(RNNBase):
    def __init__(self, *args, **kwargs):
        super().__init__("LSTM", *args, **kwargs)

    def get_expected_cell_size(self, input, batch_sizes):
        return (self.num_layers * self._num_directions, self._batch_size(input, batch_sizes), self.hidden_size)

    def forward(self, input, hx=None):
        return self._forward(input, hx)


class GRU(RNNBase):
    def __init__(self, *args, **kwargs):
        _refuse_proj_size(kwargs)
        super().__init__("GRU", *args, **kwargs)

    def forward(self, input, hx=None):
        return self._forward(input, hx)


class RNNCellBase(Module):
    """One time step of a recurrent cell; `num_chunks` is its gate count (see GATES)."""
    __constants__ = ["input_size", "hidden_size", "bias"]

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        rows = num_chunks * hidden_size
        self.weight_ih = Parameter(empty((rows, input_size), device, dtype))
        self.weight_hh = Parameter(empty((rows, hidden_size), device, dtype))
        for name in ("bias_ih", "bias_hh"):
            # without bias the names stay registered as None, so state_dict and repr agree with torch
            self.register_parameter(name, Parameter(empty(rows, device, dtype)) if bias else None)
        self.reset_parameters()

    def extra_repr(self):
        shown = ["%s, %s" % (self.input_size, self.hidden_size)]
        if self.__dict__.get("bias", True) is not True:
            shown.append("bias=%s" % self.bias)
        if self.__dict__.get("nonlinearity", "tanh") != "tanh":
            shown.append("nonlinearity=%s" % self.nonlinearity)
        return ", ".join(shown)

    def reset_parameters(self):
        _uniform_reset(self)

    def _step_inputs(self, input, state, state_names):
        """Check dims and give one layout: a (B, input_size) input and (B, hidden_size) state
        tensors (zeros when state is None). Returns (input, state, unbatched)."""
        cls = type(self).__name__
        if input.dim() not in (1, 2):
            raise ValueError("%s: Expected input to be 1D or 2D, got %dD instead" % (cls, input.dim()))
        if state is not None:
            for name, t in zip(state_names, state):
                if t.dim() not in (1, 2):
                    raise ValueError("%s: Expected %s to be 1D or 2D, got %dD instead" % (cls, name, t.dim()))
        unbatched = input.dim() == 1
        if unbatched:
            input = input.unsqueeze(0)
        if state is None:
            zeros = creation.zeros(input.size(0), self.hidden_size, dtype=input.dtype, device=input.device)
            state = (zeros,) * len(state_names)
        elif unbatched:
            state = tuple(t.unsqueeze(0) for t in state)
        # the checks torch's C++ cell kernels make (on h only, for LSTM)
        h = state[0]
        if input.size(1) != self.input_size:
            raise RuntimeError("input has inconsistent input_size: got %d expected %d"
                               % (input.size(1), self.input_size))
        if input.size(0) != h.size(0):
            raise RuntimeError("Input batch size %d doesn't match hidden0 batch size %d" % (input.size(0), h.size(0)))
        if h.size(1) != self.hidden_size:
            raise RuntimeError("hidden0 has inconsistent hidden_size: got %d, expected %d"
                               % (h.size(1), self.hidden_size))
        return input, state, unbatched

    def _weights(self):
        return self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh


class RNNCell(RNNCellBase):
    __constants__ = ["input_size", "hidden_size", "bias", "nonlinearity"]

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=GATES["RNN_TANH"], device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        input, (h,), unbatched = self._step_inputs(input, None if hx is None else (hx,), ("hidden",))
        # torch checks nonlinearity only here, when the cell runs
        kernel = {"tanh": R.rnn_tanh_cell, "relu": R.rnn_relu_cell}.get(self.nonlinearity)
        if kernel is None:
            raise RuntimeError("Unknown nonlinearity: %s" % self.nonlinearity)
        h = kernel(input, h, *self._weights())
        return h.squeeze(0) if unbatched else h


class LSTMCell(RNNCellBase):
    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=GATES["LSTM"], device=device, dtype=dtype)

    def forward(self, input, hx=None):
        input, state, unbatched = self._step_inputs(input, hx, ("hx[0]", "hx[1]"))
        h, c = R.lstm_cell(input, state, *self._weights())
        return (h.squeeze(0), c.squeeze(0)) if unbatched else (h, c)


class GRUCell(RNNCellBase):
    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=GATES["GRU"], device=device, dtype=dtype)

    def forward(self, input, hx=None):
        input, (h,), unbatched = self._step_inputs(input, None if hx is None else (hx,), ("hidden",))
        h = R.gru_cell(input, h, *self._weights())
        return h.squeeze(0) if unbatched else h
