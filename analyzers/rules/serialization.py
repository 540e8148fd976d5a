"""Saving and loading: unsafe pickles and legacy formats."""

from __future__ import annotations

import libcst as cst

from ..findings import Severity
from ..rule import STATEMENT_SCOPE, Invalid, PendingFix, Rule
from ._calls import keyword, method_name, positional, string_value, with_keyword


class TorchLoadWithoutWeightsOnly(Rule):
    """## What it does
    Flags `torch.load(...)` without an explicit `weights_only=` argument.

    ## Why is this bad
    `torch.load` unpickles: with `weights_only=False` a checkpoint file can run arbitrary code on load. The
    default changed to `True` in PyTorch 2.6, so the same line behaves differently across versions: explicit is
    both safer and portable.

    ## Example
    ```python
    state = torch.load("model.pt")
    ```

    ## Use instead
    ```python
    state = torch.load("model.pt", weights_only=True)
    ```

    The fix is safe: `weights_only=True` is what current PyTorch already does when the argument is omitted.
    """

    code = "PT006"
    scope = STATEMENT_SCOPE
    name = "torch-load-without-weights-only"
    severity = Severity.WARNING
    message = "`torch.load` without `weights_only=`: pass `weights_only=True` unless you trust the file"
    fixable = True
    valid = ("import torch\nsd = torch.load('m.pt', weights_only=True)\n",
             "import torch\nsd = torch.load('m.pt', map_location='cpu', weights_only=False)\n")
    invalid = (
        Invalid("import torch\nsd = torch.load('m.pt')\n", "import torch\nsd = torch.load('m.pt', weights_only=True)\n"),
        Invalid("from torch import load\nsd = load(path, map_location='cpu')\n",
                "from torch import load\nsd = load(path, map_location='cpu', weights_only=True)\n"),
    )

    def visit_Call(self, node: cst.Call) -> None:
        if self.ctx.callee(node) != "torch.load" or keyword(node, "weights_only") is not None:
            return
        if any(a.star == "**" for a in node.args):
            return
        fix = PendingFix("Pass `weights_only=True`",
                         (self.replace(node, self.ctx.code(with_keyword(node, "weights_only", "True"))),))
        self.report(node, fix=fix)


class LegacyH5Format(Rule):
    """## What it does
    Flags Keras models saved to `.h5`/`.hdf5` files or with `save_format="h5"`.

    ## Why is this bad
    HDF5 is Keras's legacy format: Keras 3 saves it only with a warning, it does not record everything the
    `.keras` format does (custom objects, compile state, some layers), and `save_weights` in Keras 3 refuses file
    names that do not end in `.weights.h5`.

    ## Example
    ```python
    model.save("classifier.h5")
    ```

    ## Use instead
    ```python
    model.save("classifier.keras")
    ```

    The fix changes the file name, so anything that reads the old name must follow: it is offered in the editor
    only.
    """

    code = "TF004"
    scope = STATEMENT_SCOPE
    name = "legacy-h5-format"
    severity = Severity.WARNING
    message = "Saving to legacy HDF5 (`{what}`); use the native `.keras` format"
    fixable = True
    valid = ("import keras\nmodel.save('m.keras')\n", "import keras\nmodel.save_weights('m.weights.h5')\n",
             "import torch\ntorch.save(m, 'x.h5')\n")
    invalid = (
        Invalid("import keras\nmodel.save('model.h5')\n"),
        Invalid("from tensorflow import keras\nmodel.save(path, save_format='h5')\n"),
    )

    def visit_Call(self, node: cst.Call) -> None:
        if method_name(node) != "save" or self.ctx.callee(node) is not None or not (
                self.ctx.imports.imports_framework("keras") or self.ctx.imports.imports_framework("tensorflow")):
            return
        fmt = keyword(node, "save_format")
        if fmt is not None and string_value(fmt.value) == "h5":
            self.report(node, self.message.format(what='save_format="h5"'))
            return
        args = positional(node)
        target = args[0].value if args else (keyword(node, "filepath") or keyword(node, "filename") or
                                              cst.Arg(value=cst.Name("_"))).value
        name = string_value(target)
        if name and name.lower().endswith((".h5", ".hdf5")):
            base = name.rsplit(".", 1)[0]
            quote = self.ctx.code(target)[-1]
            fix = PendingFix("Save as `.keras`", (self.replace(target, f"{quote}{base}.keras{quote}"),), safe=False)
            self.report(node, self.message.format(what=name), fix)
