"""PyTorch -> Keras 3 for a whole symbol, as a transformation of the user's module (ARCHITECTURE.md, Translation).

1. *Closure*: the symbol and every top-level definition it reaches (:mod:`.closure`), relative imports followed.
2. *Rewrite*: one libcst transformer over those statements. Framework references are mapped (layer constructors
   through the catalog, functional ops and tensor methods through :class:`.op_translator.OpTranslator`, layer
   classes used as values through generated factories with torch's signature, ``nn.Sequential``/``ModuleList``/
   ``ModuleDict``/``Parameter``/``register_buffer`` to their Keras counterparts), plain Python is left as it is, and
   what cannot be mapped becomes a ``# TODO(tensorlint)`` comment above its statement.
3. *Mirror*: attribute names, list and Sequential nesting stay the source's, so
4. ``copy_weights(source, target)`` walks the torch module tree at run time (``named_modules()``), finds the Keras
   object at the same path and copies each layer with the catalog's weight rule for it (tagged on the Keras object
   when it is built), failing on any torch tensor or Keras weight left unpaired.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst

from . import catalog
from .catalog import REQUIRED
from .closure import closure, used_names
from .common import (
    KERAS, PRESERVE, TODO_TAG, ParsedSource, TranslationError, code_of, one_line, weight_statements,
)
from .generated_helpers import KERAS_HELPERS, WEIGHT_HELPERS
from .layer_translator import LayerOut, LayerTranslator
from .op_translator import python_containers, single_assignments
from .rewrite import ClosureRewriter, assemble, copy_rule_definitions, drop_imports, register_copy_rule
from .tensor_aliases import function_aliases

_CONTAINERS = {"torch.nn.Sequential": "TorchSequential", "torch.nn.ModuleList": "list", "torch.nn.ModuleDict": "dict",
               "torch.nn.ParameterList": "list", "torch.nn.ParameterDict": "dict"}
# Attributes keras.layers.Layer defines itself: a torch module's own attribute of that name is renamed (and
# copy_weights follows the rename), so that `self.name = name` does not fight Keras's read-only `name`.
KERAS_LAYER_ATTRIBUTES = frozenset({
    "name", "dtype", "trainable", "weights", "variables", "input", "output", "built", "path", "losses", "metrics",
    "layers", "input_spec", "supports_masking", "compute_dtype", "variable_dtype", "dtype_policy",
    "trainable_weights", "non_trainable_weights", "trainable_variables", "non_trainable_variables", "stateless",
    "quantization_mode", "call", "build", "add_weight", "get_config",
})
# torch calls that only initialise weights or log usage: copy_weights sets every weight, so they have no Keras
# counterpart to write (a note, not a TODO)
_INITIALISERS = ("torch.nn.init.", "torch._C._log_api_usage_once", "torch.nn.utils.parametrize")
_SCRIPTING_QUERIES = ("torch.jit.is_scripting", "torch.jit.is_tracing", "torch.compiler.is_compiling",
                      "torch._dynamo.is_compiling", "torch.fx._symbolic_trace.is_fx_tracing",
                      # torch's autocast is a state of torch's dispatcher: never on in Keras code
                      "torch.is_autocast_enabled", "torch.is_autocast_cpu_enabled", "torch.is_autocast_xpu_enabled",
                      "torch.is_autocast_ipu_enabled", "torch.is_autocast_cache_enabled")
_AUTOCAST_DTYPES = {"torch.get_autocast_gpu_dtype": "float16", "torch.get_autocast_cpu_dtype": "bfloat16",
                    "torch.get_autocast_dtype": "float16"}
_AUTOCAST_BFLOAT16 = {device: "bfloat16" for device in ("cpu", "hpu", "xla", "maia")}
_AUTOCAST = ("torch.amp.autocast", "torch.autocast", "torch.cuda.amp.autocast", "torch.cpu.amp.autocast",
             "torch.amp.autocast_mode.autocast")
_MODULES_AS_VALUES = {"torch": "keras.ops", "torch.nn.functional": "keras.ops", "torch.nn": "keras.layers"}
_CHECKPOINT_OPTIONS = {"use_reentrant", "preserve_rng_state", "context_fn", "determinism_check", "debug"}
_STATE_DICT_HOOKS = ("_load_from_state_dict", "_save_to_state_dict", "_register_load_state_dict_pre_hook")
_MAX_STACKED = 4  # torch recurrent layers with num_layers up to this many are copied
_INIT_NOTE = "torch weight initialisation is not translated: copy_weights sets every weight"

RUNTIME_HELPERS = {
    "TorchSequential": '''
class TorchSequential(keras.layers.Layer):
    """torch's nn.Sequential: children named "0", "1", ... (or by an OrderedDict's keys), indexable and iterable,
    applied in order."""

    def __init__(self, *modules, **kwargs):
        super().__init__(**kwargs)
        object.__setattr__(self, "_order", [])  # a plain list: Keras need not track names
        items = modules[0].items() if len(modules) == 1 and isinstance(modules[0], dict) else enumerate(modules)
        for name, module in items:
            self.add_module(str(name), module)

    def __setattr__(self, name, value):
        # as in torch, a module assigned as an attribute (`self.norm = ...` in a subclass) joins the sequence
        super().__setattr__(name, value)
        if isinstance(value, keras.layers.Layer) and not name.startswith("_") and name not in self._order:
            self._order.append(name)

    def add_module(self, name, module):
        setattr(self, name, module)

    def append(self, module):
        self.add_module(str(len(self._order)), module)
        return self

    def __getitem__(self, index):
        if isinstance(index, slice):
            return TorchSequential(*[getattr(self, name) for name in self._order[index]])
        return getattr(self, self._order[index])

    def __len__(self):
        return len(self._order)

    def __iter__(self):
        return iter([getattr(self, name) for name in self._order])

    def call(self, x):
        for module in self:
            x = module(x)
        return x
''',
    "TorchModuleDict": '''
class TorchModuleDict(keras.layers.Layer):
    """torch's nn.ModuleDict as a base class: children by name, in insertion order."""

    def __init__(self, modules=None, **kwargs):
        super().__init__(**kwargs)
        self._order = []
        for name, module in dict(modules or {}).items():
            self.add_module(name, module)

    def add_module(self, name, module):
        setattr(self, name, module)
        self._order.append(name)

    def __getitem__(self, name):
        return getattr(self, name)

    def __len__(self):
        return len(self._order)

    def __iter__(self):
        return iter(list(self._order))

    def keys(self):
        return list(self._order)

    def values(self):
        return [getattr(self, name) for name in self._order]

    def items(self):
        return [(name, getattr(self, name)) for name in self._order]
''',
    "_tagged": '''
def _tagged(layer, copy_rule):
    """Remember which weight rule copies a torch layer into this Keras layer (read by copy_weights)."""
    layer._tensorlint_copy = copy_rule
    return layer
''',
    "_init_torch_base": '''
