"""What `tensorlint translate` prints always parses and imports: reduced repros of the failures the translate sweep
(benchmarks/translate_sweep.py, docs/translate-sweep.md) found in the pinned wheels. Each test runs `tensorlint
translate -o FILE`, imports that file as a fresh module (exactly what a user gets) and runs it."""

from __future__ import annotations

import importlib
import importlib.util
import sys
import textwrap

import pytest

from tensorlint.server import cli
from translation_harness import (
    import_file as _import, assert_close, assert_translation_matches, random_input, run_torch,
)



def _translate(tmp_path, source: str, symbol: str, to: str, capsys):
    original = tmp_path / "model.py"
    original.write_text(textwrap.dedent(source))
    out = tmp_path / f"{symbol}_{to}.py"
    code = cli.main(["translate", f"{original}:{symbol}", "--to", to, "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 0, err
    return _import(original), _import(out), out.read_text()


def test_torch_assert_with_a_message_over_several_lines_becomes_an_assert_that_parses(tmp_path, capsys):
    # torchvision detection (AnchorGenerator, GeneralizedRCNN, RPN, SSD, FCOS): the call's parentheses held the
    # implicitly concatenated message; the assert statement printed it bare ("internal error: does not parse")
    source = """\
        import torch
        from torch import nn


        class Head(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, 2)

            def forward(self, x):
                torch._assert(
                    x.shape[-1] == 4,
                    "the last dimension must be 4 "
                    "(the number of features)",
                )
                return self.fc(x)
        """
    original, translated, text = _translate(tmp_path, source, "Head", "keras", capsys)
    assert "assert x.shape[-1] == 4" in text
    model, keras_model = original.Head(), translated.Head()
    assert_translation_matches(model, keras_model, translated.copy_weights, [random_input((2, 4))], to="keras")
    with pytest.raises(AssertionError, match=r"the last dimension must be 4 \(the number of features\)"):
        keras_model(random_input((2, 3)))


def test_a_todo_quoting_code_over_several_lines_stays_one_comment_line(tmp_path, capsys):
    # torchvision RetinaNet heads: `gt_classes_target[\n idxs,\n ...] = 1.0` quoted in the in-place TODO broke the
    # comment node (CSTValidationError: a crash)
    source = """\
        import torch
        from torch import nn


        class Head(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, 2)

            def forward(self, x):
                y = self.fc(x)
                y[
                    :,
                    0,
                ] = 0.0
                return y
        """
    _, translated, text = _translate(tmp_path, source, "Head", "keras", capsys)
    todo_lines = [line.strip() for line in text.splitlines() if "# TODO(tensorlint)" in line]
    assert todo_lines == ["# TODO(tensorlint): `y[ :, 0, ] = ...` assigns into a tensor in place; Keras tensors are "
                          "immutable: build the new tensor out of place (keras.ops.where, keras.ops.slice_update) "
                          "and rebind it (torch's write also changes the tensor's views and aliases)"]
    assert callable(translated.copy_weights)


_NESTED_HELPERS = """\
    import keras
    from keras import layers


    def conv_block(x, name):
        return layers.Dense(4, activation="relu", name=name + "_dense")(x)


    def dense_block(x, blocks, name):
        for i in range(blocks):
            x = conv_block(x, name=f"{name}_block{i + 1}")
        return x


    def build():
        inputs = keras.Input((4,))
        x = dense_block(inputs, 2, name="conv2")
        return keras.Model(inputs, x)
    """


def test_an_inlined_helper_argument_inside_an_f_string_keeps_the_f_string_valid(tmp_path, capsys):
    # keras.applications DenseNet: dense_block(x, blocks, name="conv2") inlined into the builder wrote
    # f"{"conv2"}_block{i + 1}", a SyntaxError before Python 3.12 (the module did not parse)
    _, translated, text = _translate(tmp_path, _NESTED_HELPERS, "build", "torch", capsys)
    # the unrolled loop folds the f-string into each layer's name (before that, the f-string stayed, requoted)
    assert "self.conv2_block1_dense" in text and "self.conv2_block2_dense" in text
    assert callable(translated.build)


def test_a_layer_helper_called_in_a_loop_of_an_inlined_helper_runs(tmp_path, capsys):
    original, translated, _ = _translate(tmp_path, _NESTED_HELPERS, "build", "torch", capsys)
    keras_model, torch_model = original.build(), translated.build()
    assert_translation_matches(keras_model, torch_model, translated.copy_weights, [random_input((2, 4))], to="torch")


def test_torch_types_in_a_class_annotations_table_and_a_torch_default_do_not_break_the_import(tmp_path, capsys):
    # torchvision AnchorGenerator / RPN / FCOS / RetinaNet: `__annotations__ = {"cell_anchors": List[torch.Tensor]}`
    # in the class body and `device: torch.device = torch.device("cpu")` defaults are evaluated at import: the
    # Keras module imports no torch (NameError torch)
    source = """\
        import torch
        from torch import nn


        class Head(nn.Module):
            __annotations__ = {
                "cell_anchors": list[torch.Tensor],
            }

            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, 2)

            def offsets(self, n: int, device: torch.device = torch.device("cpu")) -> list[torch.Tensor]:
                return [torch.zeros(n, device=device)]

            def forward(self, x):
                return self.fc(x)
        """
    original, translated, text = _translate(tmp_path, source, "Head", "keras", capsys)
    assert "\"cell_anchors\": 'list[torch.Tensor]'," in text
    assert "device: 'torch.device' = None" in text
    assert "# TODO(tensorlint): the default `device=torch.device(\"cpu\")` has no Keras counterpart: None stands " \
           "in for it" in text
    model, keras_model = original.Head(), translated.Head()
    assert_translation_matches(model, keras_model, translated.copy_weights, [random_input((2, 4))], to="keras")


def test_an_annotation_naming_a_relatively_imported_module_becomes_a_forward_reference(tmp_path, capsys):
    # torchvision detection/backbone_utils._mobilenet_extractor: `backbone: Union[mobilenet.MobileNetV2, ...]` with
    # `from .. import mobilenet` (a module, not inlined): NameError mobilenet at import
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "blocks.py").write_text("from torch import nn\n\n\nclass Stem(nn.Sequential):\n    pass\n")
    (package / "model.py").write_text(textwrap.dedent("""\
        from typing import Union

        from torch import nn

        from . import blocks


        class Head(nn.Module):
            def __init__(self, stem: Union[blocks.Stem, nn.Identity, None] = None):
                super().__init__()
                self.fc = nn.Linear(4, 2)

            def forward(self, x):
                return self.fc(x)
        """))
    out = tmp_path / "Head_keras.py"
    assert cli.main(["translate", f"{package / 'model.py'}:Head", "--to", "keras", "-o", str(out)]) == 0, \
        capsys.readouterr().err
    text = out.read_text()
    assert "stem: 'Union[blocks.Stem, nn.Identity, None]' = None" in text
    translated = _import(out)
    x = random_input((2, 4))
    assert tuple(translated.Head()(x).shape) == (2, 2)


def test_a_class_provided_by_a_relative_star_import_comes_along(tmp_path, capsys):
    # timm layers/create_act.py: `from .activations import *` provides Mish, Swish...; the tables of activation
    # layers named them but the star import was not followed (NameError Mish at import, 0 TODOs)
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "activations.py").write_text(textwrap.dedent("""\
        import torch
        from torch import nn


        class Swish(nn.Module):
            def forward(self, x):
                return x * torch.sigmoid(x)


        class _Private(nn.Module):
            pass
        """))
    (package / "model.py").write_text(textwrap.dedent("""\
        from torch import nn

        from .activations import *

        _ACTIVATIONS = dict(swish=Swish, relu=nn.ReLU)


        class Head(nn.Module):
            def __init__(self, act="swish"):
                super().__init__()
                self.fc = nn.Linear(4, 2)
                self.act = _ACTIVATIONS[act]()

            def forward(self, x):
                return self.act(self.fc(x))
        """))
    out = tmp_path / "Head_keras.py"
    assert cli.main(["translate", f"{package / 'model.py'}:Head", "--to", "keras", "-o", str(out)]) == 0, \
        capsys.readouterr().err
    text = out.read_text()
    assert "class Swish(" in text and "_Private" not in text and "import *" not in text
    sys.path.insert(0, str(tmp_path))
    try:
        original = importlib.import_module("pkg.model")
    finally:
        sys.path.remove(str(tmp_path))
        for name in [n for n in sys.modules if n == "pkg" or n.startswith("pkg.")]:
            del sys.modules[name]  # other tests build their own `pkg` in their own folder
    translated = _import(out)
    model, keras_model = original.Head(), translated.Head()
    assert_translation_matches(model, keras_model, translated.copy_weights, [random_input((2, 4))], to="keras")


