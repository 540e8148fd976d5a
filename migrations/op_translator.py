"""Functional ops, tensor methods and training flags inside forward()/call() bodies, read from the catalog."""

from __future__ import annotations

import re

import libcst as cst

from . import catalog
from .catalog import REQUIRED, OpPair
from .common import (
    KERAS, NATIVE, TORCH, ParsedSource, code_of, framework_of_name, in_place_reason, is_literal, literal_value,
    render_call, spell, todo_lines,
)
from .layer_defaults import differences_for
from .torch_tensor_methods import TENSOR_METHODS


# -- functional ops inside forward/call ----------------------------------------------------------------------------
def op_for(source: ParsedSource, call: cst.Call, to: str) -> OpPair | None:
    canonical = source.resolve(call.func)
    if to == KERAS:
        if canonical in catalog.OPS_BY_TORCH:
            return catalog.OPS_BY_TORCH[canonical]
        if canonical in catalog.ONE_WAY_BY_TORCH:
            return catalog.ONE_WAY_BY_TORCH[canonical]
        if canonical is None and isinstance(call.func, cst.Attribute):
            name = _METHOD_ALIASES.get(call.func.attr.value, call.func.attr.value)
            return catalog.OPS_BY_METHOD.get(name) or catalog.ONE_WAY_BY_METHOD.get(name)
        return None
    if canonical in catalog.OPS_BY_KERAS and canonical.startswith(("keras.ops.", "keras.random.")):
        return catalog.OPS_BY_KERAS[canonical]
    return None


