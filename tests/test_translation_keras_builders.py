"""Keras -> PyTorch of functional builders written as keras.applications writes them: helpers that compute widths
before creating layers, `channel_axis` from `backend.image_data_format()`, `for` loops that build blocks, helpers
that return early, and a builder that returns another builder's call with a nested function as an argument. Each
file below is a reduced repro of a real keras.applications builder (MobileNet, ResNet50, DenseNet121); each test
runs `tensorlint translate -o FILE`, imports the file, copies the weights and compares the numbers with Keras."""

from __future__ import annotations


import pytest

from tensorlint.server import cli
from translation_harness import import_file as _import, assert_translation_matches, random_input, translate_keras_file



def _translate(source: str, symbol: str, tmp_path, capsys, init_args: str | None = None):
    path, out, err = translate_keras_file(source, symbol, tmp_path, capsys, init_args)
    return _import(path), _import(out), out.read_text(), err


def _builder_init(text: str) -> str:
    """The generated model class's __init__ (the last class of the module; runtime helpers come first)."""
    return text.rsplit("\nclass ", 1)[1].split("def __init__")[1].split("def forward")[0]


def _equal(source_model, translated, target_model, shape):
    assert_translation_matches(source_model, target_model, translated.copy_weights, [random_input(shape)], "torch")


# keras.applications.MobileNet: a helper computes its width (`filters = int(filters * alpha)`) and its channel
# axis before creating layers; the builder computes one with a plain-Python helper
MOBILENET_LIKE = """\
import keras
from keras import backend, layers


def _make_divisible(v, divisor):
    return max(divisor, int(v + divisor / 2) // divisor * divisor)


def _conv_block(inputs, filters, alpha, strides=(1, 1), block_id=1):
    channel_axis = 1 if backend.image_data_format() == "channels_first" else -1
    filters = int(filters * alpha)
    x = layers.Conv2D(filters, (3, 3), padding="same" if strides == (1, 1) else "valid", use_bias=False,
                      strides=strides, name="conv_%d" % block_id)(inputs)
    x = layers.BatchNormalization(axis=channel_axis, name="conv_%d_bn" % block_id)(x)
    return layers.ReLU(6.0)(x)


def TinyMobileNet(input_shape=(12, 12, 3), alpha=0.5, classes=5):
    stem_filters = _make_divisible(16 * alpha, 4)
    img_input = layers.Input(shape=input_shape)
    x = layers.Conv2D(stem_filters, 3, padding="same", name="stem")(img_input)
    x = _conv_block(x, 16, alpha, block_id=1)
    x = _conv_block(x, 32, alpha, strides=(2, 2), block_id=2)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dense(classes, name="predictions")(x)
    return keras.Model(img_input, x)
"""


def test_locals_computed_by_inlined_helpers_and_the_builder_are_bound_in_init(tmp_path, capsys):
    original, translated, text, _ = _translate(MOBILENET_LIKE, "TinyMobileNet", tmp_path, capsys)
    assert "TODO(tensorlint)" not in text, text
    init = _builder_init(text)
    # the values layers are built with are computed before them, in __init__; the helper's constant folded
    assert "filters__conv_block1 = int(16 * alpha)" in init and "stem_filters = _make_divisible(16 * alpha, 4)" in init
    assert "image_data_format" not in text and "def _make_divisible(v, divisor):" in text
    _equal(original.TinyMobileNet(), translated, translated.TinyMobileNet(), (2, 12, 12, 3))
    # another width: the same translation builds it (the widths are computed when the model is built)
    _equal(original.TinyMobileNet(alpha=1.0), translated, translated.TinyMobileNet(alpha=1.0), (1, 12, 12, 3))


