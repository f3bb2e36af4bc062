"""Every layer against torch: same seed -> same initial weights (bit for bit), same outputs,
same gradients of inputs and parameters, in training and evaluation mode."""
import pytest

from tests._diff import A, I, Arr
from tests.nn._layers import check_layer

import numpy as np

# (id, factory(lib) -> module, inputs, options)
CASES = [
    ("linear", lambda t: t.nn.Linear(4, 3), [A(2, 4)], {}),
    ("linear_1d", lambda t: t.nn.Linear(4, 3), [A(4)], {}),
    ("linear_3d_nobias", lambda t: t.nn.Linear(4, 3, bias=False), [A(2, 5, 4)], {}),
    ("linear_double", lambda t: t.nn.Linear(4, 3, dtype=t.float64), [A(2, 4, dtype=np.float64)], {}),
    ("bilinear", lambda t: t.nn.Bilinear(3, 4, 5), [A(2, 3), A(2, 4)], {}),
    ("conv1d", lambda t: t.nn.Conv1d(2, 4, 3, stride=2, padding=1), [A(2, 2, 9)], {}),
    ("conv2d_lenet", lambda t: t.nn.Conv2d(1, 6, 3), [A(1, 1, 8, 8)], {}),
    ("conv2d_groups_dilation", lambda t: t.nn.Conv2d(4, 6, 3, groups=2, dilation=2, padding=2, bias=False),
     [A(2, 4, 7, 7)], {}),
    ("conv2d_same_reflect", lambda t: t.nn.Conv2d(2, 3, (2, 3), padding="same", padding_mode="reflect"),
     [A(1, 2, 5, 6)], {}),
    ("conv2d_replicate", lambda t: t.nn.Conv2d(2, 3, 3, padding=1, padding_mode="replicate"), [A(1, 2, 5, 5)], {}),
    ("conv2d_circular_stride", lambda t: t.nn.Conv2d(2, 3, 3, stride=2, padding=(1, 2), padding_mode="circular"),
     [A(2, 2, 6, 6)], {}),
    ("conv2d_unbatched", lambda t: t.nn.Conv2d(2, 3, 3), [A(2, 5, 5)], {}),
    ("conv2d_valid", lambda t: t.nn.Conv2d(2, 3, 3, padding="valid"), [A(1, 2, 5, 5)], {}),
    ("conv3d", lambda t: t.nn.Conv3d(1, 2, 3, padding=1), [A(1, 1, 4, 4, 4)], {}),
    ("convT1d", lambda t: t.nn.ConvTranspose1d(3, 2, 3, stride=2, padding=1, output_padding=1), [A(2, 3, 5)], {}),
    ("convT2d_groups", lambda t: t.nn.ConvTranspose2d(4, 6, 3, stride=2, groups=2, dilation=1), [A(1, 4, 4, 4)], {}),
    ("convT2d_dilation", lambda t: t.nn.ConvTranspose2d(2, 3, (2, 3), stride=(1, 2), padding=1, dilation=2),
     [A(1, 2, 5, 5)], {}),
    ("convT2d_output_size", lambda t: t.nn.ConvTranspose2d(2, 2, 3, stride=2, padding=1), [A(1, 2, 4, 4)],
     {"call": lambda m, x: m(x, output_size=[8, 8])}),
    ("maxpool1d", lambda t: t.nn.MaxPool1d(3, stride=2, padding=1), [A(2, 3, 9)], {}),
    ("maxpool2d", lambda t: t.nn.MaxPool2d(2), [A(2, 3, 6, 6)], {}),
    ("maxpool2d_indices_ceil", lambda t: t.nn.MaxPool2d(3, 2, padding=1, dilation=1, return_indices=True,
                                                        ceil_mode=True), [A(1, 2, 7, 8)], {}),
    ("maxpool2d_dilation", lambda t: t.nn.MaxPool2d((2, 3), (1, 2), dilation=2), [A(1, 2, 7, 8)], {}),
    ("maxpool3d", lambda t: t.nn.MaxPool3d(2, return_indices=True), [A(1, 2, 4, 4, 4)], {}),
    ("avgpool1d", lambda t: t.nn.AvgPool1d(3, 2, padding=1, count_include_pad=False), [A(2, 3, 8)], {}),
    ("avgpool2d_ceil", lambda t: t.nn.AvgPool2d(3, 2, padding=1, ceil_mode=True), [A(1, 2, 7, 6)], {}),
    ("avgpool2d_divisor", lambda t: t.nn.AvgPool2d(2, divisor_override=3), [A(1, 2, 4, 4)], {}),
    ("avgpool3d", lambda t: t.nn.AvgPool3d(2), [A(1, 1, 4, 4, 4)], {}),
    ("adaptive_avg1d", lambda t: t.nn.AdaptiveAvgPool1d(4), [A(2, 3, 10)], {}),
    ("adaptive_avg2d", lambda t: t.nn.AdaptiveAvgPool2d((3, 5)), [A(2, 3, 7, 9)], {}),
    ("adaptive_avg2d_1", lambda t: t.nn.AdaptiveAvgPool2d(1), [A(2, 3, 4, 4)], {}),
    ("adaptive_avg2d_none", lambda t: t.nn.AdaptiveAvgPool2d((None, 2)), [A(2, 3, 4, 5)], {}),
    ("adaptive_max2d", lambda t: t.nn.AdaptiveMaxPool2d(3, return_indices=True), [A(2, 3, 7, 5)], {}),
    ("adaptive_max1d", lambda t: t.nn.AdaptiveMaxPool1d(3), [A(2, 3, 7)], {}),
    ("lppool2d", lambda t: t.nn.LPPool2d(2, 2), [A(1, 2, 4, 4, low=0.1, high=2.0)], {}),
    ("batchnorm1d_train", lambda t: t.nn.BatchNorm1d(4), [A(8, 4)], {"steps": 2}),
    ("batchnorm1d_3d", lambda t: t.nn.BatchNorm1d(3), [A(4, 3, 5)], {}),
    ("batchnorm2d_train", lambda t: t.nn.BatchNorm2d(3), [A(4, 3, 5, 5)], {"steps": 2}),
    ("batchnorm2d_eval", lambda t: t.nn.BatchNorm2d(3), [A(4, 3, 5, 5)], {"train": False}),
    ("batchnorm2d_cma", lambda t: t.nn.BatchNorm2d(3, momentum=None, affine=False), [A(4, 3, 3, 3)], {"steps": 3}),
    ("batchnorm2d_untracked", lambda t: t.nn.BatchNorm2d(3, track_running_stats=False), [A(4, 3, 3, 3)],
     {"train": False}),
    ("batchnorm3d", lambda t: t.nn.BatchNorm3d(2), [A(2, 2, 3, 3, 3)], {}),
    ("layernorm", lambda t: t.nn.LayerNorm(6), [A(3, 4, 6)], {}),
    ("layernorm_2d_nobias", lambda t: t.nn.LayerNorm([4, 6], bias=False), [A(3, 4, 6)], {}),
    ("groupnorm", lambda t: t.nn.GroupNorm(2, 4), [A(3, 4, 5, 5)], {}),
    ("instancenorm2d", lambda t: t.nn.InstanceNorm2d(3), [A(2, 3, 4, 4)], {}),
    ("instancenorm2d_affine_tracked", lambda t: t.nn.InstanceNorm2d(3, affine=True, track_running_stats=True),
     [A(2, 3, 4, 4)], {"steps": 2}),
    ("instancenorm1d_unbatched", lambda t: t.nn.InstanceNorm1d(3), [A(3, 6)], {}),
    ("localresponsenorm", lambda t: t.nn.LocalResponseNorm(3), [A(2, 5, 4, 4)], {}),
    ("rmsnorm", lambda t: t.nn.RMSNorm(6), [A(3, 6)], {}),
    ("dropout_train", lambda t: t.nn.Dropout(0.3), [A(4, 50)], {}),
    ("dropout_eval", lambda t: t.nn.Dropout(0.3), [A(4, 5)], {"train": False}),
    ("dropout2d_train", lambda t: t.nn.Dropout2d(0.5), [A(3, 6, 2, 2)], {}),
    ("dropout1d_train", lambda t: t.nn.Dropout1d(0.5), [A(3, 6, 4)], {}),
    ("alphadropout_train", lambda t: t.nn.AlphaDropout(0.2), [A(4, 30)], {}),
    ("embedding", lambda t: t.nn.Embedding(10, 3), [I(2, 4, high=10)], {}),
    ("embedding_padding", lambda t: t.nn.Embedding(10, 3, padding_idx=2), [Arr(np.array([[2, 1, 2], [3, 2, 9]]))],
     {}),
    ("embedding_freq", lambda t: t.nn.Embedding(6, 3, scale_grad_by_freq=True),
     [Arr(np.array([1, 1, 3, 1, 5]))], {}),
    ("embedding_max_norm", lambda t: t.nn.Embedding(6, 4, max_norm=1.0), [Arr(np.array([0, 2, 2, 5]))], {}),
    ("embedding_from_pretrained", lambda t: t.nn.Embedding.from_pretrained(t.arange(12.).view(4, 3), freeze=False,
                                                                            padding_idx=1), [I(2, 3, high=4)], {}),
    ("embedding_from_pretrained_frozen", lambda t: t.nn.Embedding.from_pretrained(t.arange(12.).view(4, 3)),
     [I(5, high=4)], {}),
    ("embeddingbag_mean", lambda t: t.nn.EmbeddingBag(10, 3), [I(8, high=10), Arr(np.array([0, 3, 5]))], {}),
    ("embeddingbag_sum_2d", lambda t: t.nn.EmbeddingBag(10, 3, mode="sum"), [I(2, 4, high=10)], {}),
    ("embeddingbag_max", lambda t: t.nn.EmbeddingBag(10, 3, mode="max"), [I(6, high=10), Arr(np.array([0, 2]))], {}),
    ("rnn_relu_2layer_bi", lambda t: t.nn.RNN(4, 5, 2, nonlinearity="relu", bidirectional=True), [A(5, 2, 4)], {}),
    ("rnn_h0_batch_first", lambda t: t.nn.RNN(3, 4, batch_first=True), [A(2, 5, 3), A(1, 2, 4)], {}),
    ("lstm", lambda t: t.nn.LSTM(4, 8), [A(5, 2, 4)], {}),
    ("lstm_2layer_bi_bf", lambda t: t.nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True),
     [A(2, 6, 3)], {}),
    ("lstm_h0c0", lambda t: t.nn.LSTM(3, 4), [A(5, 2, 3), A(1, 2, 4), A(1, 2, 4)],
     {"call": lambda m, x, h, c: m(x, (h, c))}),
    ("lstm_proj", lambda t: t.nn.LSTM(3, 6, proj_size=2, num_layers=2), [A(4, 2, 3)], {}),
    ("lstm_unbatched", lambda t: t.nn.LSTM(3, 4), [A(5, 3)], {}),
    ("lstm_nobias", lambda t: t.nn.LSTM(3, 4, bias=False), [A(5, 2, 3)], {}),
    ("gru", lambda t: t.nn.GRU(4, 8, batch_first=True), [A(2, 5, 4)], {}),
    ("gru_2layer_bi_eval_dropout", lambda t: t.nn.GRU(3, 4, 2, dropout=0.5, bidirectional=True), [A(4, 2, 3)],
     {"train": False}),
    ("rnncell", lambda t: t.nn.RNNCell(3, 4), [A(2, 3), A(2, 4)], {}),
    ("rnncell_relu", lambda t: t.nn.RNNCell(3, 4, nonlinearity="relu"), [A(2, 3)], {}),
    ("lstmcell", lambda t: t.nn.LSTMCell(3, 4), [A(2, 3), A(2, 4), A(2, 4)],
     {"call": lambda m, x, h, c: m(x, (h, c))}),
    ("grucell", lambda t: t.nn.GRUCell(3, 4), [A(3)], {}),
    ("mha", lambda t: t.nn.MultiheadAttention(8, 2), [A(5, 2, 8), A(4, 2, 8), A(4, 2, 8)], {}),
    ("mha_masks_no_weights_batch_first", lambda t: t.nn.MultiheadAttention(6, 2, batch_first=True), [A(3, 4, 6)],
     {"call": lambda m, x: m(x, x, x, need_weights=False, attn_mask=_causal(x, 4),
                             key_padding_mask=_padding(x, 3, 4))[0]}),
    ("mha_kdim_bias_kv_zero", lambda t: t.nn.MultiheadAttention(6, 3, kdim=4, vdim=5, add_bias_kv=True,
                                                                add_zero_attn=True),
     [A(3, 2, 6), A(4, 2, 4), A(4, 2, 5)], {"call": lambda m, q, k, v: m(q, k, v, average_attn_weights=False)}),
    ("encoder_layer_gelu_norm_first", lambda t: t.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, activation="gelu",
                                                                            norm_first=True, batch_first=True),
     [A(2, 5, 8)], {"train": False}),
    ("transformer", lambda t: t.nn.Transformer(8, 2, 1, 1, 16, dropout=0.0), [A(5, 2, 8), A(4, 2, 8)], {}),
    ("prelu", lambda t: t.nn.PReLU(3), [A(2, 3, 4)], {}),
    ("sequential", lambda t: t.nn.Sequential(t.nn.Flatten(), t.nn.Linear(12, 5), t.nn.ReLU(), t.nn.Linear(5, 2),
                                             t.nn.LogSoftmax(dim=1)), [A(3, 3, 4)], {}),
    ("unflatten", lambda t: t.nn.Unflatten(1, (2, 3)), [A(4, 6)], {}),
    ("upsample_nearest", lambda t: t.nn.Upsample(scale_factor=2), [A(1, 2, 3, 3)], {}),
    ("upsample_nearest_size", lambda t: t.nn.Upsample(size=(5, 7)), [A(1, 2, 3, 4)], {}),
    ("upsample_bilinear", lambda t: t.nn.Upsample(scale_factor=2, mode="bilinear"), [A(1, 2, 3, 4)], {}),
    ("upsample_bilinear_ac", lambda t: t.nn.Upsample(size=(5, 6), mode="bilinear", align_corners=True),
     [A(1, 2, 3, 4)], {}),
    ("upsample_linear", lambda t: t.nn.Upsample(scale_factor=1.5, mode="linear"), [A(1, 2, 6)], {}),
    ("upsample_bicubic", lambda t: t.nn.Upsample(size=(6, 5), mode="bicubic"), [A(1, 1, 4, 4)], {}),
    ("pixel_shuffle", lambda t: t.nn.PixelShuffle(2), [A(1, 8, 3, 3)], {}),
    ("pixel_unshuffle", lambda t: t.nn.PixelUnshuffle(2), [A(1, 2, 4, 6)], {}),
    ("unfold", lambda t: t.nn.Unfold(2, padding=1, stride=2), [A(2, 3, 5, 5)], {}),
    ("fold", lambda t: t.nn.Fold((4, 5), 2), [A(2, 12, 12)], {}),
    ("reflection_pad2d", lambda t: t.nn.ReflectionPad2d((1, 2, 0, 1)), [A(1, 2, 3, 4)], {}),
    ("replication_pad1d", lambda t: t.nn.ReplicationPad1d(2), [A(1, 2, 3)], {}),
    ("constant_pad3d", lambda t: t.nn.ConstantPad3d(1, 2.5), [A(1, 1, 2, 2, 2)], {}),
    ("zero_pad2d_crop", lambda t: t.nn.ZeroPad2d((1, -1, 2, 0)), [A(1, 2, 3, 4)], {}),
    ("circular_pad2d", lambda t: t.nn.CircularPad2d(1), [A(1, 2, 3, 3)], {}),
    ("cosine_similarity", lambda t: t.nn.CosineSimilarity(), [A(3, 4), A(3, 4)], {}),
    ("pairwise_distance", lambda t: t.nn.PairwiseDistance(p=1.5), [A(3, 4), A(3, 4)], {}),
    ("channel_shuffle", lambda t: t.nn.ChannelShuffle(2), [A(1, 4, 2, 2)], {"grad": False}),
]