def test_a_value_bound_once_in_a_comprehension_iterable_is_a_lambda_argument(tmp_path, capsys):
    # timm deepseek_vit / csatv2: `[x.tolist() for x in torch.linspace(...).split(depths)]`: torch.split with a
    # size that is not a literal binds its input once with `:=`, illegal in a comprehension's iterable
    source = """\
        import torch
        from torch import nn


        class Head(nn.Module):
            def __init__(self, pieces=2):
                super().__init__()
                self.pieces = pieces
                self.fc = nn.Linear(4, 4)

            def forward(self, x):
                return [p.sum() for p in torch.split(self.fc(x), self.pieces, dim=1)]
        """
    original, translated, text = _translate(tmp_path, source, "Head", "keras", capsys)
    assert "(lambda split_input: keras.ops.split(split_input, " in text
    model, keras_model = original.Head(), translated.Head()
    assert_translation_matches(model, keras_model, translated.copy_weights, [random_input((2, 4))], to="keras")


def test_a_torch_decorator_and_a_torch_class_in_a_module_table_do_not_break_the_import(tmp_path, capsys):
    # timm shvit / nextvit: `@torch.no_grad()` on fuse() is applied at import (NameError torch); timm create_norm:
    # `_NORM_MAP = dict(frozenbatchnorm2d=FrozenBatchNorm2d, ...)` with torchvision's class (NameError)
    source = """\
        import torch
        from torch import nn

        _NORMS = dict(batchnorm=nn.BatchNorm1d, pooled=nn.FractionalMaxPool2d)


        class Head(nn.Module):
            def __init__(self, norm="batchnorm"):
                super().__init__()
                self.fc = nn.Linear(4, 2)
                self.norm = _NORMS[norm](2)

            @torch.no_grad()
            def fuse(self):
                return self.fc

            def forward(self, x):
                return self.norm(self.fc(x))
        """
    original, translated, text = _translate(tmp_path, source, "Head", "keras", capsys)
    assert "# TODO(tensorlint): @torch.no_grad() has no Keras counterpart: dropped" in text
    assert "# TODO(tensorlint): torch.nn.FractionalMaxPool2d used as a value has no Keras counterpart: None " \
           "stands in for it" in text
    assert "_NORMS = dict(batchnorm=torch_BatchNorm1d, pooled=None)" in text
    model, keras_model = original.Head().eval(), translated.Head()
    assert_translation_matches(model, keras_model, translated.copy_weights, [random_input((2, 4))], to="keras")