# keras.applications.ResNet50: a wrapper returning `ResNet(stack_fn, ...)`, its nested stack_fn calling helpers with
# a `for` loop over `range(2, blocks + 1)`, blocks with `if conv_shortcut:` and `padding="SAME"`
RESNET_LIKE = """\
import keras
from keras import backend, layers


def block1(x, filters, stride=1, conv_shortcut=True, name=None):
    if backend.image_data_format() == "channels_last":
        bn_axis = 3
    else:
        bn_axis = 1
    if conv_shortcut:
        shortcut = layers.Conv2D(2 * filters, 1, strides=stride, name=name + "_0_conv")(x)
        shortcut = layers.BatchNormalization(axis=bn_axis, epsilon=1.001e-5, name=name + "_0_bn")(shortcut)
    else:
        shortcut = x
    x = layers.Conv2D(filters, 3, strides=stride, padding="SAME", name=f"{name}_1_conv")(x)
    x = layers.BatchNormalization(axis=bn_axis, epsilon=1.001e-5, name=f"{name}_1_bn")(x)
    x = layers.Activation("relu")(x)
    x = layers.Conv2D(2 * filters, 1, name=f"{name}_2_conv")(x)
    x = layers.Add(name=f"{name}_add")([shortcut, x])
    return layers.Activation("relu", name=f"{name}_out")(x)


def stack1(x, filters, blocks, stride1=2, name=None):
    x = block1(x, filters, stride=stride1, name=f"{name}_block1")
    for i in range(2, blocks + 1):
        x = block1(x, filters, conv_shortcut=False, name=f"{name}_block{i}")
    return x


def ResNet(stack_fn, preact, use_bias, include_top=True, input_shape=None, pooling=None, classes=10, name="resnet"):
    img_input = layers.Input(shape=input_shape)
    x = layers.Conv2D(8, 3, strides=2, use_bias=use_bias, name="conv1_conv")(img_input)
    if not preact:
        x = layers.BatchNormalization(axis=3, epsilon=1.001e-5, name="conv1_bn")(x)
        x = layers.Activation("relu", name="conv1_relu")(x)
    x = stack_fn(x)
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = layers.Dense(classes, name="predictions")(x)
    elif pooling == "avg":
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    return keras.Model(img_input, x, name=name)


def TinyResNet(include_top=True, input_shape=(16, 16, 3), pooling=None, classes=10, name="tiny_resnet"):
    def stack_fn(x):
        x = stack1(x, 4, 2, stride1=1, name="conv2")
        return stack1(x, 8, 3, name="conv3")

    return ResNet(stack_fn, preact=False, use_bias=True, name=name, include_top=include_top,
                  input_shape=input_shape, pooling=pooling, classes=classes)
"""


def test_a_builder_returning_another_builder_with_a_nested_stack_function_translates(tmp_path, capsys):
    original, translated, text, err = _translate(RESNET_LIKE, "TinyResNet", tmp_path, capsys)
    assert "TODO(tensorlint)" not in text, text
    assert "ResNet() was inlined" in err and "stack_fn() was inlined" in err and "was unrolled (2 passes)" in err
    target = translated.TinyResNet()
    _equal(original.TinyResNet(), translated, target, (2, 16, 16, 3))
    modules = dict(target.named_modules())
    assert {"conv2_block1_0_conv", "conv2_block2_1_conv", "conv3_block3_2_conv"} <= set(modules)
    assert "conv2_block2_0_conv" not in modules  # `conv_shortcut=False` decided per block
    # the arguments the wrapper passes on decide the called builder's ifs; other values fail loudly
    original, translated, text, _ = _translate(RESNET_LIKE, "TinyResNet", tmp_path, capsys,
                                               "include_top=False, pooling='avg'")
    assert "TODO(tensorlint)" not in text
    _equal(original.TinyResNet(include_top=False, pooling="avg"), translated,
           translated.TinyResNet(include_top=False, pooling="avg"), (1, 16, 16, 3))
    with pytest.raises(ValueError, match="include_top"):
        translated.TinyResNet()


# keras.applications.DenseNet121: `DenseNet([2, 1], ...)`, `for i in range(blocks[0])`, Concatenate on axis 3 and a
# width read from the graph (`x.shape[bn_axis]`)
DENSENET_LIKE = """\
import keras
from keras import backend, layers


def conv_block(x, growth_rate, name):
    bn_axis = 3 if backend.image_data_format() == "channels_last" else 1
    x1 = layers.BatchNormalization(axis=bn_axis, epsilon=1.001e-5, name=name + "_0_bn")(x)
    x1 = layers.Activation("relu", name=name + "_0_relu")(x1)
    x1 = layers.Conv2D(growth_rate, 3, padding="same", use_bias=False, name=name + "_1_conv")(x1)
    x = layers.Concatenate(axis=bn_axis, name=name + "_concat")([x, x1])
    return x


def dense_block(x, blocks, name):
    for i in range(blocks):
        x = conv_block(x, 4, name=name + "_block" + str(i + 1))
    return x


def transition_block(x, reduction, name):
    bn_axis = 3 if backend.image_data_format() == "channels_last" else 1
    x = layers.BatchNormalization(axis=bn_axis, epsilon=1.001e-5, name=name + "_bn")(x)
    x = layers.Conv2D(int(x.shape[bn_axis] * reduction), 1, use_bias=False, name=name + "_conv")(x)
    return layers.AveragePooling2D(2, strides=2, name=name + "_pool")(x)


def DenseNet(blocks, input_shape=None, name="densenet"):
    img_input = layers.Input(shape=input_shape)
    x = layers.Conv2D(8, 3, padding="same", use_bias=False, name="conv1_conv")(img_input)
    x = dense_block(x, blocks[0], name="conv2")
    x = transition_block(x, 0.5, name="pool2")
    x = dense_block(x, blocks[1], name="conv3")
    return keras.Model(img_input, x, name=name)


def TinyDenseNet(input_shape=(8, 8, 3), name="tiny_densenet"):
    return DenseNet([2, 1], input_shape, name=name)
"""