ACTIVATIONS = ["ReLU", "ReLU6", "LeakyReLU", "ELU", "SELU", "CELU", "GELU", "SiLU", "Mish", "Sigmoid", "Tanh",
               "Hardtanh", "Hardsigmoid", "Hardswish", "Softplus", "Softsign", "LogSigmoid", "Tanhshrink",
               "Softshrink", "Hardshrink", "GLU"]
CASES += [("act_" + name, (lambda n: lambda t: getattr(t.nn, n)())(name), [A(3, 6, low=-4, high=4)], {})
          for name in ACTIVATIONS]
CASES += [
    ("act_leaky_slope", lambda t: t.nn.LeakyReLU(0.2), [A(3, 4)], {}),
    ("act_gelu_tanh", lambda t: t.nn.GELU(approximate="tanh"), [A(3, 4)], {}),
    ("act_softplus_beta", lambda t: t.nn.Softplus(beta=2, threshold=1), [A(3, 4)], {}),
    ("act_threshold", lambda t: t.nn.Threshold(0.1, 20.0), [A(3, 4)], {}),
    ("act_softmax", lambda t: t.nn.Softmax(dim=1), [A(3, 4)], {}),
    ("act_log_softmax", lambda t: t.nn.LogSoftmax(dim=-1), [A(3, 4)], {}),
    ("act_softmin", lambda t: t.nn.Softmin(dim=0), [A(3, 4)], {}),
    ("act_softmax2d", lambda t: t.nn.Softmax2d(), [A(2, 3, 2, 2)], {}),
    ("act_elu_alpha", lambda t: t.nn.ELU(alpha=0.5), [A(3, 4)], {}),
    ("act_rrelu_eval", lambda t: t.nn.RReLU(), [A(3, 4)], {"train": False}),
    ("act_rrelu_train", lambda t: t.nn.RReLU(0.1, 0.3), [A(3, 40)], {}),
]


def _causal(x, n):
    lib = __import__("jtorch") if type(x).__module__.startswith("jtorch") else __import__("torch")
    return lib.triu(lib.full((n, n), float("-inf")), diagonal=1)


def _padding(x, b, s):
    lib = __import__("jtorch") if type(x).__module__.startswith("jtorch") else __import__("torch")
    m = lib.zeros(b, s, dtype=lib.bool)
    m[0, -1] = True
    return m


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_layer(case):
    name, factory, inputs, opts = case
    check_layer(factory, *inputs, **opts)
