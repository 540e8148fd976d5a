"""Load the model fixture files under tests/translation_models/ as modules."""

import importlib.util
from pathlib import Path

MODELS = Path(__file__).parent / "translation_models"


def load(name: str):
    spec = importlib.util.spec_from_file_location(f"translation_models_{name}", MODELS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