def _init_torch_base(module, factory, *args, **kwargs):
    """`super().__init__(...)` of a class deriving from a torch layer: the layer the catalog maps it to, built by
    `factory` (torch's signature) as `module._torch_base`; torch's constructor arguments become attributes under
    their names, as torch keeps them (parameters, device and dtype aside)."""
    import inspect

    module._torch_base = factory(*args, **kwargs)
    bound = inspect.signature(factory).bind(*args, **kwargs)
    bound.apply_defaults()
    for name, value in bound.arguments.items():
        if name not in module._torch_parameters and name not in ("device", "dtype"):
            setattr(module, name, value)
''',
    "_tensor_to": '''
def _tensor_to(x, target):
    """torch's x.to(target) with the target known only at run time: a tensor casts x to its dtype, a dtype casts,
    anything else is a device (Keras places tensors itself) and leaves x as it is."""
    if keras.ops.is_tensor(target) or (hasattr(target, "shape") and hasattr(target, "dtype")):
        return keras.ops.cast(x, target.dtype)  # a tensor, a keras.Variable, an array
    try:
        dtype = keras.backend.standardize_dtype(target)
    except (ValueError, TypeError, AttributeError):
        return x
    return keras.ops.cast(x, dtype)
''',
    "_creation_dtype": '''
def _creation_dtype(factory_kwargs):
    """torch's `**factory_kwargs` (device=, dtype=) of a tensor creation, for keras.ops: the dtype when one is given
    (Keras places tensors itself)."""
    unknown = set(factory_kwargs) - {"device", "dtype"}
    if unknown:
        raise TypeError(f"tensor creation keywords {sorted(unknown)} are not translated (only device= and dtype=)")
    dtype = factory_kwargs.get("dtype")
    return {} if dtype is None else {"dtype": dtype}
''',
    "_register_buffer": '''
def _register_buffer(module, name, value, persistent=True):
    """torch's module.register_buffer: a non-trainable Keras variable (None stays None)."""
    setattr(module, name, None if value is None else keras.Variable(value, trainable=False))
''',
}

COPY_WEIGHTS = '''
def copy_weights(source, target):
    """Copy every parameter and buffer of the torch `source` into its translation `target`, walking both module
    trees by attribute path. Call both once on an input first so Keras builds its weights. Fails on any torch tensor
    or Keras weight left unpaired."""
    import keras

    done, assigned = [], set()
    for path, module in source.named_modules():
        if any(path == prefix or path.startswith(prefix + ".") for prefix in done if prefix):
            continue
        state = module.state_dict(keep_vars=True)
        # non-persistent buffers too (timm's BlurPool2d filter): the translation keeps them as variables
        state.update({name: buffer for name, buffer in module.named_buffers(recurse=False)
                      if name in getattr(module, "_non_persistent_buffers_set", ())})
        own = [name for name in dict(module.named_parameters(recurse=False)) | dict(module.named_buffers(recurse=False))
               if name in state and not name.endswith("num_batches_tracked")]
        layer = _at_path(target, path, _RENAMED)
        layer = getattr(layer, "_torch_base", layer)  # a class deriving from a torch layer: the catalog's mapping
        rule = getattr(layer, "_tensorlint_copy", None)
        if rule is not None:
            globals()[rule](module, layer)
            assigned.update(id(variable) for variable in layer.weights)
            done.append(path)
            continue
        for name in own:
            variable = _at_path(layer, name, _RENAMED)
            if not isinstance(variable, keras.Variable):
                raise ValueError(f"{path + '.' if path else ''}{name}: no Keras variable at that path")
            value = state[name].detach().cpu().numpy()
            if tuple(value.shape) != tuple(variable.shape):
                raise ValueError(f"{path}.{name}: shape {value.shape} != {tuple(variable.shape)}")
            variable.assign(value.astype(variable.dtype))
            assigned.add(id(variable))
    left = [variable.path for variable in target.weights if id(variable) not in assigned]
    if left:
        raise ValueError(f"Keras weights no torch tensor was copied into: {left}")