class OpTranslator(cst.CSTTransformer):
    """Rewrites functional calls, tensor methods and training flags inside forward/call bodies."""

    def __init__(self, source: ParsedSource, to: str, layout: str, layer_attrs: dict[str, str] | None = None,
                 training_param: bool = False, containers: frozenset[str] = frozenset(),
                 aliased_updates: dict[int, str] | None = None):
        super().__init__()
        self.source, self.to, self.layout = source, to, layout
        self.training_param = training_param  # Keras -> torch: the `training` argument became self.training
        self.todos: list[str] = []
        # TODOs already written above the (possibly nested) statement they concern: counted, not re-emitted
        self.placed_todos: list[str] = []
        self.containers = containers  # names certainly holding a Python list/dict/set (see python_containers)
        # the augmented assignments on a name in this statement (numbered in source order) that may change a tensor
        # shared with another live tensor, with the TODO reason (see tensor_aliases.aliased_updates)
        self.aliased_updates = aliased_updates or {}
        self._name_updates = 0
        # in-place tensor method calls (original nodes) that write into a tensor nothing else refers to, so that the
        # out-of-place op is the same (tensor_aliases.function_aliases)
        self.out_of_place: frozenset[cst.Call] = frozenset()
        # the locals of the current function bound exactly once, by `name = value`: name -> the source's value
        self.local_values: dict[str, str] = {}
        self.notes: list[str] = []
        self.layer_attrs = layer_attrs or {}

    def translate(self, node: cst.CSTNode) -> cst.CSTNode:
        return node.visit(self)

    def leave_SimpleStatementLine(self, original: cst.SimpleStatementLine,
                                  updated: cst.SimpleStatementLine) -> cst.SimpleStatementLine:
        """torch -> Keras: item assignment into a tensor (`x[:, 0] = 0`, `x[mask] = y`, `x[i] += 1`) has no Keras
        form (Keras/TensorFlow tensors are immutable): a counted TODO directly above that statement, even inside
        a loop or an `if`. No functional rewrite is attempted: torch's write is also seen through every alias and
        view of the tensor (`y = x[:, :2]; y[0] = 0` changes x), which rebinding one name cannot reproduce.

        Both directions: `h += x` on a name that may share its tensor with another live tensor (an alias, a view, a
        stored copy; tensor_aliases decides, per function) is in place in torch and a rebinding in Keras: a counted
        TODO directly above it too."""
        reasons = self._statement_todos(original.body)
        if not reasons:
            return updated
        comments = todo_lines(reasons)
        return updated.with_changes(leading_lines=[*updated.leading_lines, *comments])

    def leave_SimpleStatementSuite(self, original: cst.SimpleStatementSuite,
                                   updated: cst.SimpleStatementSuite) -> cst.BaseSuite:
        """`if c: h[0] = 1` on one line: the same TODOs, with the statement moved onto its own line under them."""
        reasons = self._statement_todos(original.body)
        if not reasons:
            return updated
        comments = todo_lines(reasons)
        return cst.IndentedBlock(body=[cst.SimpleStatementLine(body=updated.body, leading_lines=comments)])

    def _statement_todos(self, body) -> list[str]:
        reasons = []
        for small in body:
            if isinstance(small, cst.AugAssign) and isinstance(small.target, cst.Name):
                if self._name_updates in self.aliased_updates:
                    reasons.append(self.aliased_updates[self._name_updates])
                self._name_updates += 1
            elif self.to == KERAS:
                reasons += self._item_assignments(small)
        self.placed_todos += reasons
        return reasons

    def _item_assignments(self, small: cst.BaseSmallStatement) -> list[str]:
        if isinstance(small, cst.Assign):
            targets = [sub for target in small.targets for sub in _subscripts_in_target(target.target)]
            how, operator = "assigns into", "="
        elif isinstance(small, (cst.AugAssign, cst.AnnAssign)) and isinstance(small.target, cst.Subscript) and \
                getattr(small, "value", None) is not None:
            targets = [small.target]
            how = "updates" if isinstance(small, cst.AugAssign) else "assigns into"
            operator = code_of(small.operator).strip() if isinstance(small, cst.AugAssign) else "="
        else:
            return []
        reasons = []
        for target in targets:
            if code_of(target.value) in self.containers:
                continue  # outs["a"] = h on a dict/list built in this function or class: plain Python
            where = code_of(target).strip()
            where = where if len(where) <= 60 else where[:57] + "..."
            reasons.append(f"`{where} {operator} ...` {how} a tensor in place; Keras tensors are immutable: build "
                           "the new tensor out of place (keras.ops.where, keras.ops.slice_update) and rebind it "
                           "(torch's write also changes the tensor's views and aliases)")
        return reasons

    def leave_Expr(self, original: cst.Expr, updated: cst.Expr) -> cst.BaseSmallStatement:
        """`m.masked_fill_(mask, v)` on a tensor nothing else refers to, translated out of place: `m = <op>`."""
        call = original.value
        if self.to != KERAS or call not in self.out_of_place or not isinstance(call.func.value, cst.Name):
            return updated
        still = updated.value
        if isinstance(still, cst.Call) and isinstance(still.func, cst.Attribute) and \
                still.func.attr.value == call.func.attr.value:
            return updated  # not translated: its TODO says why
        return cst.Assign(targets=[cst.AssignTarget(cst.Name(call.func.value.value))], value=updated.value,
                          semicolon=updated.semicolon)

    def leave_Arg(self, original: cst.Arg, updated: cst.Arg) -> cst.Arg:
        return updated.with_changes(keyword=original.keyword)

    def leave_Param(self, original: cst.Param, updated: cst.Param) -> cst.Param:
        return updated.with_changes(name=original.name)

    def leave_Attribute(self, original: cst.Attribute, updated: cst.Attribute) -> cst.BaseExpression:
        updated = updated.with_changes(attr=original.attr)
        if isinstance(updated.value, cst.Name) and updated.value.value == "self" and updated.attr.value == "training" \
                and self.to == KERAS:
            return cst.Name("training")
        return updated

    def leave_Name(self, original: cst.Name, updated: cst.Name) -> cst.BaseExpression:
        if self.to == TORCH and updated.value == "training" and self.training_param:
            return cst.parse_expression("self.training")
        return updated

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        canonical = self.source.resolve(original.func)
        if self.to == KERAS:
            return self._to_keras(original, updated, canonical)
        return self._to_torch(original, updated, canonical)

    def _todo(self, reason: str, node: cst.BaseExpression) -> cst.BaseExpression:
        self.todos.append(reason)
        return node

    def _args(self, updated: cst.Call, signature: tuple[str, ...], method_receiver: cst.BaseExpression | None):
        bound: dict[str, str] = {}
        extra: list[str] = []
        names = list(signature)
        if method_receiver is not None:
            bound[names.pop(0)] = code_of(method_receiver)
        position = 0
        after_star = False  # positionals after `*args` have no known index: they stay in order, in extra
        for arg in updated.args:
            if arg.star:
                extra.append(f"{arg.star}{code_of(arg.value)}")
                after_star = after_star or arg.star == "*"
                continue
            if arg.keyword is not None:
                bound[arg.keyword.value] = code_of(arg.value)
            elif position < len(names) and not after_star:
                bound[names[position]] = code_of(arg.value)
                position += 1
            else:
                extra.append(code_of(arg.value))
        return bound, extra

    def _to_keras(self, original: cst.Call, updated: cst.Call, canonical: str | None) -> cst.BaseExpression:
        func = updated.func
        receiver = None
        if canonical in catalog.OPS_BY_TORCH:
            op = catalog.OPS_BY_TORCH[canonical]
        elif canonical in catalog.ONE_WAY_BY_TORCH:
            op = catalog.ONE_WAY_BY_TORCH[canonical]
        elif canonical is None and isinstance(func, cst.Attribute):
            name = func.attr.value
            if name.endswith("_") and original in self.out_of_place:
                name = name[:-1]  # `m.masked_fill_(...)` on a tensor no other name sees: `m.masked_fill(...)`
            if name in _TORCH_ONLY_SELF_METHODS and isinstance(func.value, cst.Name) and func.value.value == "self":
                return self._todo(f"self.{name}() is nn.Module API that keras.Model does not have", updated)
            if _is_self_or_super(func.value) or _is_layer_call(func, self.layer_attrs):
                return updated  # a sub-layer or a method of the model itself, translated on its own
            if _rooted_at_literal(func.value):
                return updated  # "a,b".split(","), ",".join(names).split(","): not tensors
            if name == "split" and (not updated.args or isinstance(updated.args[0].value, (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString))):
                return updated  # str.split(), line.split(","): not a tensor
            if name in ("contiguous", "clone") and not updated.args:
                return func.value
            if name == "size":
                shape = f"keras.ops.shape({code_of(func.value)})"
                if updated.args:
                    return cst.parse_expression(f"{shape}[{code_of(updated.args[0].value)}]")
                return cst.parse_expression(shape)
            if name in _CAST_METHODS and not updated.args:
                return cst.parse_expression(f"keras.ops.cast({code_of(func.value)}, {_CAST_METHODS[name]!r})")
            if name == "to":
                return self._to_method(func.value, updated)
            if name == "type_as" and len(updated.args) == 1 and updated.args[0].keyword is None:
                return cst.parse_expression(f"keras.ops.cast({code_of(func.value)}, "
                                            f"{_grouped(code_of(updated.args[0].value))}.dtype)")
            if name == "detach" and not updated.args:
                return cst.parse_expression(f"keras.ops.stop_gradient({code_of(func.value)})")
            name = _METHOD_ALIASES.get(name, name)
            op = catalog.OPS_BY_METHOD.get(name) or catalog.ONE_WAY_BY_METHOD.get(name)
            if op is None:
                return self._unmapped_method(func.attr.value, updated)
            receiver = func.value
        else:
            if framework_of_name(canonical) == TORCH:
                return self._todo(f"{canonical} has no Keras equivalent in the catalog", updated)
            return updated
        if op.key in ("max_all", "min_all") and len(updated.args) > (0 if receiver is not None else 1):
            which = op.key[:3]
            return self._todo(f"{which}() with arguments: with a dim torch returns (values, indices), with a tensor "
                              f"it is torch.{which}imum; spell it with keras.ops.{which} / keras.ops.arg{which} / "
                              f"keras.ops.{which}imum", updated)
        bound, extra = self._args(updated, op.torch_signature, receiver)
        if op.key == "clamp" and not extra and ("min" in bound) != ("max" in bound):
            # keras.ops.clip needs both bounds: a one-sided clamp is a maximum (min=) or a minimum (max=)
            key = "clamp_min" if "min" in bound else "clamp_max"
            one_sided = next(o for o in catalog.ONE_WAY_OPS if o.key == key)
            return self._emit_op(one_sided, bound, extra, updated, KERAS)
        return self._emit_op(op, bound, extra, updated, KERAS)

    def _unmapped_method(self, name: str, node: cst.Call) -> cst.BaseExpression:
        """A method call the catalog does not map: a counted TODO when it is a torch.Tensor method (Keras tensors
        have none of them), unchanged otherwise (`outputs.append(h)`, `self.heads.items()`)."""
        if name not in TENSOR_METHODS:
            return node
        if name.endswith("_"):
            return self._todo(in_place_reason([name]), node)
        if name in _TO_PYTHON_METHODS:
            return self._todo(f"Tensor.{name}() reads the tensor's value into Python: a Keras graph has no such value "
                              "(keras.ops.convert_to_numpy works only eagerly)", node)
        return self._todo(f"Tensor.{name}() has no Keras equivalent in the catalog", node)

    def _emit_op(self, op: OpPair, bound: dict[str, str], extra: list[str], node: cst.Call, to: str):
        for name in (*op.torch, op.keras):
            for d in differences_for(name):
                self.notes.append(f"{d.concept}: PyTorch {d.torch_arg}={d.torch_default}, Keras {d.keras_arg}="
                                  f"{d.keras_default} ({d.consequence}); the translation keeps the source's value")
        result = self._emit_op_plain(op, bound, extra, node, to)
        layout_bound = op.key in _LAYOUT_OPS or any(name in bound for name in ("dim", "axis", "dim0", "dims", "axes"))
        if self.layout == NATIVE and layout_bound and result is not node:
            self.todos.append(f"native layout: the axes of {op.key} refer to the source's layout "
                              f"({'NCHW' if to == KERAS else 'NHWC'}); check them")
        return result

    def _emit_op_plain(self, op: OpPair, bound: dict[str, str], extra: list[str], node: cst.Call, to: str):
        src_names = op.torch_signature if to == KERAS else op.keras_signature
        strategy = op.strategy
        if to == KERAS:
            for name in _PLACEMENT_ARGS:
                if name in bound:
                    self.notes.append(f"`{name}={bound.pop(name)}` is dropped: Keras places tensors itself")
            if any(arg.torch == "dtype" for arg in op.args):  # a tensor creation: `**dd` may be known
                extra = [part for part in extra if not (part.startswith("**") and
                                                        self._factory_keywords(part[2:], bound))]
                if any(part.startswith("**") for part in extra):  # device=/dtype= known only at run time
                    return self._todo("`**` keyword arguments of a tensor creation (device=, dtype=) are known "
                                      "only at run time: spell dtype= out", node)
        if any(part.startswith("**") for part in extra):
            return self._todo("`**` keyword arguments are not translated", node)
        if strategy in ("shape_varargs", "new_tensor", "expand"):
            shape_name = src_names[1] if src_names[0] in ("input", "x") else src_names[0]
            sizes = extra
            if sizes:
                parts = [bound.pop(shape_name)] + sizes if shape_name in bound else sizes
                bound[shape_name] = f"({', '.join(parts)},)" if len(parts) == 1 else f"({', '.join(parts)})"
            extra = []
        if strategy == "meshgrid":
            return self._meshgrid(bound, extra, node, to)
        if strategy == "varargs_after_first" and to == KERAS:
            operands = [bound.pop(k) for k in list(bound) if k != "equation"]
            return cst.parse_expression(f"keras.ops.einsum({bound['equation']}, {', '.join(operands + extra)})")
        if strategy == "varargs_after_first" and to == TORCH:
            operands = [bound.pop(k) for k in list(bound) if k != "subscripts"]
            return cst.parse_expression(f"torch.einsum({bound['subscripts']}, {', '.join(operands + extra)})")
        if strategy == "dropout_op" and to == KERAS:
            x, rate = bound.get("input"), bound.get("p", "0.5")
            training = bound.get("training", "True")
            dropped = f"keras.random.dropout({x}, {rate})"
            if training == "True":
                self.notes.append("F.dropout defaults to training=True: it drops at inference too")
                return cst.parse_expression(dropped)
            if training == "False":
                return cst.parse_expression(x)
            return cst.parse_expression(f"({dropped} if {training} else {x})")
        if strategy == "dropout_op" and to == TORCH:
            return cst.parse_expression(f"F.dropout({bound.get('inputs')}, {bound.get('rate')}, training=True)")
        if strategy == "flatten_op" and to == KERAS:
            return self._flatten_to_keras(bound.get("input"), bound.get("start_dim", "0"), bound.get("end_dim", "-1"),
                                          node)
        special = getattr(self, f"_{strategy}_to_{to}", None) if strategy else None
        if special is not None:
            if extra:
                return self._todo("variadic arguments are not translated", node)
            result = special(op, bound, node)
            if result is not None:
                return result
        if extra:
            return self._todo("variadic arguments are not translated", node)
        target_args: list[str] = []
        keywords: list[tuple[str, str]] = []
        for arg in op.args:
            src = arg.torch if to == KERAS else arg.keras
            tgt = arg.keras if to == KERAS else arg.torch
            convert = catalog.CONVERTERS[arg.to_keras if to == KERAS else arg.to_torch]
            src_default = arg.torch_default if to == KERAS else arg.keras_default
            tgt_default = arg.keras_default if to == KERAS else arg.torch_default
            if src in bound:
                code = bound.pop(src)
                if tgt is None:
                    if src_default is not REQUIRED and is_literal(code) and literal_value(code) == src_default:
                        continue  # the source's default, spelled out: nothing to carry over
                    return self._todo(f"`{src}={code}` has no counterpart", node)
                keywords.append((tgt, convert(code)))
            elif tgt is not None and src_default is not REQUIRED:
                if tgt_default is REQUIRED:
                    if src_default is None:  # e.g. keras.ops.flip's axis=None (every axis); torch needs dims
                        return self._todo(f"`{src}` is left at its default (None) and the target needs `{tgt}`: "
                                          f"spell the axes out", node)
                    keywords.append((tgt, convert(repr(src_default))))
                elif src_default != tgt_default:
                    keywords.append((tgt, convert(repr(src_default))))
        if to == KERAS and "inplace" in bound:
            bound.pop("inplace")
            self.notes.append("inplace=True: the Keras op returns a new tensor and leaves its input unchanged (as "
                              "torch does for `x = F.relu(x, inplace=True)`)")
        if bound:
            return self._todo(f"arguments {sorted(bound)} are not translated", node)
        target_signature = op.keras_signature if to == KERAS else op.torch_signature
        # the leading arguments go positionally, in the target's order
        by_name = dict(keywords)
        positional_count = 3 if op.key in ("transpose", "arange", "eye", "full") else 1
        if to == TORCH and op.key in ("clamp", "where", "einsum"):
            positional_count = 3
        if to == KERAS and op.key in ("clamp", "where", "unsqueeze"):
            positional_count = 3
        if len(target_signature) > 1 and target_signature[1] in ("x2", "other", "mat2", "exponent", "newshape",
                                                                 "shape", "axes", "dims", "axis2", "k", "shift",
                                                                 "shifts", "indices"):
            positional_count = max(positional_count, 2)
        for name in target_signature[:positional_count]:
            if name in by_name:
                target_args.append(by_name.pop(name))
            else:
                break
        function = op.keras if to == KERAS else (op.torch[0] if op.torch else None)
        if function is None:  # a method-only op (view): spell it as a method on the first argument
            receiver = target_args.pop(0)
            text = render_call(f"{receiver}.{op.torch_method}", target_args, list(by_name.items()))
            return cst.parse_expression(text)
        return cst.parse_expression(render_call(spell(function), target_args, list(by_name.items())))

    def _flatten_to_keras(self, x: str, start: str, end: str, node: cst.Call):
        """torch.flatten(x, s, e) merges axes s..e: a reshape keeping the axes before s and after e (literal axes;
        Python's slicing takes negative ones as torch does)."""
        first, last = literal_value(start), literal_value(end)
        if not isinstance(first, int) or not isinstance(last, int):
            return self._todo(f"flatten(start_dim={start}, end_dim={end}) with axes that are not literals is not "
                              "translated", node)
        if first == 0 and last == -1:
            return cst.parse_expression(f"keras.ops.reshape({x}, (-1,))")
        x, once = _evaluated_once(x, "flat")
        if first == 1 and last == -1:  # the common case, spelled as before
            return cst.parse_expression(f"keras.ops.reshape({once}, (keras.ops.shape({x})[0], -1))")
        kept_after = "" if last == -1 else f", *keras.ops.shape({x})[{last + 1}:]"
        return cst.parse_expression(f"keras.ops.reshape({once}, (*keras.ops.shape({x})[:{first}], -1{kept_after}))")

    def _to_method(self, receiver: cst.BaseExpression, call: cst.Call) -> cst.BaseExpression:
        """x.to(dtype) / x.to(dtype=...) is a cast; x.to(device) / x.to(device=...) is x (Keras places tensors
        itself); x.to(other) casts to other's dtype but is spelled like x.to(device): a positional argument that is
        neither a torch dtype nor a device string is a TODO."""
        x = code_of(receiver)
        dtype = None
        for arg in call.args:
            keyword = arg.keyword.value if arg.keyword is not None else None
            code = code_of(arg.value)
            if arg.star or keyword not in (None, "dtype", "device", "non_blocking", "copy", "memory_format"):
                return self._todo(f"Tensor.to() with `{code_of(arg).strip()}` is not translated", call)
            value = literal_value(code)
            named_dtype = catalog.keras_dtype_name(self.source.resolve(arg.value) or "") or (
                value if isinstance(value, str) and value in catalog.KERAS_DTYPES else None)  # torch.float64, 'float64'
            if keyword is None and not named_dtype and self._is_dtype_attribute(code):
                keyword = "dtype"  # x.to(y.dtype), or x.to(x_dtype) after `x_dtype = y.dtype`: a cast
            if keyword == "dtype" or (keyword is None and named_dtype):
                dtype = repr(named_dtype) if named_dtype else code
            elif keyword is None and not (isinstance(value, str) or code.endswith(".device")):
                if len(call.args) != 1:
                    return self._todo(f"Tensor.to({code}, ...): a dtype, a device or a tensor? Spell it as "
                                      f"keras.ops.cast(x, dtype) or drop it (a device)", call)
                return self._to_value_known_at_run_time(x, code, call)
        if dtype is None:
            self.notes.append("Tensor.to(device) is dropped: Keras places tensors itself")
            return receiver
        return cst.parse_expression(f"keras.ops.cast({x}, {dtype})")

    def _to_value_known_at_run_time(self, x: str, code: str, call: cst.Call) -> cst.BaseExpression:
        return self._todo(f"Tensor.to({code}): a dtype, a device or a tensor? Spell it as keras.ops.cast(x, dtype) "
                          "or drop it (a device)", call)

    def _factory_keys(self, name: str) -> list[str] | None:
        """The keys of ``name`` when it is bound once in this function to a dict display (or `dict(...)`) of only
        device/dtype (timm's `dd = {'device': device, 'dtype': dtype}`, torch's factory_kwargs); else None."""
        value = self.local_values.get(name)
        if value is None:
            return None
        display = cst.parse_expression(value)
        if isinstance(display, cst.Dict) and all(isinstance(e, cst.DictElement) for e in display.elements):
            keys = [literal_value(code_of(e.key)) for e in display.elements]
        elif isinstance(display, cst.Call) and code_of(display.func).strip() == "dict" and \
                all(a.keyword is not None and not a.star for a in display.args):
            keys = [a.keyword.value for a in display.args]
        else:
            return None
        if not set(keys) <= {"device", "dtype"} or len(set(keys)) != len(keys):
            return None
        return keys

    def _factory_keywords(self, name: str, bound: dict[str, str]) -> bool:
        """`**dd` of a tensor creation with dd's keys known (:meth:`_factory_keys`): dtype= reads it and device= is
        dropped (Keras places tensors itself). False when the keys are not known statically."""
        keys = self._factory_keys(name)
        if keys is None:
            return False
        if "dtype" in keys and "dtype" not in bound:
            bound["dtype"] = f"{name}['dtype']"
        if "device" in keys:
            self.notes.append(f"the device in `**{name}` is dropped: Keras places tensors itself")
        return True

    def _is_dtype_attribute(self, code: str) -> bool:
        """`y.dtype`, or a local bound once to one (`x_dtype = x.dtype`): certainly a dtype."""
        return any(re.fullmatch(r"[\w.]+\.dtype", text) for text in (code, self.local_values.get(code, "")))

    @staticmethod
    def _normalized_axes(shape: str) -> str:
        """torch's normalized_shape as Keras axes: the trailing len(shape) axes (an int is one axis)."""
        value = literal_value(shape)
        if isinstance(value, int) or (isinstance(value, (tuple, list)) and len(value) == 1):
            return "-1"
        if isinstance(value, (tuple, list)):
            return repr(tuple(range(-len(value), 0)))
        shape, first = _evaluated_once(shape, "normalized_shape")  # known at run time (`self.normalized_shape`)
        return f"(tuple(range(-len({shape}), 0)) if isinstance({first}, (tuple, list)) else -1)"

    def _layer_norm_to_keras(self, op: OpPair, bound: dict[str, str], node: cst.Call):
        """F.layer_norm(x, shape, weight, bias, eps): over the trailing len(shape) axes, torch's eps (1e-5)."""
        return self._call(op.keras, [bound["input"]], [
            ("gamma", bound.get("weight")), ("beta", bound.get("bias")),
            ("axis", self._normalized_axes(bound["normalized_shape"])), ("epsilon", bound.get("eps", "1e-05"))])

    def _rms_norm_to_keras(self, op: OpPair, bound: dict[str, str], node: cst.Call):
        """F.rms_norm(x, shape, weight, eps): torch's eps None is the machine epsilon of x's dtype (Keras's None
        would be its own 1e-7)."""
        x, first = _evaluated_once(bound["input"], "rms_input")
        machine = f"{_MACHINE_EPSILON!r}[keras.backend.standardize_dtype({x}.dtype)]"
        eps = bound.get("eps", "None")
        if eps == "None":
            epsilon = machine
        elif isinstance(literal_value(eps), (int, float)):
            epsilon = eps
        else:
            epsilon = f"({eps} if {eps} is not None else {machine})"
        return self._call(op.keras, [first], [("scale", bound.get("weight")),
                                              ("axis", self._normalized_axes(bound["normalized_shape"])),
                                              ("epsilon", epsilon)])

    def _pad_to_keras(self, op: OpPair, bound: dict[str, str], node: cst.Call):
        """F.pad(x, (l, r, t, b, ...), mode, value): torch's pairs run from the last axis backwards;
        keras.ops.pad takes one (before, after) pair per axis, first to last. torch's negative pads crop, which
        keras.ops.pad rejects (an error, never a wrong value). replicate/circular would be numpy's edge/wrap, which
        the TensorFlow backend does not have: a TODO."""
        modes = {"constant": "constant", "reflect": "reflect"}
        mode_code, value = bound.get("mode", "'constant'"), bound.get("value", "None")
        x, pad = bound["input"], bound["pad"]
        if is_literal(mode_code):
            mode = literal_value(mode_code)
            if mode not in modes:
                return self._todo(f"F.pad mode={mode_code}: only a literal mode ({', '.join(modes)}) is "
                                  "translated", node)
            if mode != "constant" and value != "None":
                return self._todo(f"F.pad value= with mode={mode!r}", node)
            mode_keyword = repr(modes[mode]) if mode != "constant" else None
        elif value == "None":
            # a mode known only at run time (timm's BlurPool2d: `mode=self.pad_mode`), looked up there: a KeyError
            # for replicate/circular, never another padding
            mode, mode_keyword = None, f"{modes!r}[{mode_code}]"
        else:
            return self._todo(f"F.pad value= with mode={mode_code} (known only at run time)", node)
        x, x_once = _evaluated_once(x, "padded")
        pad_node = cst.parse_expression(pad)
        if isinstance(pad_node, (cst.Tuple, cst.List)) and not any(
                isinstance(e, cst.StarredElement) for e in pad_node.elements) and len(pad_node.elements) % 2 == 0:
            items = [code_of(e.value) for e in pad_node.elements]
            negative = [i for i in items if isinstance(literal_value(i), (int, float)) and literal_value(i) < 0]
            if negative:
                return self._todo("F.pad with a negative (cropping) pad: keras.ops.pad only pads", node)
            pairs = "".join(f"({items[i]}, {items[i + 1]}), " for i in reversed(range(0, len(items), 2)))
            width = f"((0, 0),) * (len({x}.shape) - {len(items) // 2}) + ({pairs.rstrip(' ')})"
        else:  # a sequence known at run time
            pad, pad_once = _evaluated_once(pad, "pad")
            width = (f"((0, 0),) * (len({x}.shape) - len({pad_once}) // 2) + tuple(({pad}[i], {pad}[i + 1]) "
                     f"for i in reversed(range(0, len({pad}), 2)))")
        keywords = [("mode", mode_keyword)] if mode_keyword else []
        if mode == "constant" and value != "None":
            keywords.append(("constant_values", value))
        return self._call("keras.ops.pad", [x_once, width], keywords)  # x_once first: it binds x

    def _conv_op_to_keras(self, op: OpPair, bound: dict[str, str], node: cst.Call):
        """F.conv{n}d(x, w, b, stride, padding, dilation, groups) on channels-first x: keras.ops.conv with the
        kernel moved to channels-last order; torch's symmetric zero padding as keras.ops.pad around the input
        ('same' and 'valid' as Keras spells them). keras.ops.conv takes the groups from the kernel's input
        channels, as torch's weight (out, in / groups, *kernel) gives them: `groups` is only checked."""
        if self.layout == NATIVE:
            return self._todo(f"F.{op.key} in the native layout: the kernel and input axes are not moved", node)
        n = int(op.key[4])
        x, weight = bound["input"], bound["weight"]
        padding = bound.get("padding", "0")
        value = literal_value(padding)
        # channels-last inside (Keras's channels_first convolution on TensorFlow's CPU is the less trodden path;
        # see LayerTranslator._channels_first)
        keywords = [("strides", bound.get("stride")), ("dilation_rate", bound.get("dilation"))]
        if value in ("same", "valid"):
            keywords.insert(1, ("padding", padding))
        elif value != 0:
            pads = f"(({padding},) * {n} if isinstance({padding}, int) else tuple({padding}))" if not isinstance(
                value, (int, tuple, list)) else repr((value,) * n if isinstance(value, int) else tuple(value))
            x = f"keras.ops.pad({x}, ((0, 0), (0, 0)) + tuple((p, p) for p in {pads}))"
        kernel = f"keras.ops.transpose({weight}, {(*range(2, 2 + n), 1, 0)!r})"
        x = f"keras.ops.transpose({x}, {(0, *range(2, n + 2), 1)!r})"
        convolved = f"keras.ops.transpose({self._call(op.keras, [x, kernel], keywords, text=True)}, " \
                    f"{(0, n + 1, *range(1, n + 1))!r})"
        bias = bound.get("bias", "None")
        return cst.parse_expression(_plus_bias(convolved, bias, f"keras.ops.reshape({bias}, (-1,{' 1,' * n}))"))

    # -- ops whose meaning differs between the frameworks (catalog strategies) --
    def _moment_to_keras(self, op: OpPair, bound: dict[str, str], node: cst.Call):
        """torch.std/var divide by n - correction (correction=1, "unbiased", by default); keras.ops.std/var by n."""
        x, dim, keepdim = bound["input"], bound.get("dim", "None"), bound.get("keepdim")
        axis = None if dim == "None" else dim
        if "correction" in bound:
            correction = bound["correction"]
        elif "unbiased" in bound:
            unbiased = literal_value(bound["unbiased"])
            correction = {True: "1", False: "0"}.get(unbiased, f"(1 if {bound['unbiased']} else 0)") \
                if isinstance(unbiased, bool) or unbiased is None else "1"
        else:
            correction = "1"
        if literal_value(correction) == 0:
            return self._call(op.keras, [x], [("axis", axis), ("keepdims", keepdim)])
        x, first = _evaluated_once(x, "moment_input")
        axes = literal_value(dim) if dim != "None" else None
        if dim == "None":
            count = f"math.prod(keras.ops.shape({x}))"
        elif isinstance(axes, int):
            count = f"keras.ops.shape({x})[{axes}]"
        elif isinstance(axes, (tuple, list)) and axes and all(isinstance(a, int) for a in axes):
            count = "(" + " * ".join(f"keras.ops.shape({x})[{a}]" for a in axes) + ")"
        else:
            return self._todo(f"dim={dim} is not a literal: scale keras.ops.{op.key} by n / (n - {correction}) "
                              f"over the reduced axes (torch's {op.key} is unbiased by default)", node)
        factor = f"{count} / ({count} - {correction})"
        statistic = self._call(op.keras, [first], [("axis", axis), ("keepdims", keepdim)], text=True)
        if op.key == "std":
            return cst.parse_expression(f"{statistic} * ({factor}) ** 0.5")
        return cst.parse_expression(f"{statistic} * ({factor})")

    def _moment_to_torch(self, op: OpPair, bound: dict[str, str], node: cst.Call):
        return self._call(op.torch[0], [bound["x"]], [("dim", bound.get("axis")),
                                                      ("keepdim", bound.get("keepdims")), ("correction", "0")])

    def _split_to_keras(self, op: OpPair, bound: dict[str, str], node: cst.Call):
        """torch.split(x, size) cuts pieces of `size`; torch.split(x, [sizes]) pieces of those sizes. keras.ops.split
        takes a section count or the cut indices: the translation always passes indices."""
        x, sizes, dim = bound["tensor"], bound["split_size_or_sections"], bound.get("dim", "0")
        value = literal_value(sizes)
        if isinstance(value, (list, tuple)) and all(isinstance(v, int) for v in value):
            cuts = [sum(value[:i + 1]) for i in range(len(value) - 1)]
            return self._call("keras.ops.split", [x, repr(cuts or 1)], [("axis", dim)])
        # `or 1`: one piece is one section (keras.ops.split rejects an empty index list)
        x, first = _evaluated_once(x, "split_input")
        if isinstance(value, int):
            cuts = f"list(range({sizes}, keras.ops.shape({x})[{dim}], {sizes})) or 1"
            return self._call("keras.ops.split", [first, cuts], [("axis", dim)])
        sizes, first_sizes = _evaluated_once(sizes, "split_sizes")
        cuts = (f"(list(itertools.accumulate({sizes}))[:-1] if isinstance({first_sizes}, (list, tuple)) else "
                f"list(range({sizes}, keras.ops.shape({x})[{dim}], {sizes}))) or 1")
        self.notes.append(f"torch.split's size argument `{bound['split_size_or_sections']}` is not a literal: the "
                          "translation decides at run time whether it is one piece size or a list of sizes")
        return self._call("keras.ops.split", [first, cuts], [("axis", dim)])

    def _split_to_torch(self, op: OpPair, bound: dict[str, str], node: cst.Call):
        """keras.ops.split(x, n) (n equal sections) and keras.ops.split(x, [indices]) are torch.tensor_split."""
        return self._call("torch.tensor_split", [bound["x"], bound["indices_or_sections"]],
                          [("dim", bound.get("axis"))])

    def _chunk_to_keras(self, op: OpPair, bound: dict[str, str], node: cst.Call):
        """torch.chunk(x, n): pieces of ceil(size / n), the last smaller (so maybe fewer than n pieces)."""
        x, chunks, dim = bound["input"], bound["chunks"], bound.get("dim", "0")
        x, first = _evaluated_once(x, "chunk_input")
        size = f"keras.ops.shape({x})[{dim}]"
        piece = f"-(-{size} // {chunks})"
        return self._call("keras.ops.split", [first, f"list(range({piece}, {size}, {piece})) or 1"], [("axis", dim)])

    def _stochastic_depth_op_to_keras(self, op: OpPair, bound: dict[str, str], node: cst.Call):
        """drop_path(x, p, training=...) is x at inference; torchvision's stochastic_depth defaults to training=True,
        timm's drop_path to False."""
        torchvision = (self.source.resolve(node.func) or "").startswith("torchvision.")
        training = bound.get("training", "True" if torchvision else "False")
        if literal_value(training) is True:
            return self._todo("stochastic depth with training=True drops residual branches at inference too: Keras "
                              "has no op for it", node)
        self.notes.append(catalog.STOCHASTIC_DEPTH_NOTE)
        return cst.parse_expression(bound["input"])

    def _new_tensor_to_keras(self, op: OpPair, bound: dict[str, str], node: cst.Call):
        """x.new_full(size, v): x gives only its dtype (torch's default for the new tensor); the rest is generic."""
        bound.setdefault("dtype", f"{_grouped(bound.pop('input'))}.dtype")

    def _meshgrid(self, bound: dict[str, str], extra: list[str], node: cst.Call, to: str):
        """torch.meshgrid(*tensors, indexing='ij') <-> keras.ops.meshgrid(*x, indexing='xy'): the defaults differ,
        so the source's indexing is always written. torch also takes the tensors as one list."""
        tensors = [*(bound.pop(name) for name in ("tensors", "x") if name in bound), *extra]
        if len(tensors) == 1 and not tensors[0].startswith("*"):
            listed = cst.parse_expression(tensors[0])
            if not isinstance(listed, (cst.List, cst.Tuple)):
                return self._todo(f"meshgrid({tensors[0]}): one tensor or a list of tensors? Spell the tensors out",
                                  node)
            tensors = [("*" if isinstance(e, cst.StarredElement) else "") + code_of(e.value) for e in listed.elements]
        indexing = bound.pop("indexing", "'ij'" if to == KERAS else "'xy'")
        if bound:
            return self._todo(f"arguments {sorted(bound)} are not translated", node)
        function = "keras.ops.meshgrid" if to == KERAS else "torch.meshgrid"
        return cst.parse_expression(render_call(function, tensors, [("indexing", indexing)]))

    def _expand_to_keras(self, op: OpPair, bound: dict[str, str], node: cst.Call):
        """x.expand(*sizes): torch's -1 keeps that axis's size; new axes come first, so the i-th of n sizes is x's
        axis i - n counted from the end, whatever x's rank."""
        sizes = cst.parse_expression(bound["size"])
        if not isinstance(sizes, (cst.Tuple, cst.List)) or any(
                isinstance(e, cst.StarredElement) for e in sizes.elements):
            return self._todo(f"Tensor.expand({bound['size']}): the sizes are not spelled out, so which of them is "
                              "-1 (keep that axis) is not known: use keras.ops.broadcast_to with the sizes", node)
        x, first = _evaluated_once(bound["input"], "expanded")  # `first` binds x before the sizes read its shape
        count = len(sizes.elements)
        parts = [f"keras.ops.shape({x})[{index - count}]" if literal_value(code_of(e.value)) == -1 else
                 code_of(e.value) for index, e in enumerate(sizes.elements)]
        shape = f"({parts[0]},)" if count == 1 else f"({', '.join(parts)})"
        return self._call("keras.ops.broadcast_to", [first, shape], [])

    def _expand_as_to_keras(self, op: OpPair, bound: dict[str, str], node: cst.Call):
        return self._call("keras.ops.broadcast_to", [bound["input"], f"keras.ops.shape({bound['other']})"], [])

    def _numel_to_keras(self, op: OpPair, bound: dict[str, str], node: cst.Call):
        """x.numel() is a Python int in torch: the product of the static shape (a tensor only where an axis is
        unknown while tracing)."""
        return cst.parse_expression(f"math.prod(keras.ops.shape({bound['input']}))")

    def _linear_to_keras(self, op: OpPair, bound: dict[str, str], node: cst.Call):
        """F.linear(x, weight, bias): torch's weight is (out, in), so x @ weight.T + bias."""
        product = self._call("keras.ops.matmul", [bound["input"], f"keras.ops.transpose({bound['weight']})"], [],
                             text=True)
        bias = bound.get("bias", "None")
        if bias == "None":
            return cst.parse_expression(product)
        if is_literal(bias):
            return cst.parse_expression(f"{product} + {bias}")
        bias, first = _evaluated_once(bias, "linear_bias")  # timm passes self.bias, which may be None
        return cst.parse_expression(f"({product} + {bias} if {first} is not None else {product})")

    def _group_norm_to_keras(self, op: OpPair, bound: dict[str, str], node: cst.Call):
        """F.group_norm(x, G, weight, bias, eps): x (N, C, ...) as (N, G, -1), normalised by the population
        statistics of each group, back to x's shape, then weight/bias per channel (axis 1)."""
        x, first = _evaluated_once(bound["input"], "group_norm_input")
        grouped = f"keras.ops.reshape({first}, (keras.ops.shape({x})[0], {bound['num_groups']}, -1))"
        eps = bound.get("eps", "1e-05")
        result = (f"keras.ops.reshape(((grouped := {grouped}) - keras.ops.mean(grouped, axis=-1, keepdims=True)) / "
                  f"keras.ops.sqrt(keras.ops.var(grouped, axis=-1, keepdims=True) + {eps}), keras.ops.shape({x}))")
        for name, combine, neutral in (("weight", "*", "1"), ("bias", "+", "0")):
            value = bound.get(name, "None")
            if value == "None":
                continue
            per_channel = f"keras.ops.reshape({value}, (-1,) + (1,) * (len({x}.shape) - 2))"
            if re.fullmatch(r"[\w.]+", value):  # timm passes self.weight, None when the norm has no affine
                per_channel = f"({per_channel} if {value} is not None else {neutral})"
            result = f"{result} {combine} {per_channel}"
        return cst.parse_expression(result)

    def _prelu_to_keras(self, op: OpPair, bound: dict[str, str], node: cst.Call):
        """F.prelu(x, weight): x where x >= 0, else weight * x, the weight (1 or C values) along axis 1."""
        x, first = _evaluated_once(bound["input"], "prelu_input")
        slope = f"keras.ops.reshape({bound['weight']}, (-1,) + (1,) * (len({x}.shape) - 2))"
        return cst.parse_expression(f"keras.ops.where({first} >= 0, {x}, {x} * {slope})")

    def _masked_fill_to_keras(self, op: OpPair, bound: dict[str, str], node: cst.Call):
        return self._call("keras.ops.where", [bound["mask"], bound["value"], bound["input"]], [])

    def _cumulative_to_torch(self, op: OpPair, bound: dict[str, str], node: cst.Call):
        """keras.ops.cumsum(x) (axis None) runs over the flattened tensor; torch.cumsum needs a dim."""
        if bound.get("axis", "None") != "None":
            return None
        dtype = bound.get("dtype")
        return self._call(op.torch[0], [f"torch.flatten({bound['x']})", "0"],
                          [("dtype", catalog.CONVERTERS["keras_dtype_to_torch"](dtype) if dtype else None)])

    def _attention_op_to_keras(self, op: OpPair, bound: dict[str, str], node: cst.Call):
        """torch's (batch, heads, length, head_dim) <-> Keras's (batch, length, heads, head_dim). A boolean mask
        means *may attend* in both; a float torch mask is added to the logits: Keras's bias=."""
        dropout = bound.get("dropout_p", "0.0")
        # `dropout_p = self.attn_drop.p if self.training else 0.` bound once before the call reads the same
        if re.fullmatch(r".+ if (self\.)?training else 0(\.0*)?", self.local_values.get(dropout, dropout)):
            self.notes.append(f"dropout_p={dropout}: attention dropout (training only) is not translated: "
                              "keras.ops.dot_product_attention has none")
        elif literal_value(dropout) not in (0, 0.0):
            return self._todo(f"dropout_p={dropout}: keras.ops.dot_product_attention has no attention dropout", node)
        keywords: list[tuple[str, str | None]] = []
        mask = bound.get("attn_mask", "None")
        if mask != "None" and _is_boolean(mask):
            keywords.append(("mask", mask))
        elif mask != "None":  # None, a boolean or an additive float mask (`attn_mask=attn_mask`): run time decides
            mask, first = _evaluated_once(mask, "attention_mask")
            keywords.append(("**", f"({{}} if {first} is None else {{'mask': {mask}}} if "
                                   f"keras.backend.standardize_dtype({mask}.dtype) == 'bool' else {{'bias': {mask}}})"))
        keywords += [("scale", bound.get("scale")), ("is_causal", bound.get("is_causal"))]
        heads_second = [f"keras.ops.swapaxes({bound[name]}, 1, 2)" for name in ("query", "key", "value")]
        attention = self._call("keras.ops.dot_product_attention", heads_second, keywords, text=True)
        return cst.parse_expression(f"keras.ops.swapaxes({attention}, 1, 2)")

    def _attention_op_to_torch(self, op: OpPair, bound: dict[str, str], node: cst.Call):
        if bound.get("attn_logits_soft_cap", "None") != "None":
            return self._todo("attn_logits_soft_cap has no torch scaled_dot_product_attention equivalent", node)
        mask, bias = bound.get("mask", "None"), bound.get("bias", "None")
        if mask != "None" and bias != "None":
            attn_mask = f"torch.where({_grouped(mask)}.bool(), {bias}, float('-inf'))"
        elif mask != "None":
            attn_mask = f"{_grouped(mask)}.bool()"
        else:
            attn_mask = bias
        heads_first = [f"{_grouped(bound[name])}.transpose(1, 2)" for name in ("query", "key", "value")]
        attention = self._call("torch.nn.functional.scaled_dot_product_attention", heads_first,
                               [("attn_mask", None if attn_mask == "None" else attn_mask),
                                ("is_causal", bound.get("is_causal")), ("scale", bound.get("scale"))], text=True)
        return cst.parse_expression(f"{attention}.transpose(1, 2)")

    @staticmethod
    def _call(function: str, positional: list[str], keywords: list[tuple[str, str | None]], text: bool = False):
        """`function(*positional, name=value, ...)`, leaving out keywords whose value is None; `**` spreads."""
        parts = list(positional) + [f"**{value}" if name == "**" else f"{name}={value}"
                                    for name, value in keywords if value is not None]
        code = f"{spell(function)}({', '.join(parts)})"
        return code if text else cst.parse_expression(code)

    def _to_torch(self, original: cst.Call, updated: cst.Call, canonical: str | None) -> cst.BaseExpression:
        if canonical is None and isinstance(updated.func, cst.Attribute) and \
                not _is_layer_call(updated.func, self.layer_attrs):
            name = updated.func.attr.value
            receiver = updated.func.value
            if name in _KERAS_ONLY_SELF_METHODS and isinstance(receiver, cst.Name) and receiver.value == "self":
                return self._todo(f"self.{name}() is Keras Layer API that nn.Module does not have", updated)
            if name in _TF_TENSOR_METHODS and not _is_self_or_super(receiver):
                return self._todo(f".{name}() is a TensorFlow tensor/shape method with no PyTorch mapping here",
                                  updated)
        if isinstance(updated.func, cst.Attribute) and _is_layer_call(updated.func, self.layer_attrs):
            # torch modules take no training/mask arguments (self.training says which mode)
            kept = [a for a in updated.args if not (a.keyword and a.keyword.value in ("training", "mask"))]
            if len(kept) != len(updated.args):
                if kept:
                    kept[-1] = kept[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
                return updated.with_changes(args=kept)
            return updated
        if canonical == "keras.ops.shape" and len(updated.args) == 1:
            return cst.parse_expression(f"{code_of(updated.args[0].value)}.shape")
        if canonical in _IMAGE_DATA_FORMAT and not updated.args:
            # the translation keeps Keras's channels-last tensors (layout preserve) or moves channels first (native)
            return cst.SimpleString(repr("channels_first" if self.layout == NATIVE else "channels_last"))
        if canonical == "keras.ops.cast" and len(updated.args) == 2:
            dtype = literal_value(code_of(updated.args[1].value))
            if isinstance(dtype, str):
                # Keras casts Python numbers too (`ops.cast(cache_index, "float32")` with `cache_index=0`)
                return cst.parse_expression(f"torch.as_tensor({code_of(updated.args[0].value)}, dtype=torch.{dtype})")
        if canonical == "keras.ops.stop_gradient" and len(updated.args) == 1:
            return cst.parse_expression(f"{code_of(updated.args[0].value)}.detach()")
        if canonical in catalog.OPS_BY_KERAS and canonical.startswith(("keras.ops.", "keras.random.")):
            op = catalog.OPS_BY_KERAS[canonical]
            if op.key == "view":
                op = next(o for o in catalog.OPS if o.key == "reshape")
            bound, extra = self._args(updated, op.keras_signature, None)
            return self._emit_op(op, bound, extra, updated, TORCH)
        if canonical and canonical.startswith(_KERAS_FUNCTION_MODULES):
            return self._todo(f"{canonical} has no PyTorch equivalent in the catalog", updated)
        # a merge layer applied at once: layers.Add()([a, b])
        if isinstance(updated.func, cst.Call):
            merged = self.merge_call(updated.func, updated.args)
            if merged is not None:
                return merged
            if framework_of_name(self.source.resolve(updated.func.func)) == KERAS:
                return self._todo("a Keras layer created and applied here: create it in __init__ and apply it "
                                  "in forward", updated)
        return updated

    def merge_call(self, layer_call: cst.Call, call_args) -> cst.BaseExpression | None:
        canonical = self.source.resolve(layer_call.func)
        op = catalog.OPS_BY_KERAS.get(canonical or "")
        if op is None or not canonical.startswith("keras.layers.") or not call_args:
            return None
        inputs = call_args[0].value
        items = [code_of(e.value) for e in inputs.elements] if isinstance(inputs, (cst.List, cst.Tuple)) else None
        if op.key == "cat":
            axis = "-1"
            for arg in layer_call.args:
                if arg.keyword is None or arg.keyword.value == "axis":
                    axis = code_of(arg.value)
            return cst.parse_expression(f"torch.cat({code_of(inputs)}, dim={axis})")
        if items is None:
            return None
        if op.torch_operator:
            return cst.parse_expression("(" + f" {op.torch_operator} ".join(items) + ")")
        text = items[0]
        for item in items[1:]:
            text = f"{op.torch[0]}({text}, {item})"
        return cst.parse_expression(text)


def _plus_bias(product: str, bias: str, shaped: str | None = None) -> str:
    """`product + bias` (``shaped``: the bias as it is added); a bias that is not a literal may be None at run time
    (timm's `F.linear(x, w, self.qkv_bias)`), which torch skips."""
    shaped = shaped or bias
    if bias == "None":
        return product
    if is_literal(bias) or not re.fullmatch(r"[\w.]+", bias):
        return f"{product} + {shaped}"
    return f"({product} + {shaped} if {bias} is not None else {product})"


def _evaluated_once(code: str, name: str) -> tuple[str, str]:
    """(the name to repeat, the code for its first use): a computed tensor is bound once with `:=` where the
    translation needs it twice (its shape and its values)."""
    if re.fullmatch(r"[\w.]+", code):
        return code, code
    return name, f"({name} := {code})"


def _is_boolean(code: str) -> bool:
    """`mask > 0`, `~pad`, `a == b`, `not_pad & causal`... certainly a boolean tensor."""
    node = cst.parse_expression(code)
    if isinstance(node, cst.Comparison):
        return True
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.BitInvert):
        return _is_boolean(code_of(node.expression))
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, (cst.BitAnd, cst.BitOr, cst.BitXor)):
        return _is_boolean(code_of(node.left)) or _is_boolean(code_of(node.right))
    return False


