"""`tensorlint verify`: prove a translation numerically.

Translate SYMBOL, build the original and the translation (constructor arguments: ``--init-args``, else the
defaults of the class or builder function), randomise every weight of the original (biases and norm statistics
included), call both once so lazily built weights exist, copy the weights with the generated ``copy_weights``, run
both in inference mode on the same random input and compare every output.

This is the only runtime module of tensorlint: torch, tensorflow and keras are imported lazily, inside functions,
and only when the user asks for a verification. The original is the dependency closure of SYMBOL in the user's file
(``closure.py``: what it reaches, relative imports followed into the package's files), so a class inside a package
file builds without importing the rest of the package. Both sides are written to files and imported as fresh
modules, the translation exactly as ``translate`` prints it: a name the translation forgot to import fails here as it
would for the user. Keras reads ``KERAS_BACKEND`` once, when it is first imported, so a device that needs another
backend than the one this process already imported runs in a worker subprocess
(``python -m tensorlint.migrations.verify JOB_JSON``).
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

INSTALL_HINT = "pip install 'tensorlint[verify]'"
DTYPES = ("float32", "int32", "int64")
DEVICES = ("cpu", "cuda", "all")
SEED = 0


class VerifyUsageError(Exception):
    """The request cannot be served (bad file, symbol, input shape, missing frameworks, no GPU): exit 2."""


class TranslationFailed(Exception):
    """The generated code itself broke (it does not run, copy_weights rejects the weights): a FAIL, exit 1."""


@dataclass(frozen=True)
class Job:
    """One verification on one device: everything a worker process needs, JSON-serialisable."""

    path: str  # the user's file
    symbol: str
    translation: str  # the generated module's text
    direction: str  # "torch->keras" | "keras->torch"
    input_shapes: tuple[tuple[int, ...], ...]
    dtype: str | None  # None: float32, or int64 when the original contains an Embedding
    high: int | None  # token inputs are integers in [0, high)
    device: str  # "cpu" | "cuda"
    atol: float
    rtol: float
    keras_backend: str | None = None  # None: decided by _keras_backend_for(device)
    layout: str = "preserve"  # "native": the translation takes and gives channels in its own framework's place
    init_args: str | None = None  # Python argument source for the constructor/builder, evaluated on each side


@dataclass(frozen=True)
class OutputComparison:
    shape: tuple[int, ...]
    max_abs_diff: float | None  # None when the output cannot be compared (missing, or shapes differ)
    max_rel_diff: float | None
    passed: bool
    expected_shape: tuple[int, ...] | None = None  # set when the translation's shape differs
    missing_in: str = ""  # "translation" or "original" when only one of them returns this output


@dataclass(frozen=True)
class DeviceResult:
    device: str
    keras_backend: str
    passed: bool
    outputs: tuple[OutputComparison, ...]
    input_dtype: str
    input_high: int | None
    timing: dict  # seconds: "build", "copy", "<framework> forward"
    failure: str = ""  # why the translation failed, when it did not get as far as comparing
    missing_name: str | None = None  # the name a NameError/ImportError of the translation reported


@dataclass
class Report:
    symbol: str
    direction: str
    device: str  # as requested: cpu | cuda | all
    todos: int
    notes: tuple[str, ...]
    results: list[DeviceResult] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # e.g. "cuda: no CUDA device visible to torch"
    translate_seconds: float = 0.0
    init_args: str | None = None

    @property
    def passed(self) -> bool:
        return bool(self.results) and all(result.passed for result in self.results)

    def as_json(self) -> dict:
        outputs = [{"device": result.device, **_output_json(output)}
                   for result in self.results for output in result.outputs]
        return {"passed": self.passed, "device": self.device, "outputs": outputs, "todos": self.todos,
                "symbol": self.symbol, "direction": self.direction, "init_args": self.init_args,
                "runs": [{"device": r.device, "keras_backend": r.keras_backend, "passed": r.passed,
                          "input_dtype": r.input_dtype, "input_high": r.input_high, "failure": r.failure or None,
                          "missing_name": r.missing_name, "timing": r.timing} for r in self.results],
                "skipped": self.skipped, "notes": list(self.notes)}


def _output_json(output: OutputComparison) -> dict:
    found = {"shape": list(output.shape), "max_abs_diff": output.max_abs_diff, "max_rel_diff": output.max_rel_diff,
             "passed": output.passed}
    if output.expected_shape is not None:
        found["expected_shape"] = list(output.expected_shape)
    if output.missing_in:
        found["missing_in"] = output.missing_in
    return found


# -- the request: translate (pure) and plan the devices ----------------------------------------------------------
def verify(path: str, symbol: str, to: str, input_shapes, *, dtype: str | None = None, high: int | None = None,
           device: str = "cpu", atol: float = 1e-4, rtol: float = 1e-4, layout: str = "preserve",
           translation_path: str | None = None, init_args: str | None = None) -> Report:
    """Translate ``path:symbol`` (or take the module at ``translation_path``) and compare it with the original on
    each requested device. ``init_args`` is the constructor's (or builder's) argument list as Python source, such
    as ``"BasicBlock, [2, 2, 2, 2], num_classes=10"``. Raises VerifyUsageError for requests that cannot be
    served."""
    from .translate import TranslationError, symbols, translate_symbol

    if init_args is not None:
        check_init_args(init_args)
    source_text = _read(path)
    started = time.perf_counter()
    direction = "torch->keras" if to == "keras" else "keras->torch"
    notes: tuple[str, ...] = ()
    if translation_path is not None:  # the user's own (e.g. hand-edited) translation: no fresh one needed
        module_text = _read(translation_path)
        try:
            found = {found.name: found for found in symbols(source_text)}
        except TranslationError as exc:
            raise VerifyUsageError(f"{path}: {exc}") from None
        if symbol not in found:
            raise VerifyUsageError(f"{path}: no model class, builder function or Sequential named {symbol!r}")
        if found[symbol].framework == to:
            raise VerifyUsageError(f"{path}: {symbol!r} is already {'Keras' if to == 'keras' else 'PyTorch'}")
    else:
        try:
            # what --init-args names (`make_layers` in `VGG(make_layers(...))`) is translated along with SYMBOL
            translation = translate_symbol(source_text, symbol, to, layout, origin=os.path.basename(path), path=path,
                                           also=tuple(sorted(names_in(init_args))), init_args=init_args)
        except TranslationError as exc:
            raise VerifyUsageError(f"{path}: {exc}") from None
        except Exception as exc:  # a translator bug: say so in one line rather than a traceback
            raise VerifyUsageError(f"{path}: translating {symbol} failed inside tensorlint ({_one_line(exc)}); "
                                   "please report it") from None
        module_text, notes, direction = translation.source, translation.notes, translation.direction
    report = Report(symbol, direction, device, module_text.count("# TODO(tensorlint)"), notes,
                    translate_seconds=time.perf_counter() - started, init_args=init_args)
    base = Job(os.path.abspath(path), symbol, module_text, direction,
               tuple(tuple(shape) for shape in input_shapes), dtype, high, "cpu", atol, rtol, layout=layout,
               init_args=init_args)
    for wanted in ("cpu", "cuda") if device == "all" else (device,):
        job = Job(**{**asdict(base), "device": wanted})
        if wanted == "cuda" and not _cuda_available():
            if device == "all":
                report.skipped.append("cuda: no CUDA device visible to torch")
                continue
            raise VerifyUsageError("--device cuda: torch sees no CUDA device (use --device cpu)")
        report.results.append(_run(job))
    return report


def check_init_args(source: str) -> None:
    """``source`` must be an argument list and nothing else (`a, b=1`, not `a), print(b`)."""
    import ast

    try:
        call = ast.parse(f"f({source}\n)", mode="eval").body
    except SyntaxError as exc:
        raise VerifyUsageError(f"--init-args {source!r} is not a Python argument list ({exc.msg})") from None
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "f"):
        raise VerifyUsageError(f"--init-args {source!r} is not a Python argument list")


def _read(path: str) -> str:
    from ..analyzers import decode

    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        raise VerifyUsageError(f"no such file: {path}") from None
    except OSError as exc:
        raise VerifyUsageError(f"cannot read {path}: {exc.strerror}") from None
    text, undecodable = decode(data, path)
    if undecodable is not None:
        raise VerifyUsageError(f"{path}: {undecodable.message}")
    return text


def _cuda_available() -> bool:
    torch = _import("torch")
    return torch.cuda.is_available()


def _import(name: str):
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise VerifyUsageError(f"verify needs PyTorch and Keras 3 ({exc.name or name} is missing): "
                               f"{INSTALL_HINT}") from None


def _run(job: Job) -> DeviceResult:
    """Run one job here when this process can host its Keras backend, else in a worker subprocess."""
    backend = job.keras_backend or _keras_backend_for(job.device)
    job = Job(**{**asdict(job), "keras_backend": backend})
    loaded = sys.modules.get("keras")
    if loaded is None or _backend_of(loaded) == backend:
        return measure(job)
    return _run_in_worker(job)


def _backend_of(keras) -> str:
    return keras.backend.backend()


def _keras_backend_for(device: str) -> str:
    """CPU: $KERAS_BACKEND, else TensorFlow. CUDA: $KERAS_BACKEND, else TensorFlow when it sees a GPU, else the
    torch backend (which runs Keras 3 on the same CUDA device as PyTorch)."""
    chosen = os.environ.get("KERAS_BACKEND")
    if chosen:
        return chosen
    loaded = sys.modules.get("keras")
    if device == "cpu":
        if loaded is not None:
            return _backend_of(loaded)
        return "tensorflow" if importlib.util.find_spec("tensorflow") else "torch"
    if importlib.util.find_spec("tensorflow") is None:
        return "torch"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf

    return "tensorflow" if tf.config.list_physical_devices("GPU") else "torch"


def _run_in_worker(job: Job) -> DeviceResult:
    env = {**os.environ, "KERAS_BACKEND": job.keras_backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
    completed = subprocess.run([sys.executable, "-m", "tensorlint.migrations.verify"],
                               input=json.dumps(asdict(job)), capture_output=True, text=True, env=env)
    lines = completed.stdout.strip().splitlines()
    try:
        answer = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        tail = completed.stderr.strip().splitlines()[-1:] or ["no output"]
        raise VerifyUsageError(f"the {job.device} worker (Keras backend {job.keras_backend}) died: {tail[0]}") \
            from None
    if "usage_error" in answer:
        raise VerifyUsageError(answer["usage_error"])
    return _result_from_json(answer)


def _result_from_json(data: dict) -> DeviceResult:
    outputs = tuple(OutputComparison(**{**o, "shape": tuple(o["shape"]), "expected_shape": tuple(
        o["expected_shape"]) if o["expected_shape"] is not None else None}) for o in data["outputs"])
    return DeviceResult(**{**data, "outputs": outputs})


# -- the measurement (runs where torch and keras are imported) ----------------------------------------------------
def measure(job: Job) -> DeviceResult:
    """Build, randomise, copy, run and compare in this process (torch and keras are imported here). Whatever the
    user's code prints goes to stderr, so stdout stays the report's."""
    import contextlib

    with contextlib.redirect_stdout(sys.stderr):
        frameworks = _Frameworks(job.keras_backend, job.device)
    with contextlib.redirect_stdout(sys.stderr), frameworks.scope():
        return _measure(job, frameworks)


def _measure(job: Job, frameworks) -> DeviceResult:
    timing: dict = {}
    started = time.perf_counter()
    frameworks.keras.utils.set_random_seed(SEED)  # python, numpy and backend seeds: reruns give the same figures
    frameworks.torch.manual_seed(SEED)
    workspace = tempfile.TemporaryDirectory(prefix="tensorlint-verify-")
    try:
        return _measure_in(job, frameworks, Path(workspace.name), timing, started)
    finally:
        workspace.cleanup()


def _measure_in(job: Job, frameworks, workspace: Path, timing: dict, started: float) -> DeviceResult:
    np = frameworks.np
    user_module = _load_original(job.path, job.symbol, workspace, names_in(job.init_args))
    source_framework = "torch" if job.direction == "torch->keras" else "keras"
    original = _instantiate(user_module, job.symbol, "the original", VerifyUsageError, job.init_args)
    dtype, high = _input_kind(frameworks, original, source_framework, job)
    rng = np.random.default_rng(SEED)
    inputs = [_random_input(np, rng, shape, dtype, high) for shape in job.input_shapes]
    described = f"{dtype} input of shape {' and '.join(str(list(s)) for s in job.input_shapes)}"

    run_original = frameworks.runner(source_framework)
    run_translation = frameworks.runner("keras" if source_framework == "torch" else "torch")
    try:
        original = frameworks.place(original, source_framework)
        run_original(original, inputs)  # builds lazily created weights
    except Exception as exc:  # the user's model rejects the input: a usage problem, not a translation failure
        raise VerifyUsageError(f"running the original {job.symbol} on a {described} failed: {_one_line(exc)}") \
            from None
    frameworks.randomise(original, source_framework, rng)
    expected, timing[f"{source_framework} forward"] = _timed(run_original, original, inputs)

    def fail(stage: str, exc: BaseException) -> DeviceResult:
        cause = exc.__cause__ if isinstance(exc, TranslationFailed) and exc.__cause__ is not None else exc
        missing = _missing_name(cause)
        why = str(exc) if isinstance(exc, TranslationFailed) else f"{stage} failed: {_one_line(exc)}"
        if missing is not None and f"'{missing}'" not in why:
            why += f" (missing name: {missing})"
        return DeviceResult(job.device, job.keras_backend, False, (), dtype, high, timing, why, missing)

    try:
        namespace = _import_translation(job.translation, job.symbol, workspace)
    except Exception as exc:
        return fail("importing the translation", exc)
    try:
        translated = _instantiate(namespace, job.symbol, "the translation", TranslationFailed, job.init_args)
        translated = frameworks.place(translated, "keras" if source_framework == "torch" else "torch")
        layout = _Layout(job, frameworks.has_1d_spatial_layers(original, source_framework))
        translated_inputs = layout.to_translation(inputs)
        run_translation(translated, translated_inputs)
    except Exception as exc:
        return fail("building or calling the translation", exc)
    timing["build"] = time.perf_counter() - started
    copy = getattr(namespace, "copy_weights", None)
    if copy is None:
        return fail("copying weights", TranslationFailed("the translation defines no copy_weights"))
    copy_started = time.perf_counter()
    try:
        copy(original, translated)
    except Exception as exc:
        return fail("copy_weights", exc)
    timing["copy"] = time.perf_counter() - copy_started
    try:
        actual, timing[f"{'keras' if source_framework == 'torch' else 'torch'} forward"] = _timed(
            run_translation, translated, translated_inputs)
    except Exception as exc:
        return fail("running the translation", exc)
    actual = layout.from_translation(actual)
    comparisons = _compare(np, expected, actual, job.atol, job.rtol)
    return DeviceResult(job.device, job.keras_backend, all(c.passed for c in comparisons) and bool(comparisons),
                        tuple(comparisons), dtype, high, {key: round(value, 6) for key, value in timing.items()},
                        "" if comparisons else "the models returned no tensors")


class _Layout:
    """With --layout native the translation takes channels where its framework puts them: torch -> Keras moves
    axis 1 last, Keras -> torch moves the last axis to 1, for float tensors of rank 4 and 5 (images, volumes) and of
    rank 3 when the original has 1-D convolutions or pooling (otherwise rank 3 is (batch, time, features) in both).
    Outputs are moved back before comparing."""

    def __init__(self, job: Job, has_1d_spatial: bool):
        self.active = job.layout == "native"
        self.to_keras = job.direction == "torch->keras"
        self.ranks = {3, 4, 5} if has_1d_spatial else {4, 5}

    def _move(self, arrays, forward: bool):
        if not self.active:
            return arrays
        moved = []
        for array in arrays:
            if array.ndim in self.ranks and array.dtype.kind == "f":
                channels_last = (self.to_keras == forward)
                array = array.transpose((0, *range(2, array.ndim), 1)) if channels_last else array.transpose(
                    (0, array.ndim - 1, *range(1, array.ndim - 1)))
                array = array.copy()
            moved.append(array)
        return moved

    def to_translation(self, arrays):
        return self._move(arrays, True)

    def from_translation(self, arrays):
        return self._move(arrays, False)


def _timed(run, model, inputs):
    started = time.perf_counter()
    outputs = run(model, inputs)  # returns numpy arrays, so device work has finished
    return outputs, time.perf_counter() - started


def _one_line(exc: BaseException) -> str:
    """The exception's type and first line; for Keras's wrapper (`Exception encountered when calling X.call().`,
    then the real message on a later line) the real message too."""
    import re

    text = [line for line in re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).strip().splitlines() if line.strip()]
    first = text[0] if text else ""
    if first.startswith("Exception encountered when calling") and len(text) > 1:
        first = f"{first} {text[1].strip()}"
    return f"{type(exc).__name__}: {first}".rstrip(": ")


def _import_roots(path: str) -> list[str]:
    """The folders a file's own imports need: its folder (sibling modules), and for a file inside a package the
    folder above the outermost package (`from mypackage.layers import X`)."""
    from .closure import package_root

    root = package_root(Path(path))
    return [os.path.dirname(path), *([str(root)] if root is not None else [])]


def _register_package_without_init(root: Path, path: Path) -> None:
    """Make the file's own top-level package importable without running its ``__init__`` (which, in a library
    such as keras-hub or timm, imports every model and their optional dependencies), unless it is installed
    elsewhere or already imported: what the closure did not inline (``from pkg.utils import tensor_utils``, a
    module) then imports just that module."""
    import importlib.machinery
    import types

    from .closure import installed_elsewhere

    top = path.resolve().relative_to(root.resolve()).parts[0]
    folder = root / top
    loaded = sys.modules.get(top)
    if getattr(loaded, "__path__", None) == [str(folder)] or installed_elsewhere(top, root):
        return
    if loaded is not None and not getattr(loaded, "_tensorlint_without_init", False):
        return  # a package of that name is imported already: Python would use it too
    for name in [name for name in sys.modules if name == top or name.startswith(f"{top}.")]:
        del sys.modules[name]  # another tree's package of the same name, registered by an earlier verify
    spec = importlib.machinery.ModuleSpec(top, None, origin=str(folder / "__init__.py"), is_package=True)
    spec.submodule_search_locations = [str(folder)]
    package = types.ModuleType(top)
    package.__spec__, package.__path__, package.__file__ = spec, [str(folder)], spec.origin
    package._tensorlint_without_init = True
    sys.modules[top] = package


def _import_file(path: Path, name: str):
    """Import ``path`` as a fresh module named ``name``, as Python imports any file (no inherited compiler flags:
    every annotation and name is evaluated as it would be for the user)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look their module up here
    spec.loader.exec_module(module)
    return module


