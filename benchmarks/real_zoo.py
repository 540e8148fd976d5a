"""The real-model zoo: third-party model code, extracted verbatim from pinned wheels, through `tensorlint translate`
and `tensorlint verify`, both directions; writes docs/real-zoo.md.

    python benchmarks/real_zoo.py                          # every model (CPU), table into docs/real-zoo.md
    python benchmarks/real_zoo.py --only timm-Mlp,keras-hub-TransformerEncoder --out /tmp/zoo.md

Each model runs as a user would: `tensorlint translate FILE:SYMBOL --to X -o OUT.py` (it must exit 0 and print
a module that parses), then `tensorlint verify FILE:SYMBOL --to X --init-args ... --input-shape ... --atol 1e-4
--rtol 1e-4 --format json`, which translates again (the same module, with the names ``--init-args`` mentions brought
along once the translator takes them) and imports it as printed; one process each, sequentially (the seconds column
is the wall time of both, imports of torch and Keras included). The wheels are downloaded with `pip download
--no-deps` into the cache folder (git-ignored) and their `.py` files extracted unchanged (benchmarks/corpus.py).
``MODELS`` is the one table of the zoo: this benchmark and tests/test_real_zoo.py both read it.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from corpus import PINNED_WHEELS, download_wheel, extract_python_files  # noqa: E402

# corpus.py's pins, plus the keras wheel whose keras.applications builders are the Keras side's classic CNNs
WHEELS = {name: PINNED_WHEELS[name] for name in ("torchvision", "timm", "keras-hub")} | {"keras": "3.15.1"}
DEFAULT_CACHE = HERE / "corpus" / "real-zoo"
DEFAULT_OUT = ROOT / "docs" / "real-zoo.md"
TOLERANCE = 1e-4
TORCH_TO_KERAS, KERAS_TO_TORCH = "torch->keras", "keras->torch"


@dataclass(frozen=True)
class ZooModel:
    """One model: ``file`` inside the ``package``'s wheel, the ``symbol`` to translate, the constructor or builder
    arguments (`--init-args`, Python source evaluated on each side), the input shape(s) (batch included) and the
    target framework. ``flags``: further verify flags (token inputs)."""

    name: str
    package: str
    file: str
    symbol: str
    init_args: str | None
    input_shapes: tuple[str, ...]
    to: str
    flags: tuple[str, ...] = ()

    @property
    def direction(self) -> str:
        return TORCH_TO_KERAS if self.to == "keras" else KERAS_TO_TORCH


def _tv(symbol, file, init_args, *shapes, name=None):
    return ZooModel(name or f"torchvision-{symbol}", "torchvision", f"torchvision/models/{file}", symbol, init_args,
                    shapes, "keras")


def _timm(symbol, file, init_args, *shapes, name=None):
    return ZooModel(name or f"timm-{symbol}", "timm", f"timm/{file}", symbol, init_args, shapes, "keras")


def _kapp(symbol, file, init_args, *shapes, name=None):
    return ZooModel(name or f"keras.applications-{symbol}", "keras", f"keras/src/applications/{file}", symbol,
                    init_args, shapes, "torch")


def _khub(symbol, file, init_args, *shapes, flags=()):
    return ZooModel(f"keras-hub-{symbol}", "keras-hub", f"keras_hub/src/{file}", symbol, init_args, shapes,
                    "torch", flags)


# Small widths and inputs so that the whole zoo runs on a CPU in minutes; required arguments given.
_NO_TOP = "include_top=False, weights=None, input_shape=(32, 32, 3)"
MODELS: tuple[ZooModel, ...] = (
    # torchvision 0.29.1 -> Keras
    _tv("BasicBlock", "resnet.py", "8, 8", "2,8,8,8"),
    _tv("Bottleneck", "resnet.py", "16, 4", "2,16,8,8"),
    _tv("ResNet", "resnet.py", "BasicBlock, [1, 1, 1, 1], num_classes=10", "1,3,32,32"),
    _tv("VGG", "vgg.py", "make_layers([8, 'M', 512], batch_norm=True), num_classes=10", "1,3,16,16"),
    _tv("AlexNet", "alexnet.py", "num_classes=10", "1,3,64,64"),
    _tv("Fire", "squeezenet.py", "16, 4, 8, 8", "2,16,8,8"),
    _tv("SqueezeNet", "squeezenet.py", "version='1_1', num_classes=10", "1,3,64,64"),
    _tv("InvertedResidual", "mobilenetv2.py", "8, 8, 1, 6", "2,8,8,8", name="torchvision-MobileNetV2.InvertedResidual"),
    _tv("MobileNetV2", "mobilenetv2.py", "num_classes=10, width_mult=0.25", "1,3,32,32"),
    _tv("InvertedResidual", "shufflenetv2.py", "8, 16, 2", "2,8,8,8", name="torchvision-ShuffleNetV2.InvertedResidual"),
    _tv("ShuffleNetV2", "shufflenetv2.py", "[1, 1, 1], [8, 16, 32, 64, 128], num_classes=10", "1,3,32,32"),
    _tv("BasicConv2d", "googlenet.py", "3, 8, kernel_size=3", "2,3,8,8"),
    _tv("Inception", "googlenet.py", "16, 8, 8, 8, 4, 8, 8", "2,16,8,8"),
    _tv("GoogLeNet", "googlenet.py", "num_classes=10, aux_logits=False, init_weights=False", "1,3,32,32"),
    _tv("DenseNet", "densenet.py",
        "growth_rate=4, block_config=(1, 1, 1, 1), num_init_features=8, bn_size=2, num_classes=10", "1,3,32,32"),
    _tv("CNBlock", "convnext.py", "16, 1e-6, 0.0", "2,16,8,8"),
    _tv("EncoderBlock", "vision_transformer.py", "2, 16, 32, 0.0, 0.0", "2,5,16"),
    # timm 1.0.31 -> Keras
    _timm("Mlp", "layers/mlp.py", "16, 32", "2,5,16"),
    _timm("GluMlp", "layers/mlp.py", "16, 32", "2,5,16"),
    _timm("SwiGLU", "layers/mlp.py", "16, 32", "2,5,16"),
    _timm("Attention", "layers/attention.py", "16, num_heads=2", "2,5,16"),
    _timm("PatchEmbed", "layers/patch_embed.py", "img_size=16, patch_size=4, in_chans=3, embed_dim=8", "2,3,16,16"),
    _timm("MixerBlock", "models/mlp_mixer.py", "16, 5", "2,5,16"),
    _timm("Block", "models/vision_transformer.py", "16, 2", "2,5,16", name="timm-VisionTransformer.Block"),
    # the second zoo: further torchvision/timm models chosen for what users ship (MBConv/SE, Hardswish, grouped
    # bottlenecks, window attention with relative position bias, timm's layer helpers)
    _tv("EfficientNet", "efficientnet.py", "[MBConvConfig(1, 3, 1, 8, 8, 1), MBConvConfig(4, 3, 2, 8, 16, 1), "
        "FusedMBConvConfig(2, 3, 1, 16, 16, 1)], dropout=0.2, num_classes=10", "1,3,32,32"),
    _tv("MNASNet", "mnasnet.py", "0.25, num_classes=10", "1,3,32,32"),
    _tv("RegNet", "regnet.py", "BlockParams.from_init_params(depth=2, w_0=8, w_a=8.0, w_m=2.0, group_width=8, "
        "se_ratio=0.25), num_classes=10, stem_width=8", "1,3,32,32"),
    _tv("ResNet", "resnet.py", "Bottleneck, [1, 1, 1, 1], num_classes=10, groups=4, width_per_group=4", "1,3,32,32",
        name="torchvision-ResNeXt"),
    _tv("MobileNetV3", "mobilenetv3.py", "*_mobilenet_v3_conf('mobilenet_v3_small', width_mult=0.25), num_classes=10",
        "1,3,32,32"),
    _tv("SwinTransformerBlock", "swin_transformer.py", "16, 2, [4, 4], [2, 2]", "2,8,8,16"),
    _tv("ConvNeXt", "convnext.py", "[CNBlockConfig(8, 16, 1), CNBlockConfig(16, None, 1)], num_classes=10",
        "1,3,32,32"),
    _timm("ConvNeXtStage", "models/convnext.py", "8, 16, stride=2, depth=1, norm_layer=LayerNorm2d, "
          "norm_layer_cl=LayerNorm", "2,8,8,8"),
    _timm("InvertedResidual", "models/_efficientnet_blocks.py", "8, 8, exp_ratio=4.0, se_layer=SqueezeExcite",
          "2,8,8,8", name="timm-EfficientNet.InvertedResidual"),
    _timm("EdgeResidual", "models/_efficientnet_blocks.py", "8, 16, exp_ratio=4.0, stride=2", "2,8,8,8"),
    _timm("Bottleneck", "models/resnet.py", "16, 4", "2,16,8,8", name="timm-ResNet.Bottleneck"),
    _timm("MetaFormerBlock", "models/metaformer.py", "16", "2,16,8,8"),
    _timm("Attention", "models/beit.py", "16, num_heads=2, qkv_bias=True, window_size=(2, 2)", "2,5,16",
          name="timm-Beit.Attention"),
    _timm("SwinTransformerBlock", "models/swin_transformer.py",
          "16, (8, 8), num_heads=2, window_size=4, shift_size=2", "2,8,8,16"),
    _timm("SelectAdaptivePool2d", "layers/adaptive_avgmax_pool.py", "pool_type='avgmax', flatten=True", "2,8,5,5"),
    _timm("ConvNormAct", "layers/conv_bn_act.py", "8, 16, 3, stride=2", "2,8,8,8"),
    _timm("BlurPool2d", "layers/blur_pool.py", "8", "2,8,8,8"),
    # keras 3.15.1 keras.applications -> torch
    _kapp("VGG16", "vgg16.py", "include_top=True, weights=None, input_shape=(32, 32, 3), classes=10", "1,32,32,3"),
    _kapp("MobileNet", "mobilenet.py", f"{_NO_TOP}, alpha=0.25", "1,32,32,3"),
    _kapp("MobileNetV2", "mobilenet_v2.py", f"{_NO_TOP}, alpha=0.35", "1,32,32,3"),
    _kapp("ResNet50", "resnet.py", _NO_TOP, "1,32,32,3"),
    _kapp("DenseNet121", "densenet.py", _NO_TOP, "1,32,32,3"),
    _kapp("DenseNet121", "densenet.py", "include_top=True, weights=None, input_shape=(32, 32, 3), classes=10",
          "1,32,32,3", name="keras.applications-DenseNet121.top"),
    _kapp("ResNet50V2", "resnet_v2.py", _NO_TOP, "1,32,32,3"),
    _kapp("Xception", "xception.py", "include_top=False, weights=None, input_shape=(71, 71, 3)", "1,71,71,3"),
    _kapp("InceptionV3", "inception_v3.py", "include_top=False, weights=None, input_shape=(75, 75, 3)",
          "1,75,75,3"),
    _kapp("InceptionResNetV2", "inception_resnet_v2.py",
          "include_top=False, weights=None, input_shape=(75, 75, 3)", "1,75,75,3"),
    _kapp("EfficientNetB0", "efficientnet.py", _NO_TOP, "1,32,32,3"),
    _kapp("EfficientNetV2B0", "efficientnet_v2.py", _NO_TOP, "1,32,32,3"),
    _kapp("NASNetMobile", "nasnet.py", _NO_TOP, "1,32,32,3"),
    _kapp("ConvNeXtTiny", "convnext.py", _NO_TOP, "1,32,32,3"),
    _kapp("MobileNetV3Small", "mobilenet_v3.py", f"{_NO_TOP}, alpha=0.75", "1,32,32,3"),
    # keras-hub 0.32.0 -> torch
    _khub("TransformerEncoder", "layers/modeling/transformer_encoder.py", "intermediate_dim=16, num_heads=2",
          "2,5,8"),
    _khub("TransformerDecoder", "layers/modeling/transformer_decoder.py", "intermediate_dim=16, num_heads=2",
          "2,5,8"),
    _khub("PositionEmbedding", "layers/modeling/position_embedding.py", "sequence_length=5", "2,5,8"),
    _khub("TokenAndPositionEmbedding", "layers/modeling/token_and_position_embedding.py",
          "vocabulary_size=20, sequence_length=5, embedding_dim=8", "2,5"),
    _khub("FNetEncoder", "layers/modeling/f_net_encoder.py", "intermediate_dim=16", "2,5,8"),
    _khub("RMSNormalization", "layers/modeling/rms_normalization.py", "input_dim=8", "2,5,8"),
    _khub("VGGBackbone", "models/vgg/vgg_backbone.py",
          "stackwise_num_repeats=[1, 1], stackwise_num_filters=[4, 8], image_shape=(16, 16, 3)", "1,16,16,3"),
    _khub("RotaryEmbedding", "layers/modeling/rotary_embedding.py", None, "2,5,8"),
    _khub("SinePositionEncoding", "layers/modeling/sine_position_encoding.py", None, "2,5,8"),
    _khub("AlibiBias", "layers/modeling/alibi_bias.py", None, "2,2,5,5"),
    _khub("ReversibleEmbedding", "layers/modeling/reversible_embedding.py", "input_dim=20, output_dim=8", "2,5"),
    _khub("ViTEncoderBlock", "models/vit/vit_layers.py", "num_heads=2, hidden_dim=8, mlp_dim=16", "2,5,8"),
    _khub("LlamaTransformerDecoder", "models/llama/llama_decoder.py",
          "intermediate_dim=16, num_query_heads=2, num_key_value_heads=1", "2,5,8"),
    _khub("GemmaDecoderBlock", "models/gemma/gemma_decoder_block.py",
          "hidden_dim=8, intermediate_dim=16, head_dim=4, num_query_heads=2, num_key_value_heads=1", "2,5,8"),
    _khub("ResNetBackbone", "models/resnet/resnet_backbone.py",
          "input_conv_filters=[64], input_conv_kernel_sizes=[3], stackwise_num_filters=[64, 8], "
          "stackwise_num_blocks=[1, 1], stackwise_num_strides=[1, 2], block_type='basic_block', "
          "image_shape=(32, 32, 3)", "1,32,32,3"),
    _khub("CSPNetBackbone", "models/cspnet/cspnet_backbone.py",
          "stem_filters=8, stem_kernel_size=3, stem_strides=1, stackwise_depth=[1, 1], stackwise_strides=[1, 2], "
          "stackwise_num_filters=[8, 16], block_type='dark_block', stage_type='dark', "
          "image_shape=(32, 32, 3)", "1,32,32,3"),
    _khub("MiTBackbone", "models/mit/mit_backbone.py",
          "layerwise_depths=[1, 1], num_layers=2, layerwise_num_heads=[1, 2], layerwise_sr_ratios=[2, 1], "
          "max_drop_path_rate=0.0, layerwise_patch_sizes=[7, 3], layerwise_strides=[4, 2], "
          "image_shape=(32, 32, 3), hidden_dims=[8, 16]", "1,32,32,3"),
    _khub("ViTBackbone", "models/vit/vit_backbone.py",
          "image_shape=(16, 16, 3), patch_size=4, num_layers=1, num_heads=2, hidden_dim=8, mlp_dim=16",
          "1,16,16,3", flags=("--dtype", "float32")),
)


# -- the wheels ----------------------------------------------------------------------------------------------------
class WheelUnavailable(Exception):
    """`pip download` failed; ``unreachable`` when the reason is that the package index cannot be reached."""

    def __init__(self, message: str):
        super().__init__(message)
        self.unreachable = bool(_NETWORK_TROUBLE.search(message))


_NETWORK_TROUBLE = re.compile(
    r"Could not fetch URL|connection|Network is unreachable|Temporary failure in name resolution|"
    r"Name or service not known|Max retries exceeded|timed out|SSLError|ProxyError", re.IGNORECASE)


def wheel_root(package: str, cache: Path = DEFAULT_CACHE) -> Path:
    """The folder holding the package's extracted ``.py`` files (downloaded once, then reused)."""
    version = WHEELS[package]
    root = cache / f"{package}-{version}"
    done = root / ".extracted"
    if done.is_file():
        return root
    with tempfile.TemporaryDirectory(prefix="tensorlint-zoo-wheel-") as download_dir:
        try:
            wheel = download_wheel(package, version, Path(download_dir))
        except SystemExit as exc:  # corpus.download_wheel's way of failing
            raise WheelUnavailable(str(exc)) from None
        shutil.rmtree(root, ignore_errors=True)
        extract_python_files(wheel, root)
    done.write_text(f"{package}=={version}\n")
    return root


