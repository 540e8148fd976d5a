"""Keras builders written in other common spellings of graphs the zoo already verifies (keras_zoo.py):
layers applied inside the `keras.Model(...)` call, and applied layers unpacked from a tuple."""

import keras
from keras import layers


def build_inline_head(classes=4):
    """keras_zoo.build_gru_classifier with its head applied inside the Model call."""
    inputs = keras.Input(shape=(5, 6))
    x = layers.GRU(10)(inputs)
    return keras.Model(inputs, layers.Dense(classes, activation="softmax")(x))


def build_inline_outputs():
    """keras_zoo.build_siamese's merge layers applied inside the Model call's output list."""
    first = keras.Input(shape=(6,))
    second = keras.Input(shape=(6,))
    encoder = layers.Dense(8, activation="relu")
    a = encoder(first)
    b = encoder(second)
    return keras.Model([first, second], [layers.Multiply()([a, b]), layers.Subtract()([a, b])])


def build_tuple_applied():
    """A shared layer applied twice in one tuple assignment."""
    first = keras.Input(shape=(6,))
    second = keras.Input(shape=(6,))
    encoder = layers.Dense(8, activation="relu")
    a, b = encoder(first), encoder(second)
    product = layers.Multiply()([a, b])
    return keras.Model([first, second], product)


ZOO = {
    "build_inline_head": ["--input-shape", "2,5,6"],
    "build_inline_outputs": ["--input-shape", "2,6", "--input-shape", "2,6"],
    "build_tuple_applied": ["--input-shape", "2,6", "--input-shape", "2,6"],
}