def names_in(init_args: str | None) -> set[str]:
    """The names ``--init-args`` mentions (`make_layers(cfgs["A"])` -> make_layers, cfgs)."""
    import ast

    if init_args is None:
        return set()
    return {node.id for node in ast.walk(ast.parse(f"f({init_args}\n)", mode="eval")) if isinstance(node, ast.Name)}


def _load_original(path: str, symbol: str, workspace: Path, also: set[str] = frozenset()):
    """The dependency closure of ``symbol`` (and of the names in ``also``: those ``--init-args`` mentions) in the
    user's file, relative imports followed into the package's files, imported as a fresh module with the file's
    folder and package root importable."""
    import libcst as cst

    from .closure import closure

    try:
        code = closure(cst.parse_module(_read(path)), {symbol, *also}, path).code()
    except cst.ParserSyntaxError as exc:
        raise VerifyUsageError(f"{path} does not parse: {_one_line(exc)}") from None
    folder, *package_root = _import_roots(path)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    for root in package_root:  # after the installed packages: a copy in the user's tree does not shadow them
        if root not in sys.path:
            sys.path.append(root)
        _register_package_without_init(Path(root), Path(path))
    closure_file = workspace / f"{Path(path).stem}_{symbol}_original.py"
    closure_file.write_text(code, encoding="utf-8")
    try:
        return _import_file(closure_file, f"tensorlint_verify_{uuid.uuid4().hex}")
    except SystemExit as exc:
        raise VerifyUsageError(f"importing {path} called exit({exc.code})") from None
    except BaseException as exc:
        raise VerifyUsageError(f"importing {path} failed: {_one_line(exc)}") from None


