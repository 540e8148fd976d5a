"""PyTorch API rules: deprecated and removed functions, legacy constructors, portability and performance advice."""

from __future__ import annotations

import libcst as cst

from ..findings import Severity
from ..flow import contains
from ..rule import STATEMENT_SCOPE, Invalid, PendingFix, Rule
from ._calls import has_star_args, keyword, method_name, number_value, positional, receiver, string_value, with_keyword


class ForwardCalledDirectly(Rule):
    """## What it does
    Flags `model.forward(x)` on a module instance, outside the module's own methods.

    ## Why is this bad
    `model(x)` runs `nn.Module.__call__`, which runs forward pre-hooks and hooks (used by pruning, quantization,
    `torch.utils.hooks`, DDP and FSDP) around `forward`. Calling `forward` directly silently skips all of them.

    ## Example
    ```python
    model = nn.Linear(4, 2)
    y = model.forward(x)
    ```

    ## Use instead
    ```python
    model = nn.Linear(4, 2)
    y = model(x)
    ```

    The fix turns hooks on for that call, which is what a user wants almost always; it is offered in the editor
    only.
    """

    code = "PT017"
    scope = STATEMENT_SCOPE
    name = "forward-called-directly"
    severity = Severity.WARNING
    message = "`{name}.forward(...)` skips the module's hooks: call `{name}(...)`"
    fixable = True
    valid = ("import torch.nn as nn\nmodel = nn.Linear(4, 2)\ny = model(x)\n",
             "import torch.nn as nn\nclass Net(nn.Linear):\n    def forward(self, x):\n        return super().forward(x)\n")
    invalid = (
        Invalid("import torch.nn as nn\nmodel = nn.Linear(4, 2)\ny = model.forward(x)\n",
                "import torch.nn as nn\nmodel = nn.Linear(4, 2)\ny = model(x)\n"),
    )

    def visit_Call(self, node: cst.Call) -> None:
        if method_name(node) != "forward":
            return
        target = receiver(node)
        if target is None or not self.ctx.is_module_binding(target):
            return
        name = self.ctx.code(target)
        fix = PendingFix(f"Call `{name}(...)`", (self.replace(node.func, name),), safe=False)
        self.report(node, self.message.format(name=name), fix)


_LEGACY_CONSTRUCTORS = {
    "torch.Tensor": "torch.get_default_dtype()", "torch.FloatTensor": "torch.float32",
    "torch.DoubleTensor": "torch.float64", "torch.HalfTensor": "torch.float16", "torch.LongTensor": "torch.int64",
    "torch.IntTensor": "torch.int32", "torch.ShortTensor": "torch.int16", "torch.ByteTensor": "torch.uint8",
    "torch.BoolTensor": "torch.bool",
}


def _literal_leaves_only(node: cst.BaseExpression) -> bool:
    if isinstance(node, (cst.List, cst.Tuple)):
        return all(isinstance(e, cst.Element) and _literal_leaves_only(e.value) for e in node.elements)
    return number_value(node) is not None or (isinstance(node, cst.Name) and node.value in ("True", "False"))