def test_a_package_module_import_left_relative_is_commented_under_a_todo(tmp_path, capsys):
    # keras-hub models/backbone.py: `from keras_hub.src.utils import tensor_utils` (a module, not a name: the
    # closure cannot inline it) came out as `from ....keras_hub.src.utils import tensor_utils`, which a standalone
    # file cannot import (ImportError: attempted relative import with no known parent package)
    package = tmp_path / "pkg"
    (package / "utils").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "utils" / "__init__.py").write_text("")
    (package / "utils" / "helpers.py").write_text("def double(x):\n    return x * 2\n")
    (package / "model.py").write_text(textwrap.dedent("""\
        import keras
        from pkg.utils import helpers


        class Scale(keras.layers.Layer):
            def call(self, x):
                return helpers.double(x)
        """))
    out = tmp_path / "Scale_torch.py"
    assert cli.main(["translate", f"{package / 'model.py'}:Scale", "--to", "torch", "-o", str(out)]) == 0, \
        capsys.readouterr().err
    text = out.read_text()
    assert "import helpers`: a standalone module cannot import relatively: translate that module too" in text
    translated = _import(out)
    with pytest.raises(NameError, match="helpers"):
        translated.Scale()(random_input((2, 4)))


def test_a_keras_module_used_as_a_value_at_module_level_does_not_break_the_import(tmp_path, capsys):
    # keras-hub stable_diffusion_3/mmdit.py: `if hasattr(layers, "RMSNormalization"): ... else: class ...` at module
    # level kept `layers`, which the torch module does not import (NameError layers)
    source = """\
        import keras
        from keras import layers

        _HAS_LAYER = hasattr(layers, "NoSuchLayer")


        class Scale(keras.layers.Layer):
            def call(self, x):
                return x * (1.0 if _HAS_LAYER else 2.0)
        """
    _, translated, text = _translate(tmp_path, source, "Scale", "torch", capsys)
    assert "keras.layers used as a value has no PyTorch counterpart: None stands in for it" in text
    assert '_HAS_LAYER = hasattr(None, "NoSuchLayer")' in text
    x = random_input((2, 4))
    assert_close(run_torch(translated.Scale(), [x]), x * 2.0)