def _grouped(code: str) -> str:
    return code if re.fullmatch(r"[\w.]+(\[[^\]]*\])?", code) else f"({code})"


# numpy.finfo(dtype).eps of the float dtypes, spelled out so that the translation needs no numpy for it
_MACHINE_EPSILON = {"float16": 2.0 ** -10, "bfloat16": 2.0 ** -7, "float32": 2.0 ** -23, "float64": 2.0 ** -52}
# torch creation arguments that only say where/how a tensor is stored
_PLACEMENT_ARGS = ("device", "pin_memory", "layout")
_LAYOUT_OPS = {"reshape", "view", "flatten", "permute", "transpose", "cat", "stack", "squeeze", "unsqueeze",
               "group_norm", "prelu"}


# tensor methods that are casts (no arguments): x.long() -> keras.ops.cast(x, 'int64')
_CAST_METHODS = {"float": "float32", "double": "float64", "half": "float16", "bfloat16": "bfloat16", "int": "int32",
                 "long": "int64", "short": "int16", "bool": "bool"}
_TO_PYTHON_METHODS = {"item", "tolist", "numpy"}
# torch's alternative spellings of catalogued tensor methods
_METHOD_ALIASES = {"clip": "clamp", "absolute": "abs", "multiply": "mul", "subtract": "sub", "divide": "div"}
_PYTHON_LITERALS = (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString, cst.List, cst.Dict, cst.Set,
                    cst.ListComp, cst.DictComp, cst.SetComp)