class LegacyTensorConstructor(Rule):
    """## What it does
    Flags `torch.Tensor([...])`, `torch.FloatTensor([...])`, `torch.LongTensor([...])` and the other legacy
    type constructors called with data.

    ## Why is this bad
    The legacy constructors mix two meanings: `torch.Tensor(3)` allocates three uninitialised floats while
    `torch.Tensor([3])` holds the value 3, and `torch.Tensor` ignores the data's type (integers become floats).
    `torch.tensor(data, dtype=...)` says what it means and accepts `device=` and `requires_grad=`.

    ## Example
    ```python
    labels = torch.LongTensor([0, 1, 1])
    ```

    ## Use instead
    ```python
    labels = torch.tensor([0, 1, 1], dtype=torch.int64)
    ```

    The fix keeps the exact dtype the constructor produced, so it is safe when the data is literal numbers.
    """

    code = "PT018"
    scope = STATEMENT_SCOPE
    name = "legacy-tensor-constructor"
    severity = Severity.INFO
    message = "`{name}(data)` is a legacy constructor: use `torch.tensor(data, dtype=...)`"
    fixable = True
    valid = ("import torch\nx = torch.tensor([1.0, 2.0])\n", "import torch\nbuf = torch.Tensor(3, 4)\n",
             "import torch\ndef f(x: torch.Tensor) -> torch.Tensor:\n    return x\n")
    invalid = (
        Invalid("import torch\nlabels = torch.LongTensor([0, 1, 1])\n",
                "import torch\nlabels = torch.tensor([0, 1, 1], dtype=torch.int64)\n"),
        Invalid("import torch\nw = torch.Tensor([[1, 2], [3, 4]])\n",
                "import torch\nw = torch.tensor([[1, 2], [3, 4]], dtype=torch.get_default_dtype())\n"),
        Invalid("import torch\nx = torch.FloatTensor([f(i) for i in range(3)])\n",
                "import torch\nx = torch.tensor([f(i) for i in range(3)], dtype=torch.float32)\n"),
    )

    def visit_Call(self, node: cst.Call) -> None:
        callee = self.ctx.callee(node)
        if callee not in _LEGACY_CONSTRUCTORS or len(node.args) != 1 or node.args[0].keyword or node.args[0].star:
            return
        data = node.args[0].value
        if not isinstance(data, (cst.List, cst.Tuple, cst.ListComp)):
            return
        fix = None
        torch_name = self.ctx.spelling("torch")
        if torch_name is not None:
            dtype = torch_name + _LEGACY_CONSTRUCTORS[callee][len("torch"):]
            fix = PendingFix("Use `torch.tensor(..., dtype=...)`",
                             (self.replace(node, f"{torch_name}.tensor({self.ctx.code(data)}, dtype={dtype})"),),
                             safe=_literal_leaves_only(data))
        self.report(node, self.message.format(name=self.ctx.code(node.func)), fix)


def _is_one(node: cst.BaseExpression) -> bool:
    return number_value(node) == 1.0


class Log1pExpm1(Rule):
    """## What it does
    Flags `torch.log(1 + x)` and `torch.exp(x) - 1`.

    ## Why is this bad
    For small `x`, `1 + x` rounds to 1 in floating point and the result loses most of its digits (or becomes
    exactly 0). `torch.log1p(x)` and `torch.expm1(x)` compute the same functions accurately.

    ## Example
    ```python
    y = torch.log(1 + x)
    ```

    ## Use instead
    ```python
    y = torch.log1p(x)
    ```

    The fix changes the low-order bits of the results (it makes them more accurate), so it is offered in the editor
    only.
    """

    code = "PT020"
    scope = STATEMENT_SCOPE
    name = "log1p-expm1"
    severity = Severity.INFO
    message = "`{code}` loses precision for small values: use `{better}`"
    fixable = True
    valid = ("import torch\ny = torch.log1p(x)\n", "import torch\ny = torch.log(2 + x)\n", "import math\ny = math.log(1 + x)\n")
    invalid = (
        Invalid("import torch\ny = torch.log(1 + x)\n", "import torch\ny = torch.log1p(x)\n"),
        Invalid("import torch\ny = torch.exp(x) - 1\n", "import torch\ny = torch.expm1(x)\n"),
    )

    def visit_Call(self, node: cst.Call) -> None:
        if self.ctx.callee(node) != "torch.log" or len(node.args) != 1 or node.args[0].keyword:
            return
        value = node.args[0].value
        if not isinstance(value, cst.BinaryOperation) or not isinstance(value.operator, cst.Add):
            return
        if _is_one(value.left):
            inner = value.right
        elif _is_one(value.right):
            inner = value.left
        else:
            return
        self._report(node, node.func, "log1p", inner)

    def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
        if not isinstance(node.operator, cst.Subtract) or not _is_one(node.right):
            return
        call = node.left
        if (isinstance(call, cst.Call) and self.ctx.callee(call) == "torch.exp" and len(call.args) == 1
                and not call.args[0].keyword):
            self._report(node, call.func, "expm1", call.args[0].value)

    def _report(self, node: cst.CSTNode, func: cst.BaseExpression, better: str, inner: cst.BaseExpression) -> None:
        fix = None
        if isinstance(func, cst.Attribute):
            new_func = self.ctx.code(func.with_changes(attr=cst.Name(better)))
            fix = PendingFix(f"Use `{new_func}`", (self.replace(node, f"{new_func}({self.ctx.code(inner)})"),), safe=False)
        self.report(node, self.message.format(code=self.ctx.code(node), better=f"torch.{better}"), fix)