def test_a_keras_registration_decorator_on_a_function_is_dropped(tmp_path, capsys):
    # keras-hub siglip_layers.py: `@keras.saving.register_keras_serializable(package=...)` on gelu_approximate() was
    # kept, and applied at import where no Keras is (NameError keras)
    source = """\
        import keras


        @keras.saving.register_keras_serializable(package="demo")
        def doubled(x):
            return x * 2.0


        class Scale(keras.layers.Layer):
            def call(self, x):
                return doubled(x)
        """
    _, translated, text = _translate(tmp_path, source, "Scale", "torch", capsys)
    assert "# tensorlint: @keras.saving.register_keras_serializable (Keras) dropped\ndef doubled(x):" in text
    x = random_input((2, 4))
    assert_close(run_torch(translated.Scale(), [x]), x * 2.0)


def test_an_optional_tensorflow_import_stays_an_import_in_the_torch_translation(tmp_path, capsys):
    # keras-hub t5gemma: `try: import tensorflow as tf / except ImportError: tf = None` at module level, used by a
    # helper of the layer: the names were rewritten to `import tensorflow as None` / `None = None`, and translate
    # crashed on its own output (ParserSyntaxError)
    source = """\
        import keras

        try:
            import tensorflow as tf
        except ImportError:
            tf = None


        def have_tensorflow():
            return tf is not None


        class Scale(keras.layers.Layer):
            def call(self, x):
                if have_tensorflow():
                    return x * 2.0
                return x * 2.0
        """
    _, translated, text = _translate(tmp_path, source, "Scale", "torch", capsys)
    assert "import tensorflow as tf" in text and "None = None" not in text
    x = random_input((2, 4))
    assert_close(run_torch(translated.Scale(), [x]), x * 2.0)


def test_a_class_a_package_init_provides_by_a_star_import_comes_along(tmp_path, capsys):
    # timm models/efficientvit_mit.py: `from timm.layers import GELUTanh`, which timm/layers/__init__.py provides
    # through `from .activations import *`; the import was kept as written (ModuleNotFoundError: timm)
    package = tmp_path / "starpkg"
    for folder in (package, package / "layers", package / "models"):
        folder.mkdir()
        (folder / "__init__.py").write_text("")
    (package / "layers" / "__init__.py").write_text("from .activations import *\n")
    (package / "layers" / "activations.py").write_text(textwrap.dedent("""\
        import torch
        from torch import nn


        class Swish(nn.Module):
            def forward(self, x):
                return x * torch.sigmoid(x)
        """))
    (package / "models" / "head.py").write_text(textwrap.dedent("""\
        from torch import nn

        from starpkg.layers import Swish


        class Head(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, 2)
                self.act = Swish()

            def forward(self, x):
                return self.act(self.fc(x))
        """))
    out = tmp_path / "Head_keras.py"
    assert cli.main(["translate", f"{package / 'models' / 'head.py'}:Head", "--to", "keras", "-o", str(out)]) == 0, \
        capsys.readouterr().err
    text = out.read_text()
    assert "class Swish(" in text and "starpkg" not in text
    sys.path.insert(0, str(tmp_path))
    try:
        original = importlib.import_module("starpkg.models.head")
    finally:
        sys.path.remove(str(tmp_path))
        for name in [n for n in sys.modules if n == "starpkg" or n.startswith("starpkg.")]:
            del sys.modules[name]
    translated = _import(out)
    assert_translation_matches(original.Head(), translated.Head(), translated.copy_weights, [random_input((2, 4))],
                               to="keras")