_IMAGE_DATA_FORMAT = {"keras.config.image_data_format", "keras.backend.image_data_format"}
# Keras-only functions with no entry in the catalog: a call to one in a torch translation is a counted TODO
_KERAS_FUNCTION_MODULES = ("keras.ops.", "keras.random.", "keras.activations.", "keras.backend.", "keras.losses.",
                           "keras.utils.", "keras.config.", "tensorflow.")
# nn.Module methods that keras.Model lacks (a keras.Model has its own `add_weight`, no buffers)
_TORCH_ONLY_SELF_METHODS = {"register_buffer", "register_parameter", "register_module", "add_module",
                            "named_parameters", "named_buffers", "named_modules", "named_children", "buffers",
                            "children", "modules", "parameters"}
# methods that exist on Keras layers/models or TensorFlow tensors but not on torch modules/tensors
_KERAS_ONLY_SELF_METHODS = {"add_weight", "add_variable", "add_loss", "add_metric", "build", "compute_output_shape",
                            "get_config", "get_weights", "set_weights"}
_TF_TENSOR_METHODS = {"get_shape", "set_shape", "as_list", "experimental_ref"}


def _rooted_at_literal(node: cst.BaseExpression) -> bool:
    while isinstance(node, (cst.Call, cst.Attribute, cst.Subscript)):
        node = node.func if isinstance(node, cst.Call) else node.value
    return isinstance(node, _PYTHON_LITERALS)