_CHECKPOINTS = {"torch.utils.checkpoint.checkpoint", "torch.utils.checkpoint.checkpoint_sequential"}


class CheckpointWithoutUseReentrant(Rule):
    """## What it does
    Flags `torch.utils.checkpoint.checkpoint(...)` and `checkpoint_sequential(...)` without `use_reentrant=`.

    ## Why is this bad
    PyTorch warns on every such call that omitting `use_reentrant` will become an error, and the two variants
    behave differently: the reentrant one (today's implicit default) does not support `torch.autograd.grad`,
    keyword arguments, or inputs that do not require grad (gradients silently become `None`).

    ## Example
    ```python
    y = checkpoint(self.block, x)
    ```

    ## Use instead
    ```python
    y = checkpoint(self.block, x, use_reentrant=False)
    ```

    The fix passes `use_reentrant=True`, today's default, so behaviour is unchanged and the code keeps working
    when the argument becomes required; consider `False`, which PyTorch recommends.
    """

    code = "PT021"
    scope = STATEMENT_SCOPE
    name = "checkpoint-without-use-reentrant"
    severity = Severity.WARNING
    message = "`{name}` without `use_reentrant=`: the implicit default is deprecated; pass it explicitly"
    fixable = True
    valid = ("from torch.utils.checkpoint import checkpoint\ny = checkpoint(f, x, use_reentrant=False)\n",
             "from torch.utils.checkpoint import checkpoint\ny = checkpoint(f, x, **kwargs)\n")
    invalid = (
        Invalid("from torch.utils.checkpoint import checkpoint\ny = checkpoint(f, x)\n",
                "from torch.utils.checkpoint import checkpoint\ny = checkpoint(f, x, use_reentrant=True)\n"),
        Invalid("import torch.utils.checkpoint\ny = torch.utils.checkpoint.checkpoint_sequential(fs, 2, x)\n",
                "import torch.utils.checkpoint\ny = torch.utils.checkpoint.checkpoint_sequential(fs, 2, x, use_reentrant=True)\n"),
    )

    def visit_Call(self, node: cst.Call) -> None:
        if self.ctx.callee(node) not in _CHECKPOINTS or keyword(node, "use_reentrant") is not None:
            return
        if any(a.star == "**" for a in node.args):
            return
        fix = PendingFix("Pass `use_reentrant=True` (today's default)",
                         (self.replace(node, self.ctx.code(with_keyword(node, "use_reentrant", "True"))),))
        self.report(node, self.message.format(name=self.ctx.code(node.func)), fix)


class DataParallelUsed(Rule):
    """## What it does
    Flags `nn.DataParallel(model)`.

    ## Why is this bad
    PyTorch recommends `DistributedDataParallel` even on a single machine: `DataParallel` runs one Python thread
    per GPU (GIL-bound), copies the model to every GPU on every forward pass, gathers outputs on GPU 0 (which
    runs out of memory first) and is not maintained for new features such as `torch.compile` or FSDP.

    ## Example
    ```python
    model = nn.DataParallel(model)
    ```

    ## Use instead
    ```python
    model = nn.parallel.DistributedDataParallel(model, device_ids=[local_rank])
    ```
    """

    code = "PT023"
    scope = STATEMENT_SCOPE
    name = "data-parallel"
    severity = Severity.INFO
    message = "`nn.DataParallel` is slower than `DistributedDataParallel` and unbalanced on GPU 0; prefer DDP"
    valid = ("import torch.nn as nn\nmodel = nn.parallel.DistributedDataParallel(model)\n",)
    invalid = (Invalid("import torch.nn as nn\nmodel = nn.DataParallel(model)\n"),)

    def visit_Call(self, node: cst.Call) -> None:
        if self.ctx.callee(node) in ("torch.nn.DataParallel", "torch.nn.parallel.DataParallel"):
            self.report(node)