@pytest.mark.parametrize("source,symbol,to", [
    ("""\
        from torch import nn

        from .missing import (
            helper_a,
            helper_b,
        )


        class Head(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, 2)

            def forward(self, x):
                return self.fc(x)

            def init_weights(self, mode=""):
                from .vision_transformer import (
                    init_weights_vit_jax,
                    init_weights_vit_timm,
                )
                return init_weights_vit_jax if mode == "jax" else init_weights_vit_timm
        """, "Head", "keras"),
    ("""\
        import keras
        from keras import layers

        from .missing import (
            helper_a,
            helper_b,
        )


        class Head(layers.Layer):
            def __init__(self, **kwargs):
                super().__init__(**kwargs)
                self.dense = layers.Dense(2)

            def call(self, x):
                return self.dense(x)

            def helpers(self):
                return helper_a, helper_b
        """, "Head", "torch"),
])
def test_a_relative_import_over_several_lines_is_commented_on_one_line(tmp_path, capsys, source, symbol, to):
    # timm naflexvit.py: `from .vision_transformer import (\n init_weights_vit_jax,\n ...)` inside a method became
    # a TODO comment holding line breaks (CSTValidationError: a crash)
    original = tmp_path / "model.py"
    original.write_text(textwrap.dedent(source))
    out = tmp_path / f"{symbol}_{to}.py"
    assert cli.main(["translate", f"{original}:{symbol}", "--to", to, "-o", str(out)]) == 0, capsys.readouterr().err
    text = out.read_text()
    translated = _import(out)
    assert all(not line.strip().startswith(("helper_", "init_weights_vit")) for line in text.splitlines()), text
    assert "TODO(tensorlint)" in text and hasattr(translated, symbol)


def test_a_functional_model_subclass_with_a_multiline_super_call_translates(tmp_path, capsys):
    # keras-hub blip2 (BLIP2QFormer, BLIP2CustomOPT, BLIP2VisionEncoder): `super().__init__(\n inputs=...,\n
    # outputs=...,\n name=name,\n **kwargs,\n)` gave the torch base `super().__init__(name=name,\n, **kwargs)`
    # (ParserSyntaxError: a crash)
    source = """\
        import keras
        from keras import layers


        class Encoder(keras.Model):
            def __init__(self, units=3, name="encoder", **kwargs):
                inputs = keras.Input(shape=(4,))
                outputs = layers.Dense(units)(inputs)
                super().__init__(
                    inputs=inputs,
                    outputs=outputs,
                    name=name,
                    **kwargs,
                )
                self.units = units
        """
    original, translated, text = _translate(tmp_path, source, "Encoder", "torch", capsys)
    assert "super().__init__(name=name, **kwargs)" in text, text
    assert_translation_matches(original.Encoder(), translated.Encoder(), translated.copy_weights,
                               [random_input((2, 4))], to="torch")


def test_a_builder_whose_model_input_is_another_models_input_is_refused_with_a_message(tmp_path, capsys):
    # keras-hub basnet_rrm: `keras.Model(inputs=base_model.input, ...)` gave `def forward(self, base_model.input)`
    # (ParserSyntaxError: a crash); BLIP2FlanT5's dict of inputs the same. A clear refusal is a valid answer.
    source = textwrap.dedent("""\
        import keras
        from keras import layers


        def refine(base_model, filters=4):
            x = layers.Conv2D(filters, 3, padding="same")(base_model.output)
            return keras.Model(inputs=base_model.input, outputs=x)
        """)
    original = tmp_path / "model.py"
    original.write_text(source)
    code = cli.main(["translate", f"{original}:refine", "--to", "torch", "-o", str(tmp_path / "out.py")])
    assert code == 2
    assert "the model's inputs `base_model.input` are not names of keras.Input tensors" in capsys.readouterr().err


def test_a_keras_default_of_a_parameter_is_none_under_a_todo_in_the_torch_translation(tmp_path, capsys):
    # keras-hub swin_transformer Mlp/SwinTransformerBlock and mobilenetv5 attention: `act_layer=keras.activations.gelu`
    # stayed in the torch module, where defaults are evaluated at import and nothing imports keras (NameError)
    original = tmp_path / "model.py"
    original.write_text(textwrap.dedent("""\
        import keras
        from keras import layers


        class Mlp(layers.Layer):
            def __init__(self, hidden=8, act_layer=keras.activations.gelu, **kwargs):
                super().__init__(**kwargs)
                self.fc = layers.Dense(hidden)
                self.act = act_layer

            def call(self, x):
                return self.act(self.fc(x))
        """))
    out = tmp_path / "Mlp_torch.py"
    assert cli.main(["translate", f"{original}:Mlp", "--to", "torch", "-o", str(out)]) == 0, capsys.readouterr().err
    text = out.read_text()
    assert "act_layer=None" in text and "the default `act_layer=keras.activations.gelu`" in text, text
    assert hasattr(_import(out), "Mlp")