def _import_translation(text: str, symbol: str, workspace: Path):
    """The generated module, byte for byte as ``translate`` prints it, written to a file and imported."""
    translation_file = workspace / f"{symbol}_translation.py"
    translation_file.write_text(text, encoding="utf-8")
    try:
        return _import_file(translation_file, f"tensorlint_translation_{uuid.uuid4().hex}")
    except Exception as exc:
        raise TranslationFailed(f"the translation does not import: {_one_line(exc)}{_where(exc, translation_file)}") \
            from exc


def _where(exc: BaseException, path: Path) -> str:
    """`` (line N)`` of the innermost frame in ``path``, or the line of a SyntaxError there."""
    if isinstance(exc, SyntaxError) and exc.lineno and exc.filename == str(path):
        return f" (line {exc.lineno})"
    line = None
    trace = exc.__traceback__
    while trace is not None:
        if trace.tb_frame.f_code.co_filename == str(path):
            line = trace.tb_lineno
        trace = trace.tb_next
    return f" (line {line})" if line is not None else ""


def _missing_name(exc: BaseException) -> str | None:
    """The name a NameError or ImportError is about: `name 'Optional' is not defined` -> Optional,
    `cannot import name 'x' from 'y'` -> x, `No module named 'timm'` -> timm."""
    import re

    if isinstance(exc, NameError):
        if getattr(exc, "name", None):
            return exc.name
        found = re.search(r"name '([^']+)'", str(exc))
        return found.group(1) if found else None
    if isinstance(exc, ImportError):
        found = re.search(r"cannot import name '([^']+)'", str(exc))
        return found.group(1) if found else exc.name
    return None