_REMOVED = {
    "torch.solve": "`torch.linalg.solve(A, B)` (arguments swapped; returns only the solution)",
    "torch.symeig": "`torch.linalg.eigh` (uses the lower triangle by default)",
    "torch.lstsq": "`torch.linalg.lstsq(A, B)` (arguments swapped)",
    "torch.eig": "`torch.linalg.eig` (returns complex tensors)",
    "torch.matrix_rank": "`torch.linalg.matrix_rank`",
}


class RemovedTorchFunction(Rule):
    """## What it does
    Flags calls to functions removed from PyTorch: `torch.solve`, `torch.symeig`, `torch.lstsq`, `torch.eig`,
    `torch.matrix_rank`.

    ## Why is this bad
    They still exist as names, so imports and linters are happy, but every call raises
    "This function was deprecated since version 1.9 and is now removed".

    ## Example
    ```python
    solution, _ = torch.solve(B, A)
    ```

    ## Use instead
    ```python
    solution = torch.linalg.solve(A, B)
    ```
    """

    code = "PT024"
    scope = STATEMENT_SCOPE
    name = "removed-torch-function"
    severity = Severity.ERROR
    message = "`{name}` was removed from PyTorch and raises when called: use {hint}"
    valid = ("import torch\nx = torch.linalg.solve(A, B)\n",)
    invalid = (Invalid("import torch\nx, _ = torch.solve(B, A)\n"), Invalid("import torch\nw, v = torch.symeig(A)\n"))

    def visit_Call(self, node: cst.Call) -> None:
        hint = _REMOVED.get(self.ctx.callee(node) or "")
        if hint is not None:
            self.report(node, self.message.format(name=self.ctx.code(node.func), hint=hint))


_DEPRECATED = {
    "torch.qr": ("torch.linalg.qr", "`torch.linalg.qr`"),
    "torch.cholesky": ("torch.linalg.cholesky", "`torch.linalg.cholesky`"),
    "torch.chain_matmul": ("torch.linalg.multi_dot", "`torch.linalg.multi_dot([...])`"),
    "torch.range": (None, "`torch.arange` (whose end is exclusive and whose dtype follows the arguments)"),
    "torch.lu": (None, "`torch.linalg.lu_factor`"),
    "torch.triangular_solve": (None, "`torch.linalg.solve_triangular`"),
}