def model_file(model: ZooModel, cache: Path = DEFAULT_CACHE) -> Path:
    return wheel_root(model.package, cache) / model.file


def defines(path: Path, symbol: str) -> bool:
    """Whether the file defines ``symbol`` at top level (read, not imported)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return any(isinstance(node, (ast.ClassDef, ast.FunctionDef)) and node.name == symbol for node in tree.body)


# -- one model through the CLI -------------------------------------------------------------------------------------
def tensorlint_command() -> list[str]:
    script = Path(sys.executable).with_name("tensorlint")
    return [str(script)] if script.exists() else [sys.executable, "-m", "tensorlint.server"]


def verify_arguments(model: ZooModel, path: Path) -> list[str]:
    """`tensorlint verify` arguments for the model (without --format and --device)."""
    arguments = [f"{path}:{model.symbol}", "--to", model.to, "--atol", str(TOLERANCE), "--rtol", str(TOLERANCE)]
    for shape in model.input_shapes:
        arguments += ["--input-shape", shape]
    if model.init_args is not None:
        arguments += ["--init-args", model.init_args]
    return arguments + list(model.flags)


@dataclass(frozen=True)
class Outcome:
    model: ZooModel
    outcome: str  # pass | TODOs left | numeric mismatch | does not import | build error (either with the missing
    #              name, when a NameError/ImportError is the reason) | original does not build | verify error |
    #              translate error
    todos: int | None
    max_abs_diff: float | None
    seconds: float
    detail: str = ""  # the failure, one line

    @property
    def passed(self) -> bool:
        return self.outcome == "pass"


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1].removeprefix("tensorlint: error: ") if lines else ""


def run_model(model: ZooModel, cache: Path = DEFAULT_CACHE, timeout: int = 900) -> Outcome:
    path = model_file(model, cache)
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="tensorlint-zoo-") as work:
        translation = Path(work) / f"{model.symbol}_{model.to}.py"
        translated = subprocess.run([*tensorlint_command(), "translate", f"{path}:{model.symbol}", "--to", model.to,
                                     "-o", str(translation)], capture_output=True, text=True, env=environment,
                                    timeout=timeout)
        if translated.returncode != 0 or not translation.is_file():
            return Outcome(model, "translate error", None, None, time.perf_counter() - started,
                           _last_line(translated.stderr or translated.stdout).replace(f"{cache}{os.sep}", ""))
        text = translation.read_text(encoding="utf-8")
        todos = text.count("# TODO(tensorlint)")
        try:
            ast.parse(text)
        except SyntaxError as exc:
            return Outcome(model, "translate error", todos, None, time.perf_counter() - started,
                           f"the output does not parse: {exc.msg} (line {exc.lineno})")
    verified = subprocess.run([*tensorlint_command(), "verify", *verify_arguments(model, path), "--format", "json"],
                              capture_output=True, text=True, env=environment, timeout=timeout)
    seconds = time.perf_counter() - started
    try:
        report = json.loads(verified.stdout)
    except json.JSONDecodeError:  # exit 2, a request verify refused: one line on stderr
        detail = _last_line(verified.stderr).replace(f"{cache}{os.sep}", "")
        return Outcome(model, "original does not build" if "original" in detail else "verify error", todos, None,
                       seconds, detail)
    todos = report["todos"]
    diffs = [output["max_abs_diff"] for output in report["outputs"] if output["max_abs_diff"] is not None]
    largest = max(diffs) if diffs else None
    failure = next((run["failure"] for run in report["runs"] if run["failure"]), None)
    if report["passed"]:
        return Outcome(model, "pass" if todos == 0 else "TODOs left", todos, largest, seconds)
    if failure is not None:
        missing = next((run.get("missing_name") for run in report["runs"] if run.get("missing_name")), None)
        outcome = "does not import" if failure.startswith("the translation does not import") else "build error"
        if missing:
            outcome += f" (missing {missing})"
        return Outcome(model, outcome, todos, largest, seconds, failure)
    wrong_shapes = "; ".join(f"shape {o['shape']} but the original gives {o['expected_shape']}"
                             for o in report["outputs"] if o.get("expected_shape"))
    detail = wrong_shapes or (f"max abs diff {largest:.3g}" if largest is not None else "no output compared")
    return Outcome(model, "numeric mismatch", todos, largest, seconds, detail)


# -- the table -----------------------------------------------------------------------------------------------------
def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def write_table(outcomes: list[Outcome], out: Path, command: str) -> str:
    lines = ["# The real-model zoo", "",
             f"Measured {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC on CPU with `{command}` (torch, Keras on "
             "TensorFlow; fp32, atol = rtol = 1e-4). Each model is third-party code extracted verbatim from its "
             "pinned wheel (" + ", ".join(f"{name} {version}" for name, version in WHEELS.items()) + "), run through "
             "`tensorlint translate` and `tensorlint verify --init-args` with the constructor arguments shown. "
             "The table of models is `MODELS` in `benchmarks/real_zoo.py`.", "",
             "Outcomes: *pass* (numerically equal, no TODO), *TODOs left* (equal, but TODOs remain), *numeric "
             "mismatch*, *does not import* (the printed module fails to import: the missing name), *build error* "
             "(the translation imports but does not build, run or take the weights), *original does not build*, "
             "*verify error* (another request verify refused), *translate error* (`translate` exits non-zero or "
             "prints a module that does not parse). A name in parentheses is the name the translation lacks (a "
             "`NameError`/`ImportError`). Seconds: translate and verify together, interpreter start and framework "
             "imports included.", "", "## Pass rate", "", "| direction | pass | models | rate |", "|---|---|---|---|"]
    for direction in (TORCH_TO_KERAS, KERAS_TO_TORCH):
        chosen = [o for o in outcomes if o.model.direction == direction]
        if chosen:
            passed = sum(o.passed for o in chosen)
            lines.append(f"| {direction} | {passed} | {len(chosen)} | {100 * passed / len(chosen):.0f}% |")
    lines += ["", "## Models", "",
              "| model | file | direction | init args | input | outcome | TODOs | max abs diff | seconds | detail |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for o in outcomes:
        m = o.model
        diff = f"{o.max_abs_diff:.3g}" if o.max_abs_diff is not None else ""
        todos = "" if o.todos is None else str(o.todos)
        lines.append(f"| {_cell(m.name)} | {m.package} {m.file} | {m.direction} | `{_cell(m.init_args or '')}` | "
                     f"{' + '.join(m.input_shapes)} | {o.outcome} | {todos} | {diff} | {o.seconds:.1f} | "
                     f"{_cell(o.detail)} |")
    text = "\n".join(lines) + "\n"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated model names (default: every model)")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help=f"wheel cache (default: {DEFAULT_CACHE})")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"the table (default: {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    chosen = list(MODELS)
    if args.only:
        wanted = args.only.split(",")
        unknown = sorted(set(wanted) - {m.name for m in MODELS})
        if unknown:
            parser.error(f"unknown models: {', '.join(unknown)}")
        chosen = [m for m in MODELS if m.name in wanted]
    outcomes = []
    for model in chosen:
        outcome = run_model(model, args.cache)
        outcomes.append(outcome)
        print(f"{model.name:45} {outcome.outcome:30} {outcome.seconds:6.1f}s {outcome.detail[:120]}", flush=True)
    command = "python benchmarks/real_zoo.py" + (f" --only {args.only}" if args.only else "")
    write_table(outcomes, args.out, command)
    for direction in (TORCH_TO_KERAS, KERAS_TO_TORCH):
        chosen_here = [o for o in outcomes if o.model.direction == direction]
        if chosen_here:
            print(f"{direction}: {sum(o.passed for o in chosen_here)}/{len(chosen_here)} pass")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