def _is_self_or_super(node: cst.BaseExpression) -> bool:
    if isinstance(node, cst.Name):
        return node.value == "self"
    return isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == "super"


def _is_layer_call(func: cst.Attribute, layer_attrs: dict[str, str]) -> bool:
    return isinstance(func.value, cst.Name) and func.value.value == "self" and func.attr.value in layer_attrs


# -- Python containers (item assignment on them is not a tensor write) ------------------------------------------
def _subscripts_in_target(target: cst.BaseExpression) -> list[cst.Subscript]:
    """The subscripts an assignment target writes into: `x[0] = ...`, `x[0], y = ...`, `[*x[1:]] = ...`."""
    if isinstance(target, cst.Subscript):
        return [target]
    if isinstance(target, (cst.Tuple, cst.List)):
        return [sub for element in target.elements for sub in _subscripts_in_target(element.value)]
    if isinstance(target, cst.StarredElement):
        return _subscripts_in_target(target.value)
    return []


_CONTAINER_CLASSES = ("list", "dict", "set")
_COLLECTIONS_CONTAINERS = ("OrderedDict", "defaultdict", "deque")


def _is_container_display(value: cst.BaseExpression | None) -> bool:
    """`[]`, `{}`, `{"a": h}`, `[h for ...]`, `set()`, `list(...)`, `dict(...)`, `OrderedDict()` (also
    `collections.OrderedDict()`, `defaultdict(...)`, `deque(...)`), `[None] * n`: a list, dict or set."""
    if isinstance(value, (cst.List, cst.Dict, cst.Set, cst.ListComp, cst.DictComp, cst.SetComp)):
        return True
    if isinstance(value, cst.Call) and isinstance(value.func, cst.Name) and \
            value.func.value in (*_CONTAINER_CLASSES, *_COLLECTIONS_CONTAINERS):
        return True
    if isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute) and \
            code_of(value.func.value).strip() == "collections" and value.func.attr.value in _COLLECTIONS_CONTAINERS:
        return True
    return isinstance(value, cst.BinaryOperation) and isinstance(value.operator, cst.Multiply) and (
        isinstance(value.left, cst.List) or isinstance(value.right, cst.List))