class DeprecatedTorchFunction(Rule):
    """## What it does
    Flags `torch.qr`, `torch.cholesky`, `torch.chain_matmul`, `torch.range`, `torch.lu` and
    `torch.triangular_solve`, which PyTorch deprecates in favour of `torch.linalg` and `torch.arange`.

    ## Why is this bad
    Each call warns that the function "will be removed in a future PyTorch release". `torch.range` is also
    inconsistent with Python's `range`: its end is inclusive and it returns floats.

    ## Example
    ```python
    q, r = torch.qr(a)
    ```

    ## Use instead
    ```python
    q, r = torch.linalg.qr(a)
    ```

    Fixes are offered where the replacement computes the same thing with the arguments given (`qr` and
    `cholesky` with one argument, `chain_matmul` with two or more matrices); they are safe.
    """

    code = "PT025"
    scope = STATEMENT_SCOPE
    name = "deprecated-torch-function"
    severity = Severity.INFO
    message = "`{name}` is deprecated: use {hint}"
    fixable = True
    valid = ("import torch\nq, r = torch.linalg.qr(a)\n", "import torch\nx = torch.arange(0, 10)\n")
    invalid = (
        Invalid("import torch\nq, r = torch.qr(a)\n", "import torch\nq, r = torch.linalg.qr(a)\n"),
        Invalid("import torch\ny = torch.chain_matmul(a, b, c)\n", "import torch\ny = torch.linalg.multi_dot([a, b, c])\n"),
        Invalid("import torch\nr = torch.range(0, 10)\n"),
    )

    def visit_Call(self, node: cst.Call) -> None:
        callee = self.ctx.callee(node)
        entry = _DEPRECATED.get(callee or "")
        if entry is None:
            return
        replacement, hint = entry
        fix = None
        args = positional(node)
        spelling = self.ctx.spelling(replacement) if replacement else None
        simple = not has_star_args(node) and len(args) == len(node.args)
        if spelling and simple:
            if callee in ("torch.qr", "torch.cholesky") and len(args) == 1:
                fix = PendingFix(f"Use `{spelling}`", (self.replace(node.func, spelling),))
            elif callee == "torch.chain_matmul" and len(args) >= 2:
                matrices = ", ".join(self.ctx.code(a.value) for a in args)
                fix = PendingFix(f"Use `{spelling}`", (self.replace(node, f"{spelling}([{matrices}])"),))
        self.report(node, self.message.format(name=self.ctx.code(node.func), hint=hint), fix)


