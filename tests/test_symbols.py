"""analyzers.symbols.name_at: the imported dotted name under a position."""

import pytest

from tensorlint.analyzers.findings import Position
from tensorlint.analyzers.symbols import name_at

SOURCE = '''\
import torch.nn as nn
from tensorflow import keras
import numpy as np
layer = nn.BatchNorm2d(3)
dense = keras.layers.Dense(4)
text = "nn.Linear"  # nn.Linear
value = make().nn.Linear
arr = np.zeros(3)
'''


@pytest.mark.parametrize("line, column, expected", [
    (4, 14, "torch.nn.BatchNorm2d"),
    (4, 9, "torch.nn"),  # on `nn`: the module, not the layer
    (5, 24, "keras.layers.Dense"),  # tensorflow.keras is canonicalised to keras
    (5, 16, "keras.layers"),
    (6, 12, None),  # inside a string
    (6, 28, None),  # inside a comment
    (7, 20, None),  # an attribute of a call result, not an imported name
    (8, 10, "numpy.zeros"),
    (8, 2, None),  # a local name
    (99, 0, None),
])
def test_name_at(line, column, expected):
    found = name_at(SOURCE, Position(line, column))
    assert (found.canonical if found else None) == expected


def test_name_at_range_covers_what_is_written_up_to_the_cursor():
    found = name_at(SOURCE, Position(5, 16))
    assert found.written == "keras.layers"
    assert (found.range.start, found.range.end) == (Position(5, 8), Position(5, 20))


def test_name_at_on_unparsable_source_is_none():
    assert name_at("import torch.nn as nn\nx = nn.Linear(\n", Position(2, 8)) is None