def test_dense_blocks_concatenate_features_and_read_widths_from_the_graph(tmp_path, capsys):
    original, translated, text, _ = _translate(DENSENET_LIKE, "TinyDenseNet", tmp_path, capsys)
    assert "TODO(tensorlint)" not in text, text
    init = _builder_init(text)
    # 8 + 4 + 4 features after conv2's two blocks: sized in __init__, no tensor read there, nothing lazy
    assert "nn.Conv2d(16, int(16 * 0.5), 1, bias=False)" in init and init.count("Lazy") == 1  # the stem's input
    # `name + "_block" + str(i + 1)` of the unrolled loop is the Keras name, copied by name
    assert "self.conv2_block2_1_conv = " in init and "self.conv3_block1_1_conv = " in init and "str(" not in text
    _equal(original.TinyDenseNet(), translated, translated.TinyDenseNet(), (2, 8, 8, 3))


# a helper that returns early: decided by the arguments of each call when they can be, at build time when the test
# reads only values __init__ computes (MobileNetV2's residual), otherwise a TODO that says why
EARLY_RETURN = """\
import keras
from keras import layers


def block(x, filters, residual):
    y = layers.Conv2D(filters, 3, padding="same")(x)
    if residual:
        return layers.Add()([x, y])
    return layers.ReLU()(y)


def Decided(input_shape=(8, 8, 4)):
    inputs = layers.Input(shape=input_shape)
    x = block(inputs, 4, residual=True)
    x = block(x, 6, residual=False)
    return keras.Model(inputs, x)


def inverted_res_block(inputs, filters, alpha, stride, block_id):
    in_channels = inputs.shape[-1]
    pointwise_filters = int(filters * alpha)
    x = layers.Conv2D(pointwise_filters, 3, strides=stride, padding="same", name=f"block_{block_id}_project")(inputs)
    if in_channels == pointwise_filters and stride == 1:
        return layers.Add(name=f"block_{block_id}_add")([inputs, x])
    return x


def Residual(input_shape=(8, 8, 3), alpha=1.0):
    inputs = layers.Input(shape=input_shape)
    x = layers.Conv2D(8, 1, name="stem")(inputs)
    x = inverted_res_block(x, 8, alpha, 1, block_id=1)
    x = inverted_res_block(x, 8, alpha, 2, block_id=2)
    x = inverted_res_block(x, 8, alpha, 1, block_id=3)
    return keras.Model(inputs, x)


def gated(x, filters):
    y = layers.Conv2D(filters, 1)(x)
    if x.shape[1] > 4:
        return layers.MaxPooling2D()(y)
    return y


def Undecided(input_shape=(8, 8, 4)):
    inputs = layers.Input(shape=input_shape)
    x = gated(inputs, 4)
    return keras.Model(inputs, x)


def stacked(x, *widths):
    for width in widths:
        x = layers.Dense(width)(x)
    return x


def Variadic(input_shape=(6,)):
    inputs = layers.Input(shape=input_shape)
    return keras.Model(inputs, stacked(inputs, 4, 2))
"""


def test_helpers_returning_early_are_inlined_when_the_arguments_decide_the_return(tmp_path, capsys):
    original, translated, text, err = _translate(EARLY_RETURN, "Decided", tmp_path, capsys)
    assert "TODO(tensorlint)" not in text, text
    forward = text.rsplit("\nclass ", 1)[1].split("def forward")[1].split("\n\n")[0]
    assert forward.count("self.conv2d") == 2 and "self.re_lu" in forward and " + " in forward
    _equal(original.Decided(), translated, translated.Decided(), (2, 8, 8, 4))