class HardcodedCuda(Rule):
    """## What it does
    Flags `.cuda()`, `torch.device("cuda")` and `.to("cuda")` in a file that never checks
    `torch.cuda.is_available()` (nor uses any other `torch.cuda` API, which marks code written for CUDA on purpose),
    when the file is something users run: training code (it calls `backward()`) or a script (`__main__` guard).
    A call under a condition about the device (`if args.cuda:`, `x.cuda() if use_gpu else x`,
    `if device != "cpu":`) is the user's choice, not an assumption, and is not flagged.

    ## Why is this bad
    The script crashes on any machine without an NVIDIA GPU (laptops, CI, Apple silicon, CPU-only servers) with
    "Torch not compiled with CUDA enabled" or "no CUDA GPUs are available".

    ## Example
    ```python
    model = model.cuda()
    ```

    ## Use instead
    ```python
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model = model.to(device)
    ```
    """

    code = "PT028"
    name = "hardcoded-cuda"
    severity = Severity.INFO
    message = "`{code}` assumes a CUDA GPU and this file never checks `torch.cuda.is_available()`"
    valid = (
        "import torch\ndevice = 'cuda' if torch.cuda.is_available() else 'cpu'\nmodel = model.cuda()\n",
        "import torch\nx = x.to(device)\n",
        "import torch\nclass Boxes:\n    def cuda(self):\n        return Boxes(self.t.cuda())\n",
        "import torch\nif args.use_cuda:\n    model.cuda()\nloss = model(x).sum()\nloss.backward()\n",
        "import torch\ndef step(x, gpu):\n    x = x.cuda() if gpu else x\n    model(x).sum().backward()\n",
        "import torch\nif not args.no_cuda:\n    model = model.to('cuda')\nmodel(x).sum().backward()\n",
    )
    invalid = (
        Invalid("import torch\nmodel = model.cuda()\nloss = model(x).sum()\nloss.backward()\n"),
        Invalid("import torch\ndevice = torch.device('cuda')\nif __name__ == '__main__':\n    main(device)\n"),
        Invalid("import torch\ndef step(x):\n    x = x.to('cuda:0')\n    model(x).sum().backward()\n"),
        # a condition about something else does not choose the device
        Invalid("import torch\nfor epoch in range(10):\n    if epoch == 0:\n        model.cuda()\n"
                "    model(x).sum().backward()\n"),
    )

    accumulates = ("candidates",)
    carries = ("checked", "runnable")

    def __init__(self, ctx):
        super().__init__(ctx)
        self.candidates: list[cst.Call] = []
        self.checked = False
        self.runnable = False  # training code (`backward()`) or a script (`if __name__ == "__main__":`)

    def visit_If(self, node: cst.If) -> None:
        test = node.test
        if (isinstance(test, cst.Comparison) and isinstance(test.left, cst.Name) and test.left.value == "__name__"
                and not self.ctx.function_stack):
            self.runnable = True

    def visit_Attribute(self, node: cst.Attribute) -> None:
        # `torch.cuda.is_available()`, `device_count()`, or any other `torch.cuda` API: CUDA is handled on purpose
        if self.checked or not (isinstance(node.value, cst.Name) or (
                isinstance(node.value, cst.Attribute) and node.value.attr.value == "cuda")):
            return  # cheap filter: this runs for every attribute in the file
        qualname = self.ctx.qualname(node)
        if qualname and qualname.startswith("torch.cuda.") and not qualname.startswith("torch.cuda.amp"):
            self.checked = True

    def visit_Call(self, node: cst.Call) -> None:
        if self.checked:
            return
        function = self.ctx.enclosing_function()
        if function is not None and function.name.value in ("cuda", "to", "_apply"):
            return  # implementing `.cuda()` for a custom container is not hard-coding a device
        if any(f.name.value.startswith("test") for f in self.ctx.function_stack):
            return  # tests are gated on the device by their runner
        method = method_name(node)
        if method == "backward":
            self.runnable = True
        callee = self.ctx.callee(node)
        if callee == "torch.device":
            args = positional(node)
            text = string_value(args[0].value) if args else None
            if text and text.split(":")[0] == "cuda" and not self._device_chosen(node):
                self.candidates.append(node)
        elif (callee is None and method == "cuda" and self.ctx.imports.imports_framework("torch")
              and not self._device_chosen(node)):
            self.candidates.append(node)
        elif callee is None and method == "to" and self.ctx.imports.imports_framework("torch"):
            args = positional(node)
            text = string_value(args[0].value) if args else None
            if text and text.split(":")[0] == "cuda" and not self._device_chosen(node):
                self.candidates.append(node)

    def _device_chosen(self, call: cst.Call) -> bool:
        """Whether the call runs under a condition about the device: a flag or comparison naming CUDA, a GPU
        or a device, in either branch."""
        for guard, body, orelse in self.ctx.guards_in_function():
            test = self.ctx.code(guard.test).lower()
            if any(word in test for word in ("cuda", "gpu", "device")) and (
                    contains(body, call) or (orelse is not None and contains(orelse, call))):
                return True
        return False

    def leave_Module(self, node: cst.Module) -> None:
        if self.checked or not self.runnable:
            return
        for call in self.candidates:
            self.report(call, self.message.format(code=self.ctx.code(call)))


_AMP = {
    "torch.cuda.amp.autocast": ("torch.amp.autocast", '"cuda"', True),
    "torch.cpu.amp.autocast": ("torch.amp.autocast", '"cpu"', True),
    "torch.cuda.amp.GradScaler": ("torch.amp.GradScaler", '"cuda"', False),
}