class _Bindings(cst.CSTVisitor):
    """Every binding of a name (and of `self.<attr>`) in a function: True when the value is a container display,
    False when it is anything else (parameters, unpacking, loop/with/except/import targets, walrus), None when it
    keeps the kind of value the name already holds (`outs += [h]`, a bare annotation). Nested functions and
    lambdas are walked too: their bindings can only take names out of the container set."""

    def __init__(self):
        self.kinds: dict[str, list[bool | None]] = {}

    def _bind(self, target: cst.BaseExpression, kind: bool | None) -> None:
        if isinstance(target, cst.Name) or _is_self_attribute(target):
            self.kinds.setdefault(code_of(target).strip(), []).append(kind)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._bind(element.value, False)
        elif isinstance(target, cst.StarredElement):
            self._bind(target.value, False)

    def visit_Parameters(self, node: cst.Parameters) -> None:
        self._keyword_dict = node.star_kwarg if isinstance(node.star_kwarg, cst.Param) else None

    def visit_Param(self, node: cst.Param) -> None:
        # `**kwargs` is always a dict
        self._bind(node.name, node is getattr(self, "_keyword_dict", None))

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._bind(target.target, _is_container_display(node.value))

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._bind(node.target, None if node.value is None else _is_container_display(node.value))

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._bind(node.target, None)  # list += ..., dict |= ..., set |= ... keep the container

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._bind(node.target, False)

    def visit_For(self, node: cst.For) -> None:
        self._bind(node.target, False)

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self._bind(node.target, False)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._bind(node.asname.name, False)

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if node.name is not None:
            self._bind(node.name.name, False)

    def visit_ImportAlias(self, node: cst.ImportAlias) -> None:
        bound = node.asname.name if node.asname is not None else node.name
        if isinstance(bound, cst.Attribute):  # import a.b binds a
            while isinstance(bound, cst.Attribute):
                bound = bound.value
        self._bind(bound, False)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._bind(node.name, False)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._bind(node.name, False)

    def visit_Global(self, node: cst.Global) -> None:
        for item in node.names:
            self._bind(item.name, False)

    def visit_Nonlocal(self, node: cst.Nonlocal) -> None:
        for item in node.names:
            self._bind(item.name, False)