'''


_WEIGHT_HELPERS_MODULE = cst.parse_module(WEIGHT_HELPERS)


@dataclass
class _State:
    helpers: set[str] = field(default_factory=set)  # KERAS_HELPERS names
    runtime: set[str] = field(default_factory=set)  # RUNTIME_HELPERS names
    factories: dict[str, str] = field(default_factory=dict)  # torch class -> factory definition
    factory_access: dict[str, str] = field(default_factory=dict)  # torch class -> its factory's target_access
    copy_rules: dict[str, str] = field(default_factory=dict)  # rule body -> rule name
    notes: list[str] = field(default_factory=list)
    renamed: set[str] = field(default_factory=set)


def _factory_name(canonical: str) -> str:
    return "torch_" + canonical.rsplit(".", 1)[-1]


class _TorchToKeras(ClosureRewriter):
    """The rewrite of the closure's statements (the op translator's mapping of ops and tensor methods, plus layers,
    containers, classes, values, annotations and imports)."""

    def __init__(self, source: ParsedSource, layout: str, state: _State):
        super().__init__(source, KERAS, layout)
        self.state = state
        self.layers = LayerTranslator(KERAS, layout, model_level=True)
        self.call_funcs: set[int] = set()
        self.chain_parts: set[int] = set()
        self.class_stack: list[tuple[cst.ClassDef, bool]] = []  # (class, translated from a torch module)
        self.torch_classes: set[str] = set()  # classes deriving from torch modules, met so far (source order)
        # (function, its aliased updates, the enclosing function's out_of_place and local_values)
        self.function_stack: list[tuple[cst.FunctionDef, dict, frozenset, dict]] = []
        self.module_containers = _module_containers_of(source, None)
        self.containers = self.module_containers
        self.relative_imports = _names_bound_by_relative_imports(source.module)
        self.unreachable_fallbacks = _fallbacks_of_dropped_imports(source.module)

    def _statement_aliases(self, node: cst.CSTNode) -> dict | None:
        function = self.function_stack[-1] if self.function_stack else None
        return function[1].get(node) if function is not None else None

    def leave_SimpleStatementLine(self, original, updated):
        dropped = self._dropped(original)
        if dropped is not None:
            self._discard()
            return dropped
        return super().leave_SimpleStatementLine(original, updated)

    def leave_For(self, original, updated):
        if self._is_init_loop(original):
            self._discard()
            return self._pass(original, _INIT_NOTE)
        return super().leave_For(original, updated)

    # -- statements dropped whole: weight initialisation and usage logging --
    def _pass(self, original, note: str) -> cst.SimpleStatementLine:
        self.state.notes.append(note)
        return cst.SimpleStatementLine(body=[cst.Pass()], leading_lines=original.leading_lines,
                                       trailing_whitespace=cst.TrailingWhitespace(
                                           whitespace=cst.SimpleWhitespace("  "),
                                           comment=cst.Comment(f"# tensorlint: {note}")))

    def _dropped(self, original: cst.SimpleStatementLine):
        if _is_relative_import(original) and original in self.unreachable_fallbacks:
            return self._pass(original, "an `except ImportError:` fallback of torch imports never runs in the "
                                        "translation, which drops those imports")
        if _is_relative_import(original):
            # the closure follows top-level relative imports; one inside a block (`except ImportError:`) is not
            return _commented_relative_import(original, nested=len(self.statement_marks) > 1)
        if all(isinstance(small, (cst.Import, cst.ImportFrom)) for small in original.body):
            kept = _drop_torch_imports(original)
            if kept is None:  # `try: from torch... import x` inside a block: nothing to import in Keras code
                return self._pass(original, "torch imports inside blocks are dropped")
            return kept if kept is not original else None
        if len(original.body) != 1 or not isinstance(original.body[0], cst.Expr):
            return None
        call = original.body[0].value
        if not isinstance(call, cst.Call):
            return None
        canonical = self.source.resolve(call.func) or ""
        if canonical.startswith(_INITIALISERS):
            return self._pass(original, _INIT_NOTE)
        if canonical == "torch.fx.wrap":
            return self._pass(original, "torch.fx.wrap only marks a function for torch.fx tracing")
        if canonical == "torch._assert" and call.args:
            self._discard()
            self.statement_marks.append(len(self.pending))
            test = _enclosed(call.args[0].value.visit(self))
            message = _enclosed(call.args[1].value.visit(self)) if len(call.args) > 1 else None
            return original.with_changes(body=[cst.Assert(test=test, msg=message)])
        if isinstance(call.func, cst.Attribute) and call.func.attr.value == "apply" and \
                isinstance(call.func.value, cst.Name) and call.func.value.value == "self":
            return self._pass(original, _INIT_NOTE)  # self.apply(self._init_weights)
        return None

    def _is_init_loop(self, node: cst.For) -> bool:
        """`for m in self.modules(): ...` (named_modules, children too): torch weight initialisation."""
        it = node.iter
        return isinstance(it, cst.Call) and isinstance(it.func, cst.Attribute) and \
            it.func.attr.value in ("modules", "named_modules", "children", "named_children", "parameters",
                                   "named_parameters") and code_of(it.func.value) == "self"

    # -- classes and methods --
    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.chain_parts.add(id(node.name))  # a name being defined, not a use of an imported one
        # a base class is judged once, as a base (leave_ClassDef), not also as a value (torch.autograd.Function
        # carried two TODOs at every class deriving from it)
        self.chain_parts.update(id(base.value) for base in node.bases)
        torch_class = any((self.source.resolve(base.value) or "").startswith("torch.") or (
            isinstance(base.value, cst.Name) and base.value.value in self.torch_classes) for base in node.bases)
        if torch_class:
            self.torch_classes.add(node.name.value)
        self.class_stack.append((node, torch_class))
        self._mark(node)

    def leave_ClassDef(self, original: cst.ClassDef, updated: cst.ClassDef):
        self.class_stack.pop()
        bases = []
        for original_base, base in zip(original.bases, updated.bases):
            canonical = self.source.resolve(original_base.value)
            if canonical == "torch.nn.Module":
                base = base.with_changes(value=cst.parse_expression("keras.layers.Layer"))
            elif canonical in ("torch.nn.Sequential", "torch.nn.ModuleDict"):
                helper = "TorchSequential" if canonical == "torch.nn.Sequential" else "TorchModuleDict"
                self.state.runtime.add(helper)
                base = base.with_changes(value=cst.Name(helper))
            elif canonical and canonical.startswith("torch") and catalog.torch_entries(canonical):
                try:
                    base = base.with_changes(value=cst.Name(self._base_class(canonical)))
                except _Unmappable as exc:
                    self._todo(f"base class {canonical}: {exc}; keras.layers.Layer stands in, so its behaviour and "
                               "weights are missing here", base.value)
                    base = base.with_changes(value=cst.parse_expression("keras.layers.Layer"))
            elif canonical and canonical.startswith("torch"):
                # the module must still import (no torch there): keras.layers.Layer stands in, the TODO says what
                # the torch base class did that is missing
                self._todo(f"base class {canonical} has no Keras counterpart: its behaviour is missing here",
                           base.value)
                base = base.with_changes(value=cst.parse_expression("keras.layers.Layer"))
            bases.append(base)
        return self._place(updated.with_changes(bases=bases))

    def _plain_module_class(self) -> bool:
        """The class being translated derives from nn.Module (directly or through local classes), not from a
        torch container whose Keras helper has add_module itself."""
        if not self._in_torch_class():
            return False
        bases = {self.source.resolve(base.value) for base in self.class_stack[-1][0].bases}
        return not bases & set(_CONTAINERS)

    def _in_torch_class(self) -> bool:
        return bool(self.class_stack) and self.class_stack[-1][1]

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        # `except ImportError: def _assert(...)`: the fallback of `from torch import _assert` defines the name
        self.chain_parts.add(id(node.name))
        klass = self.class_stack[-1][0] if self.class_stack else None
        containers = python_containers(node, klass) | self.module_containers | _module_containers_of(self.source, klass)
        if klass is None and not _mentions_torch(self.source, node):
            updates, out_of_place = {}, frozenset()  # a helper that only computes numbers (`_make_divisible`)
        else:
            aliases = function_aliases(self.source, node, KERAS, klass, containers)
            updates, out_of_place = aliases.updates, aliases.out_of_place
        self.function_stack.append((node, updates, self.out_of_place, self.local_values))
        self.out_of_place = out_of_place
        self.local_values = single_assignments(node)
        self.saved_containers = getattr(self, "saved_containers", [])
        self.saved_containers.append(self.containers)
        self.containers = containers
        self._mark(node)

    def _plumbing_decorator(self, decorator: cst.Decorator) -> bool:
        target = decorator.decorator.func if isinstance(decorator.decorator, cst.Call) else decorator.decorator
        return (self.source.resolve(target) or "").startswith(("torch.jit.", "torch.fx.", "torch.compiler."))

    def visit_Decorator(self, node: cst.Decorator) -> bool:
        return not self._plumbing_decorator(node) and not self._names_torch(node.decorator)  # both dropped

    def leave_Decorator(self, original: cst.Decorator, updated: cst.Decorator):
        target = original.decorator.func if isinstance(original.decorator, cst.Call) else original.decorator
        if self._plumbing_decorator(original):
            self.state.notes.append(f"@{code_of(target)} is TorchScript/torch.fx plumbing: dropped")
            return cst.RemoveFromParent()
        if self._names_torch(updated.decorator):  # `@torch.no_grad()`: applied at import, where no torch is
            why = " (Keras records gradients only inside a GradientTape; keras.ops.stop_gradient stops them)" if (
                self.source.resolve(target) or "") in ("torch.no_grad", "torch.inference_mode") else ""
            self._todo(f"@{code_of(original.decorator).strip()} has no Keras counterpart: dropped{why}", updated)
            return cst.RemoveFromParent()
        return updated

    def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef):
        _, _, self.out_of_place, self.local_values = self.function_stack.pop()
        self.containers = self.saved_containers.pop()
        if self._in_torch_class() and original.name.value in _STATE_DICT_HOOKS:
            self._discard()
            self.state.notes.append(f"{original.name.value}() is a torch state-dict hook (Keras never calls it): "
                                    "dropped; copy_weights reads the torch model's current state")
            return cst.RemoveFromParent()
        if self._in_torch_class() and original.name.value == "forward":
            updated = updated.with_changes(name=cst.Name("call"))
            if _mentions_self_training(self.class_stack[-1][0]):
                params = updated.params
                training = cst.Param(cst.Name("training"), default=cst.Name("None"),
                                     equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")))
                if params.star_kwarg is None and params.star_arg is cst.MaybeSentinel.DEFAULT and not params.kwonly_params:
                    last = params.params[-1] if params.params else None
                    plist = list(params.params)
                    if last is not None and last.comma is cst.MaybeSentinel.DEFAULT:
                        plist[-1] = last.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
                    elif last is not None:  # one parameter a line, trailing comma: the new one alike
                        training = training.with_changes(comma=last.comma)
                        plist[-1] = last.with_changes(comma=plist[-2].comma if len(plist) > 1 else last.comma)
                    updated = updated.with_changes(params=params.with_changes(params=[*plist, training]))
                else:
                    updated = updated.with_changes(params=params.with_changes(
                        kwonly_params=[*params.kwonly_params, training],
                        star_arg=params.star_arg if params.star_arg is not cst.MaybeSentinel.DEFAULT
                        else cst.ParamStar()))
                # torch's module.training, read by this method and the class's others: Keras passes the mode to
                # call() only
                body = list(updated.body.body)
                first = 1 if body and _is_docstring(body[0]) else 0
                body.insert(first, cst.parse_statement("self.training = bool(training)\n"))
                updated = updated.with_changes(body=updated.body.with_changes(body=body))
        return self._place(updated)

    def leave_Attribute(self, original: cst.Attribute, updated: cst.Attribute) -> cst.BaseExpression:
        if original.attr.value == "forward" and _is_super_call(original.value) and self._in_torch_class():
            return updated.with_changes(attr=cst.Name("call"))  # `super().forward(x)`: the base's call
        if isinstance(original.value, cst.Name) and original.value.value == "self" and self._in_torch_class():
            name = original.attr.value
            if name == "training":
                return updated.with_changes(attr=original.attr)  # set from `training` at the start of call()
            if name in KERAS_LAYER_ATTRIBUTES and name not in ("call", "build"):
                self.state.renamed.add(name)
                return updated.with_changes(attr=cst.Name(name + "_"))
            if name == "forward":
                return updated.with_changes(attr=cst.Name("call"))
            return updated.with_changes(attr=original.attr)
        result = super().leave_Attribute(original, updated)
        return self._value(original, result)

    def leave_Name(self, original: cst.Name, updated: cst.Name) -> cst.BaseExpression:
        return self._value(original, super().leave_Name(original, updated))

    # -- annotations: torch types become forward references (strings), never evaluated --
    def visit_Annotation(self, node: cst.Annotation) -> bool:
        return False

    def leave_Annotation(self, original: cst.Annotation, updated: cst.Annotation) -> cst.Annotation:
        """An annotation naming a torch type becomes a string, whole (`'Optional[nn.Module]'`,
        `'torch.jit.Final[bool]'`): a forward reference Python never evaluates, so the dropped torch import is not
        needed, even in a class body where annotations are evaluated."""
        return updated.with_changes(annotation=self._forward_reference(original.annotation))

    def _forward_reference(self, annotation: cst.BaseExpression) -> cst.BaseExpression:
        """The annotation as a string when it names a torch type or a name a relative import binds (`Union[
        mobilenet.MobileNetV2, ...]` with `from .. import mobilenet`: a module the closure does not inline)."""
        from ..analyzers.traversal import nodes_of_type

        names = [annotation] if isinstance(annotation, cst.Name) else nodes_of_type(annotation, cst.Name)
        if any((self.source.resolve(name) or "").startswith("torch") or name.value in self.relative_imports
               for name in names):
            text = " ".join(code_of(annotation).split())
            quote = '"' if "'" in text else "'"
            if quote not in text:
                return cst.SimpleString(f"{quote}{text}{quote}")
        return annotation

    def leave_Param(self, original: cst.Param, updated: cst.Param) -> cst.Param:
        """A default left in torch (`device=torch.device("cpu")`, its TODO already written) would fail when the
        module is imported, as defaults are evaluated there: None stands in, under one more TODO."""
        updated = super().leave_Param(original, updated)
        if updated.default is None or original.default is None or not self._names_torch(updated.default):
            return updated
        self._todo(f"the default `{original.name.value}={' '.join(code_of(original.default).split())}` has no Keras "
                   "counterpart: None stands in for it", updated.default)
        return updated.with_changes(default=cst.Name("None"))

    def _names_torch(self, expression: cst.BaseExpression) -> bool:
        """Whether translated code still names something the source imported from torch (left under a TODO)."""
        return self.source.names_from(expression, ("torch",))

    def visit_Assign(self, node: cst.Assign) -> bool:
        return not self._is_annotations_table(node)  # its values are annotations (leave_Assign), not values

    def leave_Assign(self, original: cst.Assign, updated: cst.Assign) -> cst.Assign:
        """torchvision's `__annotations__ = {"cell_anchors": List[torch.Tensor]}` in a class body: evaluated when the
        class is created, so its values become forward references as annotations do."""
        if not self._is_annotations_table(original):
            return updated
        return updated.with_changes(value=updated.value.with_changes(elements=[
            element.with_changes(value=self._forward_reference(element.value))
            if isinstance(element, cst.DictElement) else element for element in updated.value.elements]))

    @staticmethod
    def _is_annotations_table(node: cst.Assign) -> bool:
        return len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name) and \
            node.targets[0].target.value == "__annotations__" and isinstance(node.value, cst.Dict)

    def visit_Import(self, node: cst.Import) -> bool:
        return False  # module names in imports are not values

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        return False

    # -- framework objects used as values --
    def visit_Call(self, node: cst.Call) -> None:
        self.call_funcs.add(id(node.func))
        if isinstance(node.func, cst.Name) and node.func.value == "isinstance" and len(node.args) == 2 and \
                self.source.resolve(node.args[1].value) == "torch.Tensor":
            self.chain_parts.add(id(node.args[1].value))  # the whole isinstance() is mapped in leave_Call

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self.chain_parts.add(id(node.value))  # `torch._C` in `torch._C.f`: judged with the whole chain
        self.chain_parts.add(id(node.attr))  # `self.stochastic_depth` is no use of an imported `stochastic_depth`

    def _value(self, original: cst.BaseExpression, updated: cst.BaseExpression) -> cst.BaseExpression:
        if id(original) in self.call_funcs or id(original) in self.chain_parts:
            return updated
        canonical = self.source.resolve(original)
        if not canonical or not canonical.startswith("torch"):
            return updated
        if canonical == "torch.nn.Module":
            return cst.parse_expression("keras.layers.Layer")
        dtype = catalog.keras_dtype_name(canonical)
        if dtype:  # torch.float32 -> "float32": keras.ops takes dtype names, and x.dtype == "bool" compares
            return cst.SimpleString(repr(dtype))
        if canonical in _MODULES_AS_VALUES:  # hasattr(torch.nn.functional, "scaled_dot_product_attention")
            return cst.parse_expression(_MODULES_AS_VALUES[canonical])
        if canonical in _CONTAINERS:
            container = _CONTAINERS[canonical]
            if container == "TorchSequential":
                self.state.runtime.add("TorchSequential")
            return cst.Name(container)
        if catalog.torch_entries(canonical):
            try:
                return cst.Name(self._factory(canonical))
            except _Unmappable as exc:
                return self._todo(str(exc), updated)
        if not self.function_stack:  # a module-level table or class attribute: evaluated at import, without torch
            return self._todo(f"{canonical} used as a value has no Keras counterpart: None stands in for it",
                              cst.Name("None"))
        return self._todo(f"{canonical} used as a value has no Keras counterpart", updated)

    def _factory(self, canonical: str) -> str:
        """A function with torch's constructor signature that builds the Keras layer (for `norm_layer =
        nn.BatchNorm2d`, `act_layer=nn.GELU`, `partial(nn.LayerNorm, eps=1e-6)`)."""
        name = _factory_name(canonical)
        if canonical in self.state.factories:
            if not self.state.factories[canonical]:
                raise _Unmappable(f"{canonical} used as a value: its Keras form needs literal arguments")
            return name
        entry = catalog.torch_entries(canonical)[0]
        defaults = {arg.torch: arg.torch_default for arg in entry.args if arg.torch}
        params = [p for p in entry.torch_signature]
        required = [p for p in params if defaults.get(p, None) is REQUIRED]
        optional = [p for p in params if p not in required]
        kept: list[str] = []
        out = self._translate_synthetic(canonical, required, kept)
        for param in optional:
            trial = self._translate_synthetic(canonical, required, [*kept, param])
            if trial is not None and out is not None and not trial.todos and not trial.call_adapter:
                kept.append(param)
                out = trial
        # a parameter the translation accepted but never wrote into the Keras call is not translated either
        kept = [p for p in kept if re.search(rf"(?<![\w.]){p}(?!\w)", out.expr)] if out is not None else kept
        if out is None or out.todos:
            self.state.factories[canonical] = ""
            raise _Unmappable(f"{canonical} used as a value: its Keras form needs literal arguments")
        signature = ", ".join([*required, *(f"{p}={_default_code(defaults.get(p))}" for p in optional)])
        guards = [f"    if {p} != {_default_code(defaults.get(p))}:\n        raise NotImplementedError("
                  f"\"{name}: {p}={{!r}} is not translated\".format({p}))"
                  for p in optional if p not in kept and p not in ("device", "dtype", "inplace")]
        self.state.helpers |= out.helpers
        self.state.factory_access[canonical] = out.target_access
        rule = self._copy_rule(out)
        body = "\n".join([*guards, f"    return {_tag(_keras_spelling(out.expr), rule)}"])
        self.state.factories[canonical] = f"def {name}({signature}):\n" \
                                          f"    \"\"\"torch's {canonical.rsplit('.', 1)[-1]}(...) as a Keras layer.\"\"\"\n" \
                                          f"{body}\n"
        if rule:
            self.state.runtime.add("_tagged")
        return name

    def _base_class(self, canonical: str) -> str:
        """A user class deriving from a torch layer the catalog maps (timm's `LayerNorm(nn.LayerNorm)`) derives from
        this generated Keras layer instead: its `__init__` takes torch's arguments and builds the catalog's mapping
        (the factory) as `_torch_base`, which copy_weights fills with the catalog's weight rule; torch's constructor
        arguments stay attributes under their names, and the parameters the catalog copies unchanged (`weight` ->
        `gamma`) read as the Keras weights; `call` is the base's unless the class overrides it."""
        factory = self._factory(canonical)
        name = f"{factory}_base"
        key = f"{canonical}:base"
        if key in self.state.factories:
            return name
        entry = catalog.torch_entries(canonical)[0]
        access = self.state.factory_access.get(canonical, "")
        parameters: dict[str, str | None] = {}  # torch parameter -> the Keras weight it is copied into unchanged
        for weight in entry.to_keras_weights:
            plain = re.fullmatch(r"t\['(\w+)'\](?: if '\1' in t else None)?", weight.expr)
            for torch_name in re.findall(r"t\['(\w+)'\]", weight.expr):
                parameters[torch_name] = weight.target if plain else parameters.get(torch_name)
        self.state.runtime.add("_init_torch_base")
        # a parameter stored in another layout (a transposed kernel) has no property: reading it fails loudly
        properties = "".join(f"\n    {torch} = property(lambda self: _keras_variables(self._torch_base{access}).get("
                             f"{keras!r}))" for torch, keras in parameters.items() if keras)
        short = canonical.rsplit(".", 1)[-1]
        build = "self._torch_base.build(input_shape)"
        if entry.torch_input_arg:
            # a subclass's call may give the torch layer's weights a tensor of another layout (torchvision's and
            # timm's LayerNorm2d normalise NCHW over C after a permute): the weights take the size torch's
            # constructor was given, at the Keras layer's feature axis
            features = "shape[1:2] = sizes[:1]" if entry.spatial and self.layout == PRESERVE else \
                "shape[len(shape) - len(sizes):] = sizes"
            build = (f"shape, size = list(input_shape), self.{entry.torch_input_arg}\n"
                     f"        sizes = list(size) if isinstance(size, (tuple, list)) else [size]\n"
                     f"        {features}\n"
                     f"        self._torch_base.build(tuple(shape))")
        self.state.factories[key] = f'''class {name}(keras.layers.Layer):
    """torch's {short} as a base class: {factory}(...) built as `_torch_base` (see _init_torch_base)."""

    _torch_parameters = {parameters!r}

    def __init__(self, *args, **kwargs):
        super().__init__()
        _init_torch_base(self, {factory}, *args, **kwargs)
{properties}

    def build(self, input_shape):
        {build}

    def call(self, inputs, *args, **kwargs):
        return self._torch_base(inputs, *args, **kwargs)