class DeprecatedCudaAmp(Rule):
    """## What it does
    Flags `torch.cuda.amp.autocast`, `torch.cpu.amp.autocast` and `torch.cuda.amp.GradScaler`.

    ## Why is this bad
    They are deprecated aliases that warn on every use ("`torch.cuda.amp.autocast(args...)` is deprecated.
    Please use `torch.amp.autocast('cuda', args...)` instead") and will be removed.

    ## Example
    ```python
    scaler = torch.cuda.amp.GradScaler()
    with torch.cuda.amp.autocast(dtype=torch.bfloat16):
        loss = model(x)
    ```

    ## Use instead
    ```python
    scaler = torch.amp.GradScaler("cuda")
    with torch.amp.autocast("cuda", dtype=torch.bfloat16):
        loss = model(x)
    ```

    The fix is safe: the defaults match (`torch.amp.autocast("cuda")` uses float16 like the old alias). For
    `autocast` it is offered only when every argument is passed by keyword, since the positional order differs.
    """

    code = "PT031"
    scope = STATEMENT_SCOPE
    name = "deprecated-cuda-amp"
    severity = Severity.INFO
    message = "`{name}` is deprecated: use `{new}({device}, ...)`"
    fixable = True
    valid = ("import torch\nwith torch.amp.autocast('cuda'):\n    pass\n", "import torch\ns = torch.amp.GradScaler('cuda')\n",
             "import torch\ntry:\n    s = torch.amp.GradScaler('cuda')\nexcept AttributeError:\n"
             "    s = torch.cuda.amp.GradScaler()\n")
    invalid = (
        Invalid("import torch\nscaler = torch.cuda.amp.GradScaler()\n", 'import torch\nscaler = torch.amp.GradScaler("cuda")\n'),
        Invalid("import torch\nwith torch.cuda.amp.autocast(dtype=torch.bfloat16):\n    pass\n",
                'import torch\nwith torch.amp.autocast("cuda", dtype=torch.bfloat16):\n    pass\n'),
        Invalid("from torch.cuda.amp import autocast\nwith autocast(True):\n    pass\n"),
    )

    def __init__(self, ctx):
        super().__init__(ctx)
        self.fallbacks = 0

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        self.fallbacks += 1

    def leave_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        self.fallbacks -= 1

    def visit_Call(self, node: cst.Call) -> None:
        callee = self.ctx.callee(node)
        entry = _AMP.get(callee or "")
        if entry is None or self.fallbacks:
            return  # in an `except` block: a deliberate fallback for PyTorch versions without `torch.amp`
        new, device, keywords_only = entry
        fix = None
        spelling = self.ctx.spelling(new)
        if spelling and not has_star_args(node) and not (keywords_only and positional(node)):
            args = ", ".join([device] + [self.ctx.code(a).rstrip(", ") for a in node.args])
            fix = PendingFix(f"Use `{spelling}({device}, ...)`", (self.replace(node, f"{spelling}({args})"),))
        self.report(node, self.message.format(name=self.ctx.code(node.func), new=new, device=device), fix)


class DataLoaderSingleProcess(Rule):
    """## What it does
    Flags `DataLoader(...)` without `num_workers` (or with `num_workers=0`) in training code (a file that calls
    `backward()`).

    ## Why is this bad
    With no workers, loading and augmenting each batch happens in the training process, between steps: the GPU
    waits for the CPU. Setting `num_workers` overlaps data loading with computation.

    ## Example
    ```python
    loader = DataLoader(train_set, batch_size=64, shuffle=True)
    ```

    ## Use instead
    ```python
    loader = DataLoader(train_set, batch_size=64, shuffle=True, num_workers=4)
    ```
    """

    code = "PT032"
    name = "dataloader-single-process"
    severity = Severity.INFO
    message = "`DataLoader` loads data in the training process (`num_workers=0`): set `num_workers` to overlap loading"
    valid = ("from torch.utils.data import DataLoader\nloader = DataLoader(ds, batch_size=8, num_workers=4)\n",
             "from torch.utils.data import DataLoader\nloader = DataLoader(ds, **loader_kwargs)\n")
    invalid = (Invalid("from torch.utils.data import DataLoader\nloader = DataLoader(ds, batch_size=8)\n"
                       "for x, y in loader:\n    loss(model(x), y).backward()\n"),
               Invalid("import torch\nloader = torch.utils.data.DataLoader(ds, num_workers=0)\nl.backward()\n"))

    accumulates = ("loaders",)
    carries = ("trains",)

    def __init__(self, ctx):
        super().__init__(ctx)
        self.loaders: list[cst.Call] = []
        self.trains = False

    def visit_Call(self, node: cst.Call) -> None:
        if method_name(node) == "backward":
            self.trains = True
        if self.ctx.callee(node) not in ("torch.utils.data.DataLoader", "torch.utils.data.dataloader.DataLoader"):
            return
        if has_star_args(node) or len(positional(node)) > 5:
            return
        workers = keyword(node, "num_workers")
        if workers is None or number_value(workers.value) == 0:
            self.loaders.append(node)

    def leave_Module(self, node: cst.Module) -> None:
        # only in training code: adapters and tests build single-process loaders on purpose
        if self.trains:
            for loader in self.loaders:
                self.report(loader)