def test_an_early_return_on_values_computed_when_building_is_decided_by_the_built_model(tmp_path, capsys):
    """MobileNetV2's residual: `in_channels == pointwise_filters` depends on alpha and on the graph's widths."""
    original, translated, text, _ = _translate(EARLY_RETURN, "Residual", tmp_path, capsys)
    assert "TODO(tensorlint)" not in text, text
    # the width the graph walk knows, not the tensor
    assert "in_channels_inverted_res_block3 = (pointwise_filters_inverted_res_block2)" in _builder_init(text)
    # forward reads what __init__ kept where it reads it, with no block of loads at its top
    forward = text.rsplit("def forward", 1)[1]
    assert "if self._in_channels_inverted_res_block3 == self._pointwise_filters_inverted_res_block3" in forward
    assert " = self._" not in forward, forward
    for alpha in (1.0, 0.5):  # blocks 1 and 3 add their input at 1.0, block 3 only at 0.5
        _equal(original.Residual(alpha=alpha), translated, translated.Residual(alpha=alpha), (2, 8, 8, 3))


def test_helpers_that_cannot_be_inlined_are_todos_that_say_why(tmp_path, capsys):
    _, _, text, err = _translate(EARLY_RETURN, "Undecided", tmp_path, capsys)
    assert "# TODO(tensorlint): layers created under run-time control flow" in text and "1 TODO" in err
    _, _, text, err = _translate(EARLY_RETURN, "Variadic", tmp_path, capsys)
    assert "# TODO(tensorlint): stacked() builds Keras layers and was not inlined: it takes *args/**kwargs or is " \
           "called with them" in text and "1 TODO" in err


# keras.applications.MobileNetV2: a stride-2 block pads with `imagenet_utils.correct_pad(x, 3)`, a function of another
# module of the package computing ZeroPadding2D's padding from the tensor's spatial size (odd and even sizes differ)
PAD_UTILS = """\
from keras.src import backend


def correct_pad(inputs, kernel_size):
    img_dim = 2 if backend.image_data_format() == "channels_first" else 1
    input_size = inputs.shape[img_dim : (img_dim + 2)]
    if isinstance(kernel_size, int):
        kernel_size = (kernel_size, kernel_size)
    if input_size[0] is None:
        adjust = (1, 1)
    else:
        adjust = (1 - input_size[0] % 2, 1 - input_size[1] % 2)
    correct = (kernel_size[0] // 2, kernel_size[1] // 2)
    return ((correct[0] - adjust[0], correct[0]), (correct[1] - adjust[1], correct[1]))


def correct_pad_before_keras3(inputs, kernel_size):
    # Keras 2 read the size with backend.int_shape (Keras 3's backend has none: only the translation runs this one)
    img_dim = 2 if backend.image_data_format() == "channels_first" else 1
    input_size = backend.int_shape(inputs)[img_dim : (img_dim + 2)]
    adjust = (1 - input_size[0] % 2, 1 - input_size[1] % 2)
    return ((kernel_size // 2 - adjust[0], kernel_size // 2), (kernel_size // 2 - adjust[1], kernel_size // 2))


def needs_keras(inputs):
    return backend.is_keras_tensor(inputs)
"""

PADDED_BY_SHAPE = """\
import keras
from keras import layers

from tinyapps import pad_utils


def TinyMobileNetV2(input_shape=(9, 9, 3)):
    img_input = layers.Input(shape=input_shape)
    x = layers.Conv2D(4, 1, name="expand")(img_input)
    x = layers.ZeroPadding2D(padding=pad_utils.correct_pad(x, 3), name="block_pad")(x)
    x = layers.DepthwiseConv2D(3, strides=2, padding="valid", name="depthwise")(x)
    x = layers.ZeroPadding2D(padding=pad_utils.correct_pad(x, (3, 3)), name="second_pad")(x)
    x = layers.Conv2D(6, 3, strides=2, name="project")(x)
    return keras.Model(img_input, x)


def TinyMobileNetV2Keras2(input_shape=(9, 9, 3)):
    img_input = layers.Input(shape=input_shape)
    x = layers.Conv2D(4, 1, name="expand")(img_input)
    x = layers.ZeroPadding2D(padding=pad_utils.correct_pad_before_keras3(x, 3), name="block_pad")(x)
    x = layers.DepthwiseConv2D(3, strides=2, padding="valid", name="depthwise")(x)
    x = layers.ZeroPadding2D(padding=pad_utils.correct_pad_before_keras3(x, 3), name="second_pad")(x)
    x = layers.Conv2D(6, 3, strides=2, name="project")(x)
    return keras.Model(img_input, x)


def NeedsKeras(input_shape=(8, 8, 3)):
    img_input = layers.Input(shape=input_shape)
    x = layers.ZeroPadding2D(padding=1 if pad_utils.needs_keras(img_input) else 2)(img_input)
    return keras.Model(img_input, x)
"""


def _package(tmp_path, monkeypatch):
    package = tmp_path / "tinyapps"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "pad_utils.py").write_text(PAD_UTILS)
    monkeypatch.syspath_prepend(str(tmp_path))
    return package