'''
        return name

    def _translate_synthetic(self, canonical: str, required: list[str], optional: list[str]) -> LayerOut | None:
        text = f"{canonical}({', '.join([*required, *(f'{p}={p}' for p in optional)])})"
        call = cst.parse_expression(text)
        try:
            return self.layers.translate(call, canonical)
        except Exception:
            return None

    def _copy_rule(self, out: LayerOut) -> str | None:
        if not out.weights:
            return None
        access = out.target_access
        if "{layer}" in access:  # stacked recurrent layers: one Keras layer per torch layer, counted at run time
            statements = [f"if source.num_layers > {_MAX_STACKED}:",
                          f"    raise ValueError('more than {_MAX_STACKED} stacked recurrent layers')"]
            for index in range(_MAX_STACKED):
                statements.append(f"if source.num_layers > {index}:")
                statements += ["    " + line for line in "\n".join(weight_statements(
                    out.weights, KERAS, "source", "target" + access.replace("{layer}", str(index)), index)).splitlines()]
        else:
            statements = weight_statements(out.weights, KERAS, "source", f"target{access}")
        return register_copy_rule(self.state.copy_rules, statements, out.key)

    # -- calls: layers, containers, parameters; everything else is the op translator's --
    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        canonical = self.source.resolve(original.func)
        if canonical in _CONTAINERS:
            container = _CONTAINERS[canonical]
            if container == "TorchSequential":
                self.state.runtime.add("TorchSequential")
                return updated.with_changes(func=cst.Name("TorchSequential"))
            if not updated.args:
                return cst.parse_expression("[]" if container == "list" else "{}")
            return updated.with_changes(func=cst.Name(container))
        if canonical in ("torch.nn.Parameter", "torch.nn.parameter.Parameter"):
            value = updated.args[0].value if updated.args else cst.Name("None")
            trainable = next((a.value for a in updated.args[1:] if a.keyword is None or a.keyword.value ==
                              "requires_grad"), None)
            text = f"keras.Variable({code_of(value)}" + (f", trainable={code_of(trainable)})" if trainable else ")")
            return cst.parse_expression(text)
        if isinstance(original.func, cst.Attribute) and original.func.attr.value == "register_buffer" and \
                code_of(original.func.value) == "self":
            self.state.runtime.add("_register_buffer")
            return updated.with_changes(func=cst.Name("_register_buffer"), args=[cst.Arg(cst.Name("self")),
                                                                                 *updated.args])
        if canonical and catalog.torch_entries(canonical):
            return self._layer(original, updated, canonical)
        if canonical == "torch.utils.checkpoint.checkpoint" and updated.args:
            # activation checkpointing trades memory for recomputation; the function's result is the same
            self.state.notes.append("torch.utils.checkpoint.checkpoint(f, *args) becomes f(*args) (no activation "
                                    "checkpointing in the translation)")
            rest = [a for a in updated.args[1:] if a.keyword is None or a.keyword.value not in _CHECKPOINT_OPTIONS]
            if rest:
                rest[-1] = rest[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
            return cst.Call(func=updated.args[0].value, args=rest)
        if canonical in _AUTOCAST and any(arg.keyword is not None and arg.keyword.value == "enabled" and
                                          code_of(arg.value).strip() == "False" for arg in updated.args):
            # autocast switched off: torch's autocast never runs in Keras code, so the block runs as it is
            return cst.parse_expression("contextlib.nullcontext()")
        if isinstance(original.func, cst.Attribute) and original.func.attr.value == "register_parameter" and \
                code_of(original.func.value) == "self" and self._in_torch_class() and len(updated.args) == 2:
            # the parameter (a keras.Variable here, or None) as the attribute torch makes it
            return updated.with_changes(func=cst.Name("setattr"), args=[cst.Arg(cst.Name("self")), *updated.args])
        if canonical == "torch.jit.annotate" and len(updated.args) == 2:
            return updated.args[1].value
        if isinstance(original.func, cst.Name) and original.func.value == "isinstance" and len(updated.args) == 2 \
                and self.source.resolve(original.args[1].value) == "torch.Tensor":
            return cst.parse_expression(f"keras.ops.is_tensor({code_of(updated.args[0].value)})")
        if isinstance(original.func, cst.Attribute) and original.func.attr.value in ("add_module", "register_module") \
                and code_of(original.func.value) == "self" and self._in_torch_class():
            if not self._plain_module_class():
                return updated  # TorchSequential / TorchModuleDict have add_module
            return updated.with_changes(func=cst.Name("setattr"), args=[cst.Arg(cst.Name("self")), *updated.args])
        if isinstance(original.func, cst.Attribute) and original.func.attr.value in ("dim", "ndimension") and \
                not original.args and self.source.resolve(original.func) is None and \
                code_of(original.func.value) not in self.containers:
            return cst.parse_expression(f"keras.ops.ndim({code_of(updated.func.value)})")
        if canonical in _AUTOCAST_DTYPES:
            # the dtype torch's autocast would use on a device: its defaults (Keras code never sets it)
            self.state.notes.append("torch's autocast dtype queries read torch's defaults (float16; bfloat16 on "
                                    "cpu/hpu/xla/maia): the translation never runs under torch's autocast")
            device = code_of(updated.args[0].value) if updated.args else None
            if canonical == "torch.get_autocast_dtype" and device is not None:
                return cst.parse_expression(f"{_AUTOCAST_BFLOAT16!r}.get({device}, 'float16')")
            return cst.SimpleString(repr(_AUTOCAST_DTYPES[canonical]))
        if canonical in _SCRIPTING_QUERIES:
            # Keras code is never TorchScript-compiled, traced or torch.compile'd, nor under torch's autocast
            return cst.Name("False")
        if canonical and re.fullmatch(r"torch\.nn\.functional\.adaptive_(avg|max)_pool([123])d", canonical):
            pooled = self._global_pool(canonical, updated)
            if pooled is not None:
                return pooled
        if canonical and canonical.startswith(_INITIALISERS):
            self.state.notes.append(_INIT_NOTE)
            return updated
        if isinstance(original.func, cst.Attribute) and code_of(original.func.value) in self.containers:
            return updated  # `_registry.add(f)`, `self.blocks.append(b)`: Python containers, not tensors
        written = self._variable_written(original)
        if written is not None and len(updated.args) == 1 and updated.args[0].keyword is None:
            # `self.filt.copy_(blur_filter)` into a buffer or parameter of this class: a keras.Variable here, which
            # takes the value as torch's copy_ does (cast to its dtype, broadcast to its shape)
            variable, value = code_of(updated.func.value), code_of(updated.args[0].value)
            if variable.endswith(".data"):
                variable = variable[:-len(".data")]
            return cst.parse_expression(f"{variable}.assign(keras.ops.broadcast_to(keras.ops.cast({value}, "
                                        f"{variable}.dtype), {variable}.shape))")
        keywords = [arg for arg in updated.args if arg.star == "**"]
        if len(keywords) == 1 and self._creation_op(original, canonical) and \
                self._factory_keys(code_of(keywords[0].value)) is None:  # keys known: the op translator's case
            return self._creation_with_keywords(original, updated, keywords[0])
        before = len(self.todos)
        result = super().leave_Call(original, updated)
        self.pending += self.todos[before:]  # the op translator's own (layout) TODOs; _place writes each once
        return result

    def _to_value_known_at_run_time(self, x: str, code: str, call: cst.Call) -> cst.BaseExpression:
        """`x.to(x_dtype)`, `x.to(device)`, `x.to(other)`: which one only the run time knows (timm's fast_norm
        casts with `x.to(dt)`): _tensor_to decides there."""
        self.state.runtime.add("_tensor_to")
        return cst.parse_expression(f"_tensor_to({x}, {code})")

    def _variable_written(self, original: cst.Call) -> str | None:
        """`self.<name>.copy_(...)` (or `self.<name>.data.copy_(...)`) where <name> is a buffer or parameter the
        class registers (`register_buffer("name", ...)`, `register_parameter`, `self.name = nn.Parameter(...)`):
        the name."""
        func = original.func
        if not (isinstance(func, cst.Attribute) and func.attr.value == "copy_" and self._in_torch_class()):
            return None
        receiver = func.value
        if isinstance(receiver, cst.Attribute) and receiver.attr.value == "data":
            receiver = receiver.value
        if not (isinstance(receiver, cst.Attribute) and isinstance(receiver.value, cst.Name) and
                receiver.value.value == "self"):
            return None
        name = receiver.attr.value
        return name if name in _registered_variables(self.source, self.class_stack[-1][0]) else None

    def _creation_op(self, original: cst.Call, canonical: str | None) -> bool:
        """`torch.zeros/ones/empty(...)`: a tensor creation op the catalog maps that takes sizes and a dtype."""
        op = catalog.OPS_BY_TORCH.get(canonical) or catalog.ONE_WAY_BY_TORCH.get(canonical) if canonical else None
        return op is not None and op.strategy == "shape_varargs" and op.keras_signature == ("shape", "dtype")

    def _creation_with_keywords(self, original: cst.Call, updated: cst.Call, keywords: cst.Arg):
        """`torch.ones(1, **kwargs)` where which keywords kwargs holds is known only at run time (a parameter, a dict
        built elsewhere): the Keras op takes the dtype from them when one is given (Keras places tensors itself)."""
        rest = [arg for arg in updated.args if arg is not keywords]
        if rest:
            rest[-1] = rest[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        before = len(self.todos)
        result = super().leave_Call(original, updated.with_changes(args=rest))
        self.pending += self.todos[before:]
        if not isinstance(result, cst.Call):
            return result
        self.state.runtime.add("_creation_dtype")
        dtype = cst.Arg(cst.parse_expression(f"_creation_dtype({code_of(keywords.value)})"), star="**")
        args = list(result.args)
        if args:
            args[-1] = args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        return result.with_changes(args=[*args, dtype])

    def _global_pool(self, canonical: str, updated: cst.Call) -> cst.BaseExpression | None:
        """F.adaptive_avg_pool2d(x, 1) / (1, 1): a mean (max) over the spatial axes, kept (the NCHW result); another
        size, literal or known only at run time (timm's `F.adaptive_avg_pool2d(x, output_size)`): the
        AdaptivePooling helper applied where the call stands (it has no weights)."""
        rank = int(canonical[-2])
        size = next((a.value for a in updated.args[1:2] if a.keyword is None), None) or next(
            (a.value for a in updated.args if a.keyword and a.keyword.value == "output_size"), None)
        if not updated.args or size is None or updated.args[0].keyword is not None or \
                any(arg.star or (arg.keyword and arg.keyword.value not in ("input", "output_size"))
                    for arg in updated.args) or len(updated.args) > 2:
            return None
        ok, value = catalog.literal(code_of(size))
        sizes = value if isinstance(value, tuple) else (value,) * rank
        if ok and (not all(v is None or isinstance(v, int) for v in sizes) or len(sizes) != rank):
            return None
        reduce = "mean" if "_avg_" in canonical else "max"
        if not ok or not all(v == 1 for v in sizes):
            self.state.helpers.add("AdaptivePooling")
            size_code = repr(sizes) if ok else code_of(size)
            pooling = f"AdaptivePooling({size_code}, mode={'avg' if reduce == 'mean' else 'max'!r})"
            if self.layout == PRESERVE:
                self.state.helpers.add("ChannelsFirst")
                pooling = f"ChannelsFirst({pooling})"
            return cst.parse_expression(f"{pooling}({code_of(updated.args[0].value)})")
        axes = tuple(range(2, 2 + rank)) if self.layout == PRESERVE else tuple(range(1, 1 + rank))
        return cst.parse_expression(f"keras.ops.{reduce}({code_of(updated.args[0].value)}, axis={axes!r}, "
                                    "keepdims=True)")

    def _layer(self, original: cst.Call, updated: cst.Call, canonical: str) -> cst.BaseExpression:
        if any(arg.star for arg in updated.args):
            # `nn.Conv2d(i, o, bias=False, **kwargs)`, `nn.Linear(d, d, **dd)`: the arguments are known only at run
            # time, so the factory with torch's signature converts them there
            try:
                return updated.with_changes(func=cst.Name(self._factory(canonical)))
            except _Unmappable:
                pass
        call = updated.with_changes(func=original.func)
        out = self.layers.translate(call, canonical)
        self.state.helpers |= out.helpers
        self.state.notes += out.notes
        for reason in out.todos:
            self._todo(reason, updated)
        rule = self._copy_rule(out)
        if rule:
            self.state.runtime.add("_tagged")
        return cst.parse_expression(_tag(_keras_spelling(out.expr), rule))


_CONTAINER_CALLS = {"set", "list", "dict", "tuple", "frozenset", "collections.OrderedDict", "collections.defaultdict",
                    "collections.deque", "torch.nn.Sequential", "torch.nn.ModuleList", "torch.nn.ModuleDict",
                    "torch.nn.ParameterList", "torch.nn.ParameterDict"}


def _module_containers_of(source: ParsedSource, klass: cst.ClassDef | None) -> frozenset[str]:
    """Names holding Python containers or torch module containers: module-level `_registry = set()` (klass None),
    or a class's `self.blocks = nn.ModuleList(...)` / `nn.Sequential(...)`, so `_registry.add(f)` and
    `self.blocks[i] = block` stay plain Python."""
    from ..analyzers.traversal import nodes_of_type

    found = set()
    statements = source.module.body if klass is None else list(nodes_of_type(klass, cst.SimpleStatementLine))
    for statement in statements:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if not isinstance(small, (cst.Assign, cst.AnnAssign)) or small.value is None:
                continue
            value = small.value
            is_container = isinstance(value, (cst.List, cst.Dict, cst.Set, cst.ListComp, cst.DictComp, cst.SetComp)) \
                or isinstance(value, cst.Call) and (
                    (source.resolve(value.func) or code_of(value.func)) in _CONTAINER_CALLS)
            if not is_container:
                continue
            targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else [small.target]
            for target in targets:
                text = code_of(target)
                if (klass is None and isinstance(target, cst.Name)) or (klass is not None and text.startswith("self.")):
                    found.add(text)
    return frozenset(found)


def _registered_variables(source: ParsedSource, klass: cst.ClassDef) -> set[str]:
    """The buffers and parameters a torch class registers under a literal name or as `self.<name> =
    nn.Parameter(...)`, in any of its methods: keras.Variables in the translation."""
    from ..analyzers.traversal import nodes_of_type

    names = set()
    for call in nodes_of_type(klass, cst.Call):
        func = call.func
        if isinstance(func, cst.Attribute) and func.attr.value in ("register_buffer", "register_parameter") and \
                code_of(func.value) == "self" and call.args and isinstance(call.args[0].value, cst.SimpleString):
            names.add(call.args[0].value.evaluated_value)
    for assign in nodes_of_type(klass, cst.Assign):
        if isinstance(assign.value, cst.Call) and source.resolve(assign.value.func) in (
                "torch.nn.Parameter", "torch.nn.parameter.Parameter"):
            names.update(target.target.attr.value for target in assign.targets
                         if isinstance(target.target, cst.Attribute) and code_of(target.target.value) == "self")
    return names


def _is_super_call(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == "super"


def _mentions_torch(source: ParsedSource, node: cst.CSTNode) -> bool:
    from ..analyzers.traversal import nodes_of_type

    return any((source.resolve(name) or "").startswith("torch") for name in nodes_of_type(node, cst.Name))


class _Unmappable(Exception):
    pass


def _tag(expr: str, rule: str | None) -> str:
    return f"_tagged({expr}, {rule!r})" if rule else expr


def _keras_spelling(expr: str) -> str:
    """`layers.Dense` -> `keras.layers.Dense`: the generated code never binds `layers`, which the user's code may
    use for its own parameter or local (`def make(layers): ...`)."""
    return re.sub(r"(?<![\w.])layers\.", "keras.layers.", expr)


def _default_code(value) -> str:
    return "None" if value is REQUIRED or value is None else repr(value)


def _is_docstring(statement: cst.BaseStatement) -> bool:
    return isinstance(statement, cst.SimpleStatementLine) and isinstance(statement.body[0], cst.Expr) and \
        isinstance(statement.body[0].value, (cst.SimpleString, cst.ConcatenatedString))


def _mentions_self_training(function: cst.CSTNode) -> bool:
    from ..analyzers.traversal import nodes_of_type

    return any(isinstance(node.value, cst.Name) and node.value.value == "self" and node.attr.value == "training"
               for node in nodes_of_type(function, cst.Attribute))


def _mapped_by_the_catalog(qualified: str) -> bool:
    """A third-party torch layer or op the catalog maps (timm's DropPath, torchvision's stochastic_depth): imported
    and mapped, not inlined."""
    return not qualified.startswith("torch.") and bool(
        catalog.torch_entries(qualified) or qualified in catalog.OPS_BY_TORCH or qualified in catalog.ONE_WAY_BY_TORCH)


def _drop_torch_imports(statement: cst.BaseStatement) -> cst.BaseStatement | None:
    return drop_imports(statement, ("torch", "torchvision"), _mapped_by_the_catalog)


def _names_bound_by_relative_imports(module: cst.Module) -> set[str]:
    return {alias.evaluated_alias or alias.evaluated_name
            for statement in module.body if isinstance(statement, cst.SimpleStatementLine)
            for small in statement.body
            if isinstance(small, cst.ImportFrom) and small.relative and not isinstance(small.names, cst.ImportStar)
            for alias in small.names}


def _enclosed(expression: cst.BaseExpression) -> cst.BaseExpression:
    """An argument that spans lines inside the call's parentheses, parenthesized to stand outside them (the test
    and message of `torch._assert(...)` become an `assert` statement's)."""
    if "\n" not in code_of(expression) or expression.lpar:
        return expression
    return expression.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])


def _commented_relative_import(statement: cst.SimpleStatementLine, nested: bool = False) -> cst.SimpleStatementLine:
    """A standalone module cannot import relatively: the import stays as a comment under a TODO, so the module
    imports and a use of what it names fails with that name."""
    # `from .x import (\n    a,\n    b,\n)` on one line: a comment ends at a line break
    text = one_line(code_of(statement.with_changes(leading_lines=())).strip())
    why = "a relative import inside a block is not followed" if nested else \
        "that module was not found beside the source"
    comment = cst.EmptyLine(comment=cst.Comment(f"{TODO_TAG} `{text}`: {why}; translate it too"))
    return cst.SimpleStatementLine(
        body=[cst.Pass()], leading_lines=[*statement.leading_lines, comment],
        trailing_whitespace=cst.TrailingWhitespace(whitespace=cst.SimpleWhitespace("  "),
                                                   comment=cst.Comment(f"# {text}")))


def _fallbacks_of_dropped_imports(module: cst.Module) -> set[cst.SimpleStatementLine]:
    """The statements in the handlers of a `try:` whose body is only torch imports (timm's `try: from
    torch.nn.functional import rms_norm` / `except ImportError: from .fast_norm import rms_norm`): the translation
    drops those imports, so its `try` body cannot raise and the handlers never run."""
    from ..analyzers.traversal import nodes_of_type

    unreachable: set[cst.SimpleStatementLine] = set()
    for node in nodes_of_type(module, cst.Try):
        body = node.body.body if isinstance(node.body, cst.IndentedBlock) else ()
        if body and all(isinstance(statement, cst.SimpleStatementLine) and all(
                isinstance(small, (cst.Import, cst.ImportFrom)) for small in statement.body) and
                _drop_torch_imports(statement) is None for statement in body):
            for handler in node.handlers:
                unreachable.update(nodes_of_type(handler, cst.SimpleStatementLine))
    return unreachable


def _is_relative_import(statement: cst.BaseStatement) -> bool:
    return isinstance(statement, cst.SimpleStatementLine) and any(
        isinstance(small, cst.ImportFrom) and small.relative for small in statement.body)


def _header(symbol: str, origin: str, layout: str) -> str:
    where = f"{origin}:{symbol}" if origin else symbol
    return (f'"""{where}: translated by tensorlint (PyTorch -> Keras, layout {layout}).\n\n'
            "Every torch module became a keras.layers.Layer with the same attributes, so copy_weights(source, target)\n"
            "copies an instance of the original into an instance of this translation by attribute path; call both\n"
            'once on an input first so Keras builds its weights.\n"""')


@dataclass(frozen=True)
class ModuleTranslation:
    text: str
    notes: tuple[str, ...]
    todos: int
    unresolved: tuple[str, ...]


def translate_torch_symbol(source_text: str, symbol: str, layout: str = PRESERVE, origin: str = "",
                           path: str | Path | None = None, also: tuple[str, ...] = ()) -> ModuleTranslation:
    """The module translating ``symbol`` (a torch class, builder or Sequential assignment) and all it reaches
    (``also``: more top-level names to bring along, e.g. those a constructor call names)."""
    try:
        module = cst.parse_module(source_text)
    except cst.ParserSyntaxError as exc:
        raise TranslationError(f"syntax error at line {exc.raw_line}") from None
    reached = closure(module, {symbol, *also}, path, keep=_mapped_by_the_catalog)
    closure_module = reached.module()
    source = ParsedSource(closure_module.code)
    state = _State()
    transformer = _TorchToKeras(source, layout, state)
    statements = []
    for statement in source.module.body:
        kept = _drop_torch_imports(statement)
        if kept is None:
            continue
        statements.append(kept.visit(transformer))
    body = cst.Module(body=statements).code.strip()
    rename_table = "_RENAMED = " + repr(tuple(sorted(state.renamed)))
    helpers = [KERAS_HELPERS[name].strip() for name in sorted(state.helpers)]
    runtime = [RUNTIME_HELPERS[name].strip() for name in sorted(state.runtime)]
    factories = [text.strip() for text in state.factories.values() if text]
    rules = copy_rule_definitions(state.copy_rules)
    copying = "\n".join([*rules, COPY_WEIGHTS, *factories])  # generated base classes read Keras weights too
    weight_helpers = closure(_WEIGHT_HELPERS_MODULE, used_names(cst.parse_module(copying))).code().strip()
    imports = ["import keras", "import numpy as np"]
    if re.search(r"(?<![\w.])math\.", body) and not re.search(r"^import math$", body, re.MULTILINE):
        imports.append("import math")  # the op translator's element counts (math.prod)
    if "contextlib.nullcontext()" in body and not re.search(r"^import contextlib$", body, re.MULTILINE):
        imports.append("import contextlib")  # `with torch.amp.autocast(enabled=False):`
    text = assemble(_header(symbol, origin, layout), ["\n".join(imports), *helpers, *runtime, *factories, body,
                                                      *rules, COPY_WEIGHTS.strip(),
                                                      rename_table, weight_helpers])
    return ModuleTranslation(text, tuple(dict.fromkeys(state.notes + transformer.notes)), text.count(TODO_TAG),
                             reached.unresolved)