class NonBlockingWithoutPinMemory(Rule):
    """## What it does
    Flags `batch.to(device, non_blocking=True)` on batches of a `DataLoader` built without `pin_memory=True`.

    ## Why is this bad
    A host-to-GPU copy can only overlap with computation when the source is in pinned (page-locked) memory.
    From ordinary memory the copy is synchronous anyway, so `non_blocking=True` buys nothing: the intended
    overlap of data transfer and compute never happens.

    ## Example
    ```python
    loader = DataLoader(train_set, batch_size=64, num_workers=4)
    for x, y in loader:
        x = x.to(device, non_blocking=True)
    ```

    ## Use instead
    ```python
    loader = DataLoader(train_set, batch_size=64, num_workers=4, pin_memory=True)
    for x, y in loader:
        x = x.to(device, non_blocking=True)
    ```
    """

    code = "PT033"
    name = "non-blocking-without-pin-memory"
    severity = Severity.INFO
    message = "`non_blocking=True` copies from `{loader}`, which does not pin memory: pass `pin_memory=True` to the DataLoader"
    valid = ("from torch.utils.data import DataLoader\nloader = DataLoader(ds, pin_memory=True)\nfor x in loader:\n"
             "    x = x.to('cuda', non_blocking=True)\n",)
    invalid = (Invalid("from torch.utils.data import DataLoader\nloader = DataLoader(ds, num_workers=2)\nfor x, y in loader:\n"
                       "    x = x.to('cuda', non_blocking=True)\n"),)

    carries = ("unpinned_loaders", "batches")

    def __init__(self, ctx):
        super().__init__(ctx)
        self.unpinned_loaders: set[str] = set()
        self.batches: dict[str, str] = {}  # batch variable -> the loader it came from

    def visit_Assign(self, node: cst.Assign) -> None:
        value = node.value
        if not isinstance(value, cst.Call) or self.ctx.callee(value) not in (
                "torch.utils.data.DataLoader", "torch.utils.data.dataloader.DataLoader"):
            return
        pin = keyword(value, "pin_memory")
        unpinned = not has_star_args(value) and (pin is None or (isinstance(pin.value, cst.Name) and pin.value.value == "False"))
        for target in node.targets:
            if isinstance(target.target, cst.Name):
                (self.unpinned_loaders.add if unpinned else self.unpinned_loaders.discard)(target.target.value)

    def visit_For(self, node: cst.For) -> None:
        iterable = node.iter
        if (isinstance(iterable, cst.Call) and isinstance(iterable.func, cst.Name) and iterable.func.value == "enumerate"
                and iterable.args):
            iterable = iterable.args[0].value
        if isinstance(iterable, cst.Name) and iterable.value in self.unpinned_loaders:
            for name in _names_in_target(node.target):
                self.batches[name] = iterable.value

    def visit_Call(self, node: cst.Call) -> None:
        if method_name(node) not in ("to", "cuda"):
            return
        flag = keyword(node, "non_blocking")
        target = receiver(node)
        if flag is None or not (isinstance(flag.value, cst.Name) and flag.value.value == "True"):
            return
        if isinstance(target, cst.Name) and target.value in self.batches:
            self.report(flag, self.message.format(loader=self.batches[target.value]))


def _names_in_target(target: cst.BaseExpression) -> list[str]:
    if isinstance(target, cst.Name):
        return [target.value]
    if isinstance(target, (cst.Tuple, cst.List)):
        return [n for e in target.elements for n in _names_in_target(e.value)]
    return []