def test_a_weightless_layer_whose_arguments_read_a_tensor_is_created_in_forward(tmp_path, capsys, monkeypatch):
    """One translation serves every input size: the padding is computed from the torch tensor when the model runs,
    by the package's helper brought along, as Keras computes it from the static shape when it builds the graph."""
    package = _package(tmp_path, monkeypatch)
    source = package / "tiny_mobilenet_v2.py"
    source.write_text(PADDED_BY_SHAPE)
    out = tmp_path / "tiny_torch.py"
    assert cli.main(["translate", f"{source}:TinyMobileNetV2", "--to", "torch", "-o", str(out)]) == 0
    err = capsys.readouterr().err
    text = out.read_text()
    assert "0 TODOs" in err and "TODO(tensorlint)" not in text, text
    assert "pad_utils" not in text and "def correct_pad(inputs, kernel_size):" in text
    assert "img_dim = 2 if 'channels_last' == \"channels_first\" else 1" in text, text  # layout preserve
    assert "needs_keras" not in text  # only what the translation calls comes along
    original, translated = _import(source), _import(out)
    for size in (9, 10, 11, 12):  # correct_pad pads (1, 1) on odd sizes, (0, 1) on even ones
        _equal(original.TinyMobileNetV2(input_shape=(size, size, 3)), translated, translated.TinyMobileNetV2(),
               (2, size, size, 3))
    _equal(original.TinyMobileNetV2(input_shape=(9, 12, 3)), translated, translated.TinyMobileNetV2(), (1, 9, 12, 3))


def test_backend_int_shape_in_a_package_helper_reads_the_torch_tensor(tmp_path, capsys, monkeypatch):
    package = _package(tmp_path, monkeypatch)
    source = package / "tiny_mobilenet_v2.py"
    source.write_text(PADDED_BY_SHAPE)
    out = tmp_path / "keras2_torch.py"
    assert cli.main(["translate", f"{source}:TinyMobileNetV2Keras2", "--to", "torch", "-o", str(out)]) == 0
    text = out.read_text()
    assert "input_size = tuple(inputs.shape)[img_dim : (img_dim + 2)]" in text and "TODO(tensorlint)" not in text
    original, translated = _import(source), _import(out)
    for size in (9, 10):  # compared with the Keras 3 builder that pads the same way (same layer names)
        _equal(original.TinyMobileNetV2(input_shape=(size, size, 3)), translated, translated.TinyMobileNetV2Keras2(),
               (2, size, size, 3))


def test_a_package_helper_using_keras_beyond_shape_queries_is_a_todo(tmp_path, capsys, monkeypatch):
    package = _package(tmp_path, monkeypatch)
    source = package / "tiny_mobilenet_v2.py"
    source.write_text(PADDED_BY_SHAPE)
    out = tmp_path / "needs_keras_torch.py"
    assert cli.main(["translate", f"{source}:NeedsKeras", "--to", "torch", "-o", str(out)]) == 0
    text = out.read_text()
    assert "# TODO(tensorlint): pad_utils.needs_keras() of pad_utils.py uses keras.backend.is_keras_tensor " \
           "(no PyTorch counterpart here): write it for torch tensors" in text, text
    assert "1 TODO" in capsys.readouterr().err


PADDED_BY_ARGUMENT = """\
import keras
from keras import layers


def Padded(input_shape=(5, 6, 2), padding=((1, 2), (0, 3)), padding_1d=(2, 1)):
    inputs = layers.Input(shape=input_shape)
    x = layers.ZeroPadding2D(padding=padding)(inputs)
    x = layers.Reshape((-1, input_shape[-1]))(x)
    x = layers.ZeroPadding1D(padding=padding_1d)(x)
    return keras.Model(inputs, x)
"""


@pytest.mark.parametrize("padding, padding_1d", [(((1, 2), (0, 3)), (2, 1)), (2, 3), ((1, 3), (0, 2))])
def test_keras_padding_known_when_the_model_is_built_is_converted_for_torch(tmp_path, capsys, padding, padding_1d):
    """An int, one int per axis, or (before, after) pairs: Keras's order is not torch's (last axis first)."""
    original, translated, text, _ = _translate(PADDED_BY_ARGUMENT, "Padded", tmp_path, capsys)
    assert "nn.ZeroPad2d(keras_padding(padding, 2))" in text and "TODO(tensorlint)" not in text, text
    _equal(original.Padded(padding=padding, padding_1d=padding_1d), translated,
           translated.Padded(padding=padding, padding_1d=padding_1d), (2, 5, 6, 2))