def _call_arguments(source: str, module, what: str, error) -> tuple[tuple, dict]:
    """``--init-args`` evaluated in ``module``'s namespace, so a name means that side's own definition."""
    collect = "(lambda *args, **kwargs: (args, kwargs))"
    try:
        return eval(compile(f"{collect}({source}\n)", "<--init-args>", "eval", dont_inherit=True), vars(module))
    except Exception as exc:
        raise error(f"evaluating --init-args {source!r} for {what} failed: {_one_line(exc)}") from exc


def _instantiate(namespace, symbol: str, what: str, error, init_args: str | None = None):
    """A class is called with ``init_args`` (its default constructor arguments without them), a builder function
    likewise; a Sequential assignment is the instance itself."""
    value = getattr(namespace, symbol, None)
    if value is None:
        raise error(f"{what} defines no {symbol!r}")
    if not callable(value) or _is_model_instance(value):
        if init_args is not None:
            raise VerifyUsageError(f"{symbol} is a model instance, not a class or builder: it takes no --init-args")
        return value
    if init_args is not None:
        args, kwargs = _call_arguments(init_args, namespace, what, error)
        try:
            return value(*args, **kwargs)
        except Exception as exc:
            raise error(f"building {what} {symbol}({init_args}) failed: {_one_line(exc)}") from exc
    try:
        signature = inspect.signature(value.__init__ if inspect.isclass(value) else value)
    except (TypeError, ValueError):
        signature = None
    if signature is not None:
        required = [name for name, parameter in signature.parameters.items()
                    if name != "self" and parameter.default is inspect.Parameter.empty
                    and parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD,
                                           parameter.KEYWORD_ONLY)]
        if required:
            raise VerifyUsageError(f"{symbol} needs arguments without defaults ({', '.join(required)}); verify "
                                   f"builds models with their default arguments: give them defaults or pass "
                                   f"arguments with --init-args")
    try:
        return value()
    except Exception as exc:
        raise error(f"building {what} {symbol}() failed: {_one_line(exc)}") from exc


