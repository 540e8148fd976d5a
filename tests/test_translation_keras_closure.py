"""Keras -> PyTorch of Keras Layer/Model subclasses as real code writes them: build() reading the input shape,
add_weight, sublayers created in __init__ and in build(), lists of layers, registration decorators, get_config, and
real keras-hub layers. Each test runs `tensorlint translate -o FILE`, imports that file as a fresh module (exactly
what a user gets), copies the weights with its runtime copy_weights and compares the numbers."""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from tensorlint.server import cli
from translation_harness import (
    import_file as _import, assert_close, assert_translation_matches, random_input, run_torch,
)

ROOT = Path(__file__).resolve().parents[1]



def _translate(path: Path, symbol: str, tmp_path, capsys):
    out = tmp_path / f"{symbol}_torch.py"
    code = cli.main(["translate", f"{path}:{symbol}", "--to", "torch", "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 0, err
    return _import(out), out.read_text(), err


def _equal(source_layer, translated, target_module, inputs):
    assert_translation_matches(source_layer, target_module, translated.copy_weights, inputs, "torch")


CUSTOM = """\
import keras
from keras import layers, ops


@keras.saving.register_keras_serializable()
class RMSNorm(keras.layers.Layer):
    def __init__(self, epsilon=1e-6, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = epsilon

    def build(self, input_shape):
        self.scale = self.add_weight(name="scale", shape=(input_shape[-1],), initializer="ones")
        self.shift = self.add_weight(shape=(input_shape[-1],), initializer="zeros", name="offset")
        self.built = True

    def call(self, x):
        variance = ops.mean(ops.square(x), axis=-1, keepdims=True)
        return x * ops.rsqrt(variance + self.epsilon) * self.scale + self.shift

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}


class Block(keras.layers.Layer):
    def __init__(self, hidden, rate=0.1, **kwargs):
        super().__init__(**kwargs)
        self.hidden = hidden
        self.dense_in = layers.Dense(hidden, activation="gelu")
        self.dropout = layers.Dropout(rate)
        self.norm = RMSNorm(name="rms")

    def build(self, input_shape):
        self.dense_out = layers.Dense(input_shape[-1])
        self.dense_out.build((None, self.hidden))
        self.layer_norm = keras.layers.LayerNormalization(epsilon=1e-5)
        self.layer_norm.build(input_shape)
        self.norm.build(input_shape)
        self.extra = [layers.Dense(input_shape[-1]) for _ in range(2)]

    def call(self, x, training=None):
        h = self.dense_out(self.dropout(self.dense_in(self.norm(x)), training=training))
        for layer in self.extra:
            h = layer(h)
        return self.layer_norm(x + h)


class Scaled(layers.Layer):
    def build(self, input_shape):
        self.inner = layers.Dense(4)
        self.proj = layers.Dense(input_shape[-1])
        self.scale = self.add_weight(shape=(input_shape[-1],), initializer="ones")
        self.built = True

    def call(self, x):
        return self.proj(self.inner(x)) * self.scale
"""


@pytest.fixture
def custom(tmp_path):
    path = tmp_path / "custom_layers.py"
    path.write_text(CUSTOM)
    return path, _import(path)


def test_build_with_add_weight_becomes_parameters_built_on_the_first_call(custom, tmp_path, capsys):
    path, original = custom
    translated, text, err = _translate(path, "RMSNorm", tmp_path, capsys)
    assert "0 TODOs" in err and "TODO(tensorlint)" not in text
    assert "class RMSNorm(KerasLayer):" in text and "def get_config" not in text and "\n@keras" not in text
    assert "register_keras_serializable" in err  # the dropped decorator is a note
    target = translated.RMSNorm()
    _equal(original.RMSNorm(), translated, target, [random_input((2, 5, 8))])
    assert sorted(name for name, _ in target.named_parameters()) == ["scale", "shift"]


def test_sublayers_from_init_and_build_lists_and_nested_custom_layers_mirror_the_tree(custom, tmp_path, capsys):
    path, original = custom
    translated, text, err = _translate(path, "Block", tmp_path, capsys)
    assert "TODO(tensorlint)" not in text, text
    assert "class RMSNorm(KerasLayer):" in text  # reached from Block: the closure came along
    target = translated.Block(16)
    _equal(original.Block(16), translated, target, [random_input((2, 5, 8))])
    modules = dict(target.named_modules())
    assert {"dense_in", "dropout", "norm", "dense_out", "layer_norm", "extra.0", "extra.1"} <= set(modules)


def test_build_reading_the_input_shape_and_adding_weights_translates(custom, tmp_path, capsys):
    """build() used to become counted TODOs (the old generator could not size torch modules from the shape)."""
    path, original = custom
    translated, text, _ = _translate(path, "Scaled", tmp_path, capsys)
    assert "TODO(tensorlint)" not in text
    _equal(original.Scaled(), translated, translated.Scaled(), [random_input((2, 3, 6))])


def test_an_unpaired_keras_weight_fails_loudly(custom, tmp_path, capsys):
    path, original = custom
    translated, _, _ = _translate(path, "RMSNorm", tmp_path, capsys)
    source, target = original.RMSNorm(), translated.RMSNorm()
    x = random_input((2, 8))
    source(x)
    run_torch(target, [x])
    del target.shift  # a translation missing a weight the source has
    with pytest.raises(ValueError, match="not copied"):
        translated.copy_weights(source, target)


# -- subclasses of a Keras layer the catalog maps ------------------------------------------------------------------
ATTENTION = """\
import keras
from keras import ops


class CachedAttention(keras.layers.MultiHeadAttention):
    \"\"\"keras-hub's CachedMultiHeadAttention, reduced: Keras's private projections, _compute_attention and
    a key/value cache updated with ops.slice_update.\"\"\"

    def call(self, query, value, attention_mask=None, cache=None, cache_update_index=None, training=None):
        query = self._query_dense(query)
        if cache is not None:
            start = [0, cache_update_index, 0, 0]
            key = ops.slice_update(cache[:, 0, ...], start, self._key_dense(value))
            value = ops.slice_update(cache[:, 1, ...], start, self._value_dense(value))
            cache = ops.stack((key, value), axis=1)
        else:
            key, value = self._key_dense(value), self._value_dense(value)
        output, _ = self._compute_attention(query=query, key=key, value=value, attention_mask=attention_mask,
                                            training=training)
        output = self._output_dense(output)
        return output if cache is None else (output, cache)


class Decoder(keras.layers.Layer):
    def __init__(self, num_heads=2, **kwargs):
        super().__init__(**kwargs)
        self.num_heads = num_heads

    def build(self, sequence_shape):
        self.attention = CachedAttention(num_heads=self.num_heads, key_dim=sequence_shape[-1] // self.num_heads,
                                         name="self_attention")
        self.attention.build(query_shape=sequence_shape, value_shape=sequence_shape)

    def call(self, x, cache=None, cache_update_index=None, offset=0):
        length = ops.shape(x)[1]
        rows = ops.arange(length, dtype="float32") + ops.cast(offset, "float32")  # a Python int cast
        total = length if cache is None else ops.shape(cache)[2]
        mask = ops.expand_dims(rows, 1) >= ops.arange(total, dtype="float32")
        return self.attention(x, x, attention_mask=mask[None], cache=cache, cache_update_index=cache_update_index)


class Gated(keras.layers.MultiHeadAttention):
    \"\"\"No override: the base's own call (masks, causal mask, attention scores, gate, output_shape).\"\"\"
"""


@pytest.fixture
def attention(tmp_path):
    path = tmp_path / "attention_layers.py"
    path.write_text(ATTENTION)
    return path, _import(path)


def test_a_subclass_of_multi_head_attention_gets_keras_private_api_and_slice_update(attention, tmp_path, capsys):
    path, original = attention
    translated, text, _ = _translate(path, "Decoder", tmp_path, capsys)
    assert "TODO(tensorlint)" not in text, text
    assert "class CachedAttention(KerasMultiHeadAttentionLayer):" in text
    source, target = original.Decoder(), translated.Decoder()
    x = random_input((2, 5, 8))
    _equal(source, translated, target, [x])
    # the cache path: one new token written at index 3 of a 5-long cache (Keras's slice_update)
    cache, token = random_input((2, 2, 5, 2, 4), seed=3), random_input((2, 1, 8), seed=4)
    expected_output, expected_cache = source(token, cache=cache, cache_update_index=3, offset=3)
    target.eval()
    with torch.no_grad():
        output, updated = target(torch.from_numpy(token), cache=torch.from_numpy(cache), cache_update_index=3,
                                 offset=3)
    assert_close(output.numpy(), np.asarray(expected_output))
    assert_close(updated.numpy(), np.asarray(expected_cache))


@pytest.mark.parametrize("kwargs, call", [
    ({}, {"use_causal_mask": True}),
    ({"use_gate": True, "output_shape": 6}, {"attention_mask": "padding"}),
    ({}, {"attention_mask": "padding", "return_attention_scores": True}),
    ({"value_dim": 3}, {"key": "key", "use_causal_mask": True, "attention_mask": "padding"}),
])
def test_the_multi_head_attention_base_computes_what_keras_does(attention, kwargs, call, tmp_path, capsys):
    path, original = attention
    translated, text, _ = _translate(path, "Gated", tmp_path, capsys)
    assert "TODO(tensorlint)" not in text, text
    query, value, key = random_input((2, 5, 8)), random_input((2, 5, 8), seed=1), random_input((2, 5, 8), seed=2)
    padding = np.array([[[True, True, False, True, False]] * 5, [[True] * 5] * 5])
    arguments = {"padding": padding, "key": key}
    keras_call = {name: arguments.get(value, value) if isinstance(value, str) else value
                  for name, value in call.items()}
    source = original.Gated(num_heads=2, key_dim=4, **kwargs)
    target = translated.Gated(num_heads=2, key_dim=4, **kwargs)
    expected = source(query, value, **keras_call)
    target(torch.from_numpy(query), torch.from_numpy(value))
    translated.copy_weights(source, target)
    target.eval()
    with torch.no_grad():
        actual = target(torch.from_numpy(query), torch.from_numpy(value),
                        **{name: torch.from_numpy(value) if isinstance(value, np.ndarray) else value
                           for name, value in keras_call.items()})
    for got, want in zip(actual if isinstance(actual, tuple) else [actual],
                         expected if isinstance(expected, tuple) else [expected]):
        assert_close(got.numpy(), np.asarray(want))


def test_subclassing_another_catalogued_keras_layer_is_a_todo_naming_what_is_missing(tmp_path, capsys):
    path = tmp_path / "scaled_dense.py"
    path.write_text("import keras\n\n\nclass ScaledDense(keras.layers.Dense):\n    def call(self, x):\n"
                    "        return super().call(x) * 2.0\n")
    _, text, err = _translate(path, "ScaledDense", tmp_path, capsys)
    assert "1 TODO" in err
    assert "# TODO(tensorlint): base class keras.layers.Dense: the catalog maps constructing it, not subclassing " \
           "it" in text


# -- functional Model subclasses ----------------------------------------------------------------------------------
FUNCTIONAL_PACKAGE = {
    "backbone.py": """\
import keras

from pkg.presets import load_preset


class Backbone(keras.Model):
    \"\"\"keras-hub's Backbone, reduced: Keras's attribute tracking, dtype policies, presets.\"\"\"

    def __init__(self, *args, dtype=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._functional_layer_ids = set(id(layer) for layer in self._flatten_layers())
        self._initialized = True
        if dtype is not None:
            self.dtype_policy = keras.dtype_policies.get(dtype)

    def __setattr__(self, name, value):
        if keras.config.backend() == "torch" and not hasattr(self, "_initialized"):
            return object.__setattr__(self, name, value)
        return super().__setattr__(name, value)

    @classmethod
    def from_preset(cls, preset):
        return load_preset(cls, preset)
""",
    "presets.py": """\
import keras


def load_preset(cls, preset):
    return keras.saving.load_model(preset)
""",
    "tiny.py": """\
import keras
from keras import layers

from pkg.backbone import Backbone


class TinyBackbone(Backbone):
    def __init__(self, filters, image_shape=(None, None, 3), pool=True, **kwargs):
        images = keras.Input(shape=image_shape)
        x = conv_block(images, filters[0])
        if len(filters) > 1:
            x = layers.Conv2D(filters[1], 1)(x)
        if pool:
            x = layers.GlobalAveragePooling2D()(x)
        super().__init__(inputs=images, outputs=x, **kwargs)
        self.filters = filters
        self.image_shape = image_shape

    def get_config(self):
        return {"filters": self.filters, "image_shape": self.image_shape}


def conv_block(x, filters):
    x = layers.Conv2D(filters, 3, padding="same")(x)
    x = layers.BatchNormalization()(x)
    return layers.ReLU()(x)
""",
}


@pytest.fixture
def functional_package(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").touch()
    for name, text in FUNCTIONAL_PACKAGE.items():
        (tmp_path / "pkg" / name).write_text(text)
    sys.path.insert(0, str(tmp_path))
    yield tmp_path / "pkg" / "tiny.py"
    sys.path.remove(str(tmp_path))
    for name in [n for n in sys.modules if n == "pkg" or n.startswith("pkg.")]:
        del sys.modules[name]


def test_a_functional_model_subclass_builds_its_graph_in_init_and_replays_it_in_forward(functional_package,
                                                                                         tmp_path, capsys):
    """`class TinyBackbone(Backbone)` (Backbone, a keras.Model, in another file of the package) builds a graph from
    keras.Input in __init__ and hands it to super().__init__(inputs, outputs): translated as the functional
    builders are (helpers inlined, `if`s on the arguments decided with --init-args), the base class reduced to what
    a torch module needs."""
    out = tmp_path / "tiny_torch.py"
    code = cli.main(["translate", f"{functional_package}:TinyBackbone", "--to", "torch", "-o", str(out),
                     "--init-args", "filters=[4, 8], image_shape=(8, 8, 3)"])
    err = capsys.readouterr().err
    assert code == 0, err
    text = out.read_text()
    assert "TODO(tensorlint)" not in text, text
    assert "class Backbone(KerasLayer):" in text and "class TinyBackbone(Backbone):" in text
    assert "def forward(self, images):" in text
    # the Keras Model API of the base (and what only it reached) is dropped, the graph's helper inlined
    backbone = text.split("class Backbone(KerasLayer):")[1].split("\nclass ")[0]
    assert "from_preset" not in backbone and "__setattr__" not in backbone and "load_preset" not in text
    assert "def conv_block" not in text
    translated = _import(out)
    from pkg.tiny import TinyBackbone

    arguments = {"filters": [4, 8], "image_shape": (8, 8, 3), "dtype": "float32"}
    target = translated.TinyBackbone(**arguments)
    _equal(TinyBackbone(**arguments), translated, target, [random_input((2, 8, 8, 3))])
    assert target.filters == [4, 8] and target.dtype_policy.name == "float32"
    with pytest.raises(ValueError, match="len\\(filters\\) > 1"):
        translated.TinyBackbone(filters=[4])  # the graph was decided for two stages


def test_a_keras_class_whose_base_is_in_another_file_is_a_translatable_symbol(functional_package, capsys):
    code = cli.main(["translate", f"{functional_package}:TinyBackbone", "--to", "torch",
                     "--init-args", "filters=[4]"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "class TinyBackbone(Backbone):" in captured.out and "self.conv2d_1" not in captured.out


# -- real keras-hub code ------------------------------------------------------------------------------------------
KERAS_HUB_FILES = ("keras_hub/src/layers/modeling/rms_normalization.py",
                   "keras_hub/src/layers/modeling/position_embedding.py",
                   "keras_hub/src/layers/modeling/transformer_encoder.py",
                   "keras_hub/src/layers/modeling/f_net_encoder.py",
                   "keras_hub/src/layers/modeling/token_and_position_embedding.py",
                   "keras_hub/src/layers/modeling/transformer_decoder.py",
                   "keras_hub/src/layers/modeling/cached_multi_head_attention.py",
                   "keras_hub/src/layers/modeling/transformer_layer_utils.py", "keras_hub/src/utils/keras_utils.py",
                   "keras_hub/src/api_export.py", "keras_hub/src/vllm/context.py", "keras_hub/src/vllm/attention.py")


@pytest.fixture(scope="module")
def keras_hub_src(tmp_path_factory):
    """keras-hub 0.32.0's files, verbatim from its wheel (pip download; skipped when the index is unreachable).
    The package __init__ files are left empty: the real ones import the whole library (tokenizers and more), and
    only these layers are under test."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from corpus import PINNED_WHEELS, download_wheel
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    into = tmp_path_factory.mktemp("wheels")
    try:
        wheel = download_wheel("keras-hub", PINNED_WHEELS["keras-hub"], into)
    except SystemExit as exc:
        pytest.skip(f"keras-hub wheel not available: {exc}")
    root = tmp_path_factory.mktemp("keras_hub_src")
    with zipfile.ZipFile(wheel) as archive:
        for name in KERAS_HUB_FILES:
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_bytes(archive.read(name))
    for folder in {p for name in KERAS_HUB_FILES for p in (root / name).parents if root in p.parents}:
        (folder / "__init__.py").touch()
    sys.path.insert(0, str(root))
    yield root
    sys.path.remove(str(root))
    for name in [n for n in sys.modules if n == "keras_hub" or n.startswith("keras_hub.")]:
        del sys.modules[name]


@pytest.mark.parametrize("symbol, file, args, shape, tokens", [
    ("RMSNormalization", "rms_normalization.py", {"input_dim": 8}, (2, 5, 8), None),
    ("PositionEmbedding", "position_embedding.py", {"sequence_length": 5}, (2, 5, 8), None),
    ("TransformerEncoder", "transformer_encoder.py", {"intermediate_dim": 16, "num_heads": 2}, (2, 5, 8), None),
    ("FNetEncoder", "f_net_encoder.py", {"intermediate_dim": 16}, (2, 5, 8), None),
    # CachedMultiHeadAttention subclasses keras.layers.MultiHeadAttention: the runtime KerasMultiHeadAttentionLayer
    ("TransformerDecoder", "transformer_decoder.py", {"intermediate_dim": 16, "num_heads": 2}, (2, 5, 8), None),
    # keras.layers.ReversibleEmbedding inside, through the runtime KerasReversibleEmbedding
    ("TokenAndPositionEmbedding", "token_and_position_embedding.py",
     {"vocabulary_size": 20, "sequence_length": 5, "embedding_dim": 8}, (2, 5), 20),
])
def test_real_keras_hub_layer(keras_hub_src, symbol, file, args, shape, tokens, tmp_path, capsys):
    path = keras_hub_src / "keras_hub/src/layers/modeling" / file
    original = _import(path)
    translated, text, err = _translate(path, symbol, tmp_path, capsys)
    assert "TODO(tensorlint)" not in text, text
    assert "keras_hub" not in text.split("class KerasLayer")[0]  # nothing imports keras_hub or keras
    assert "import keras" not in text.replace("    import keras\n", "")  # copy_weights imports it when run
    target = getattr(translated, symbol)(**args)
    _equal(getattr(original, symbol)(**args), translated, target, [random_input(shape, integers=tokens)])


def test_position_embedding_start_index_runs_as_in_keras(keras_hub_src, tmp_path, capsys):
    path = keras_hub_src / "keras_hub/src/layers/modeling/position_embedding.py"
    original = _import(path).PositionEmbedding(sequence_length=6)
    translated, _, _ = _translate(path, "PositionEmbedding", tmp_path, capsys)
    target = translated.PositionEmbedding(sequence_length=6)
    x = random_input((2, 3, 4))
    _equal(original, translated, target, [x])
    expected = np.asarray(original(x, start_index=2))
    with torch.no_grad():
        actual = target(torch.from_numpy(x), start_index=2).numpy()
    assert_close(actual, expected)


def test_transformer_encoder_padding_mask_blocks_the_same_tokens(keras_hub_src, tmp_path, capsys):
    """Keras's padding_mask says which tokens may be attended (True); the translation must mask the same ones."""
    path = keras_hub_src / "keras_hub/src/layers/modeling/transformer_encoder.py"
    original = _import(path).TransformerEncoder(intermediate_dim=16, num_heads=2)
    translated, _, _ = _translate(path, "TransformerEncoder", tmp_path, capsys)
    target = translated.TransformerEncoder(intermediate_dim=16, num_heads=2)
    x = random_input((2, 5, 8))
    _equal(original, translated, target, [x])
    mask = np.array([[True, True, True, False, False], [True, True, True, True, True]])
    expected = np.asarray(original(x, padding_mask=mask))
    target.eval()
    with torch.no_grad():
        actual = target(torch.from_numpy(x), padding_mask=torch.from_numpy(mask)).numpy()
    assert_close(actual, expected)