def single_assignments(function: cst.FunctionDef) -> dict[str, str]:
    """The names `function` binds exactly once, by a plain `name = value` (no parameter, loop target, unpacking or
    augmented assignment), with the value's code."""
    bindings = _Bindings()
    function.visit(bindings)
    values: dict[str, str] = {}

    class Assignments(cst.CSTVisitor):
        def visit_Assign(self, node: cst.Assign) -> None:
            if len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name):
                values[node.targets[0].target.value] = code_of(node.value).strip()

    function.visit(Assignments())
    return {name: value for name, value in values.items() if len(bindings.kinds.get(name, ())) == 1}


def _is_self_attribute(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name) and node.value.value == "self"


def python_containers(function: cst.FunctionDef, klass: cst.ClassDef | None = None) -> frozenset[str]:
    """The names in `function`, and the `self.<attr>`s of `klass`, that certainly hold a Python list, dict or set:
    bound at least once to a container display (`outs = {}`, `feats = []`, `[h for ...]`, `[None] * n`) and never
    to anything else (a parameter, an unpacking, a loop target, any other value) in that function (for
    `self.<attr>`, in any method of the class). Item assignment on one of them is plain Python; on anything else
    (a parameter, `h = self.fc(x)`, `outs["a"][0]`, an attribute set elsewhere) it may be a tensor write.
    One walk of the function (and the class), no type inference: a container passed in as an argument is flagged,
    which costs a TODO, never a wrong translation."""
    bindings = _Bindings()
    function.visit(bindings)
    kinds = {name: found for name, found in bindings.kinds.items() if not name.startswith("self.")}
    if klass is not None:
        kinds.update(_self_attribute_kinds(klass))
    return frozenset(name for name, found in kinds.items() if True in found and False not in found)


# the last class's `self.<attr>` bindings: every method of a class asks for them in turn (one class kept alive)
_last_class: list = [None, {}]


def _self_attribute_kinds(klass: cst.ClassDef) -> dict:
    if _last_class[0] is not klass:
        attributes = _Bindings()
        klass.visit(attributes)
        _last_class[:] = [klass, {name: found for name, found in attributes.kinds.items() if name.startswith("self.")}]
    return _last_class[1]