def _is_model_instance(value) -> bool:
    torch, keras = sys.modules.get("torch"), sys.modules.get("keras")
    return (torch is not None and isinstance(value, torch.nn.Module)) or (
        keras is not None and isinstance(value, keras.layers.Layer))


def _input_kind(frameworks, original, framework: str, job: Job) -> tuple[str, int | None]:
    """Token inputs (integer dtype) are drawn below --high, by default below the smallest Embedding vocabulary of
    the original; without --dtype, a model containing an Embedding gets int64 tokens, any other float32."""
    vocabulary = frameworks.smallest_vocabulary(original, framework)
    dtype = job.dtype or ("int64" if vocabulary is not None else "float32")
    if dtype == "float32":
        return dtype, None
    high = job.high or vocabulary
    if high is None:
        raise VerifyUsageError(f"{dtype} inputs need --high N (the model has no Embedding to take it from)")
    return dtype, high


def _random_input(np, rng, shape, dtype: str, high: int | None):
    if dtype == "float32":
        return rng.standard_normal(shape).astype("float32")
    return rng.integers(0, high, size=shape).astype(dtype)


def _compare(np, expected: list, actual: list, atol: float, rtol: float) -> list[OutputComparison]:
    """Per output: max |a - e|, max |a - e| / |e| (over elements with |e| > atol, where a relative error means
    something), and numpy.allclose's criterion |a - e| <= atol + rtol * |e|."""
    found = []
    for index in range(max(len(expected), len(actual))):
        if index >= len(expected) or index >= len(actual):
            missing_in = "original" if index >= len(expected) else "translation"
            present = actual[index] if index < len(actual) else expected[index]
            found.append(OutputComparison(tuple(present.shape), None, None, False,
                                          missing_in=missing_in))
            continue
        want, got = expected[index].astype("float64"), actual[index].astype("float64")
        if want.shape != got.shape:
            found.append(OutputComparison(tuple(got.shape), None, None, False, tuple(want.shape)))
            continue
        difference = np.abs(got - want)
        meaningful = np.abs(want) > atol
        relative = difference[meaningful] / np.abs(want[meaningful])
        finite = bool(np.all(np.isfinite(got)) and np.all(np.isfinite(want)))
        found.append(OutputComparison(
            tuple(got.shape), float(difference.max()) if difference.size else 0.0,
            float(relative.max()) if relative.size else 0.0,
            finite and bool(np.all(difference <= atol + rtol * np.abs(want)))))
    return found


