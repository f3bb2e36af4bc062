"""nn.utils.rnn (packing, padding) and recurrent layers on packed batches, against torch."""
import numpy as np
import pytest
import torch

import jtorch


def _packed_lstm(lib, enforce_sorted, lengths):
    lib.manual_seed(0)
    lstm = lib.nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True)
    x = lib.randn(len(lengths), max(lengths) + 1, 3, requires_grad=True)
    packed = lib.nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=enforce_sorted)
    out, (h, c) = lstm(packed)
    pad, lens = lib.nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=max(lengths) + 1)
    (pad.sum() + h.sum() * 2 + c.sum()).backward()
    sorted_idx = packed.sorted_indices.numpy() if packed.sorted_indices is not None else None
    return [packed.data.detach().numpy(), packed.batch_sizes.numpy(), sorted_idx, out.data.detach().numpy(),
            pad.detach().numpy(), lens.numpy(), h.detach().numpy(), c.detach().numpy(), x.grad.numpy(),
            lstm.weight_hh_l1_reverse.grad.numpy()]


@pytest.mark.parametrize("enforce_sorted,lengths", [(False, [2, 5, 3]), (True, [4, 4, 1])])
def test_packed_lstm(enforce_sorted, lengths):
    for a, b in zip(_packed_lstm(jtorch, enforce_sorted, lengths), _packed_lstm(torch, enforce_sorted, lengths)):
        if b is None:
            assert a is None
            continue
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_packed_gru_and_rnn():
    for cls in ("GRU", "RNN"):
        res = {}
        for lib in (torch, jtorch):
            lib.manual_seed(1)
            m = getattr(lib.nn, cls)(2, 3)
            seqs = [lib.randn(4, 2), lib.randn(2, 2), lib.randn(3, 2)]
            packed = lib.nn.utils.rnn.pack_sequence(seqs, enforce_sorted=False)
            out, h = m(packed)
            res[lib.__name__] = (out.data.detach().numpy(), h.detach().numpy(),
                                 [u.detach().numpy() for u in lib.nn.utils.rnn.unpack_sequence(out)])
        np.testing.assert_allclose(res["jtorch"][0], res["torch"][0], rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(res["jtorch"][1], res["torch"][1], rtol=1e-4, atol=1e-6)
        for a, b in zip(res["jtorch"][2], res["torch"][2]):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_pad_sequence():
    for kwargs in ({}, {"batch_first": True, "padding_value": -1.0}, {"padding_side": "left"}):
        t = torch.nn.utils.rnn.pad_sequence([torch.ones(2, 2), torch.arange(6.).view(3, 2)], **kwargs)
        j = jtorch.nn.utils.rnn.pad_sequence([jtorch.ones(2, 2), jtorch.arange(6.).view(3, 2)], **kwargs)
        np.testing.assert_array_equal(j.numpy(), t.numpy())


def test_pack_errors():
    for lib in (torch, jtorch):
        with pytest.raises(RuntimeError):
            lib.nn.utils.rnn.pack_padded_sequence(lib.zeros(3, 2, 1), [1, 3])
