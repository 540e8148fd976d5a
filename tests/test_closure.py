"""The dependency closure of a symbol: what a translation and verify's build of the original carry along."""

from __future__ import annotations

import textwrap

import libcst as cst

from tensorlint.migrations.closure import closure

RESNET_LIKE = textwrap.dedent('''\
    from typing import Callable, Optional, List
    import math
    import torch.nn as nn
    from torch import Tensor

    UNUSED = 3
    cfgs = {"A": [8, "M", 16]}


    def conv3x3(i: int, o: int) -> nn.Conv2d:
        return nn.Conv2d(i, o, 3, padding=1, bias=False)


    def unrelated():
        return math.pi


    class Block(nn.Module):
        def __init__(self, c: int, norm_layer: Optional[Callable[..., nn.Module]] = None) -> None:
            super().__init__()
            self.conv = conv3x3(c, c)

        def forward(self, x: Tensor) -> Tensor:
            return self.conv(x)


    class Net(nn.Module):
        def __init__(self, block=Block, cfg: str = "A"):
            super().__init__()
            self.layers = nn.ModuleList(block(c) for c in cfgs[cfg] if c != "M")
    ''')


def _names(code: str) -> list[str]:
    return [line.split("(")[0].split(":")[0] for line in code.splitlines()
            if line.startswith(("def ", "class ", "from ", "import ")) or "=" in line.split("(")[0][:20]
            and not line.startswith(" ")]


def test_closure_keeps_helpers_constants_values_and_used_imports_only():
    code = closure(cst.parse_module(RESNET_LIKE), "Net").code()
    assert _names(code) == [
        "from typing import Callable, Optional", "import torch.nn as nn", "from torch import Tensor",
        'cfgs = {"A"', "def conv3x3", "class Block", "class Net"]
    compile(code, "closure", "exec")


def test_closure_of_a_leaf_class_leaves_out_its_users():
    code = closure(cst.parse_module(RESNET_LIKE), "Block").code()
    assert "class Net" not in code and "cfgs" not in code and "def conv3x3" in code


def test_relative_imports_are_inlined_from_the_package(tmp_path):
    package = tmp_path / "pkg"
    (package / "layers").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "layers" / "__init__.py").write_text("")
    (package / "helpers.py").write_text("import itertools\n\ndef pair(x):\n    return tuple(itertools.repeat(x, 2))\n"
                                        "\ndef other():\n    pass\n")
    (package / "layers" / "mlp.py").write_text(
        "from ..helpers import pair as to_2tuple\nfrom ..missing import gone\nimport torch.nn as nn\n\n"
        "class Mlp(nn.Module):\n    def __init__(self, n=4):\n        super().__init__()\n"
        "        self.sizes = to_2tuple(n)\n        gone()\n")
    path = package / "layers" / "mlp.py"
    result = closure(cst.parse_module(path.read_text()), "Mlp", path)
    code = result.code()
    assert "def pair" in code and "def other" not in code and "to_2tuple = pair" in code
    assert result.unresolved == ("from ..missing import gone",)
    assert result.sources == (str(package / "helpers.py"),)
    namespace: dict = {}
    exec(compile(code.replace("from ..missing import gone", "gone = print"), "x", "exec"), namespace)
    assert namespace["to_2tuple"](3) == (3, 3)


def test_absolute_imports_of_the_files_own_package_are_inlined_unless_it_is_installed(tmp_path):
    """keras-hub writes `from keras_hub.src.x import y` inside keras_hub/: followed into the files (the package's
    __init__, which may import the world, is not run); an import of a package installed elsewhere stays."""
    package = tmp_path / "zoo_pkg"
    (package / "src").mkdir(parents=True)
    (package / "__init__.py").write_text("import package_that_does_not_exist\n")
    (package / "src" / "__init__.py").write_text("")
    (package / "src" / "export.py").write_text("def exported(cls):\n    return cls\n")
    (package / "src" / "model.py").write_text(
        "import libcst\nfrom zoo_pkg.src.export import exported\nfrom libcst import parse_module\n\n"
        "@exported\nclass Model:\n    parse = staticmethod(parse_module)\n")
    path = package / "src" / "model.py"
    result = closure(cst.parse_module(path.read_text()), "Model", path)
    code = result.code()
    assert "def exported" in code and "zoo_pkg" not in code and "from libcst import parse_module" in code
    assert result.sources == (str(package / "src" / "export.py"),) and result.unresolved == ()
    # a copy of an installed package in the user's tree: its own imports are left to Python
    shadow = tmp_path / "libcst"
    shadow.mkdir()
    (shadow / "__init__.py").write_text("")
    (shadow / "user.py").write_text("from libcst import parse_module\n\nclass User:\n    parse = parse_module\n")
    result = closure(cst.parse_module((shadow / "user.py").read_text()), "User", shadow / "user.py")
    assert "from libcst import parse_module" in result.code() and result.sources == ()


def test_a_future_import_always_comes_along_and_first():
    source = "from __future__ import annotations\nimport math\n\n\ndef f(x: 'int | None') -> float:\n    return math.pi\n"
    code = closure(cst.parse_module(source), "f").code()
    assert code.startswith("from __future__ import annotations\n") and "import math" in code