class _native_stderr_silenced:
    """Point file descriptor 2 at /dev/null for a while (native libraries write there directly)."""

    def __enter__(self):
        sys.stderr.flush()
        self.saved = os.dup(2)
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)

    def __exit__(self, *exc_info):
        os.dup2(self.saved, 2)
        os.close(self.saved)
        return False


class _Frameworks:
    """torch and keras, imported for one backend and device, with what verify does to models of each."""

    def __init__(self, keras_backend: str, device: str):
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        loaded = sys.modules.get("keras")
        if loaded is None:
            os.environ["KERAS_BACKEND"] = keras_backend  # read once, when keras is first imported
        self.np = _import("numpy")
        self.torch = _import("torch")
        self.device = device
        with _native_stderr_silenced():  # TensorFlow's C++ start-up chatter would bury our one-line messages
            if keras_backend == "tensorflow":
                self.tf = _import("tensorflow")
            self.keras = _import("keras")
        if _backend_of(self.keras) != keras_backend:
            raise VerifyUsageError(f"keras is already imported with the {_backend_of(self.keras)} backend; "
                                   f"{keras_backend} was asked for")
        self.keras_backend = keras_backend
        self._exact_float32()

    def _exact_float32(self) -> None:
        """Reduced-precision matmuls (TF32 on Ampere and later) would swamp a 1e-4 comparison."""
        torch = self.torch
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        torch.set_float32_matmul_precision("highest")
        if self.keras_backend == "tensorflow":
            self.tf.config.experimental.enable_tensor_float_32_execution(False)
        elif self.keras_backend == "jax":
            _import("jax").config.update("jax_default_matmul_precision", "highest")
        self.keras.config.set_floatx("float32")

    def scope(self):
        """Keras's device scope (it places new tensors and variables for every backend)."""
        return self.keras.device("gpu:0" if self.device == "cuda" else "cpu:0")

    def place(self, model, framework: str):
        if framework == "torch":
            return model.to(self.device)
        return model

    def runner(self, framework: str):
        return self._run_torch if framework == "torch" else self._run_keras

    def _run_torch(self, model, inputs):
        torch = self.torch
        model.eval()
        with torch.no_grad():
            tensors = [torch.from_numpy(x).to(self.device) for x in inputs]
            return [t.detach().cpu().numpy() for t in self._tensors(model(*tensors))]

    def _run_keras(self, model, inputs):
        keras = self.keras
        tensors = [keras.ops.convert_to_tensor(x) for x in inputs]
        # Keras models take several inputs as one list (torch models as positional arguments)
        outputs = model(tensors if len(tensors) > 1 else tensors[0], training=False)
        return [self.np.asarray(keras.ops.convert_to_numpy(t)) for t in self._tensors(outputs)]

    def _tensors(self, value) -> list:
        """Every tensor of a (nested) output, in order: tuples, lists, dict values."""
        if isinstance(value, dict):
            return [t for item in value.values() for t in self._tensors(item)]
        if isinstance(value, (tuple, list)):
            return [t for item in value for t in self._tensors(item)]
        return [] if value is None else [value]

    def _layers(self, model, framework: str) -> list:
        if framework == "torch":
            return list(model.modules())
        return list(model._flatten_layers(include_self=True, recursive=True)) if hasattr(
            model, "_flatten_layers") else [model]

    def has_1d_spatial_layers(self, model, framework: str) -> bool:
        names = {type(layer).__name__ for layer in self._layers(model, framework)}
        return any(name.endswith(("1d", "1D")) and not name.startswith("BatchNorm") for name in names)

    def smallest_vocabulary(self, model, framework: str) -> int | None:
        if framework == "torch":
            sizes = [m.num_embeddings for m in model.modules() if isinstance(m, self.torch.nn.Embedding)]
        else:
            sizes = [layer.input_dim for layer in self._layers(model, framework)
                     if isinstance(layer, self.keras.layers.Embedding)]
        return min(sizes) if sizes else None

    def randomise(self, model, framework: str, rng) -> None:
        """Every floating-point weight moves: variances to U(0.5, 1.5); constant tensors (zero biases, unit
        gammas, zero means) get N(0, 0.3) noise; the rest (kernels) N(0, std/2) on top of their initial values,
        so no mapping hides behind an initial 0 or 1 and the scale stays that of a trained layer."""
        np = self.np

        def moved(name: str, values):
            values = np.asarray(values, dtype="float32")
            if name.endswith(("running_var", "moving_variance")):
                return rng.uniform(0.5, 1.5, values.shape).astype("float32")
            spread = float(values.std()) if values.size > 1 else 0.0
            noise = 0.3 if spread == 0.0 else spread / 2
            return (values + rng.normal(0.0, noise, values.shape)).astype("float32")

        if framework == "torch":
            torch = self.torch
            with torch.no_grad():
                for name, tensor in list(model.named_parameters()) + list(model.named_buffers()):
                    if tensor.is_floating_point():
                        new = moved(name, tensor.detach().cpu().numpy())
                        tensor.copy_(torch.from_numpy(new).to(tensor.device, tensor.dtype))
            return
        for variable in model.weights:
            if "float" in str(variable.dtype):
                variable.assign(moved(variable.path, variable.numpy()))


def _worker() -> int:
    """`python -m tensorlint.migrations.verify`: a Job as JSON on stdin, the DeviceResult as JSON on the last
    line of stdout."""
    data = json.loads(sys.stdin.read())
    data["input_shapes"] = tuple(tuple(shape) for shape in data["input_shapes"])
    try:
        result = measure(Job(**data))
    except VerifyUsageError as exc:
        print(json.dumps({"usage_error": str(exc)}))
        return 0
    print(json.dumps(asdict(result)))
    return 0


if __name__ == "__main__":
    sys.exit(_worker())
