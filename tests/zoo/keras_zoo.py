"""Keras models that `tensorlint verify --to torch` must prove equal to their translation
(tests/test_verify_zoo.py). Builders and classes take only defaulted arguments; inputs are channels-last. Other
spellings of the same graphs (layers applied inside the `keras.Model(...)` call) are in keras_spellings.py.
ZOO maps each symbol to its `--input-shape` values (batch included) and extra verify flags.
"""

import keras
from keras import layers


def build_vgg_bn(classes=5):
    """VGG-style Sequential: conv + BatchNorm + ReLU stacks, max pooling, flatten, dense classifier."""
    return keras.Sequential([
        keras.Input(shape=(8, 8, 3)),
        layers.Conv2D(8, 3, padding="same"), layers.BatchNormalization(), layers.ReLU(),
        layers.Conv2D(8, 3, padding="same"), layers.BatchNormalization(), layers.ReLU(),
        layers.MaxPooling2D(2),
        layers.Conv2D(16, 3, padding="same"), layers.BatchNormalization(), layers.ReLU(),
        layers.MaxPooling2D(2),
        layers.Flatten(),
        layers.Dense(32, activation="relu"),
        layers.Dropout(0.5),
        layers.Dense(classes),
    ])


def build_resnet_basic(classes=4):
    """Functional ResNet: stem, identity block, basic block with a strided 1x1 projection shortcut."""
    inputs = keras.Input(shape=(9, 9, 3))
    x = layers.Conv2D(8, 3, padding="same", use_bias=False)(inputs)
    x = layers.ReLU()(layers.BatchNormalization()(x))
    y = layers.Conv2D(8, 3, padding="same", use_bias=False)(x)
    y = layers.ReLU()(layers.BatchNormalization()(y))
    y = layers.BatchNormalization()(layers.Conv2D(8, 3, padding="same", use_bias=False)(y))
    x = layers.ReLU()(layers.Add()([x, y]))
    y = layers.Conv2D(16, 3, strides=2, padding="same", use_bias=False)(x)
    y = layers.ReLU()(layers.BatchNormalization()(y))
    y = layers.BatchNormalization()(layers.Conv2D(16, 3, padding="same", use_bias=False)(y))
    shortcut = layers.BatchNormalization()(layers.Conv2D(16, 1, strides=2, use_bias=False)(x))
    x = layers.ReLU()(layers.Add()([y, shortcut]))
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(classes)(x)
    return keras.Model(inputs, outputs)


def build_inverted_residual(channels=8, expansion=4):
    """MobileNetV2 block: 1x1 expansion, 3x3 depthwise, linear 1x1 projection, residual add."""
    inputs = keras.Input(shape=(9, 8, channels))
    x = layers.Conv2D(channels * expansion, 1, use_bias=False)(inputs)
    x = layers.ReLU(6.0)(layers.BatchNormalization()(x))
    x = layers.DepthwiseConv2D(3, padding="same", use_bias=False)(x)
    x = layers.ReLU(6.0)(layers.BatchNormalization()(x))
    x = layers.BatchNormalization()(layers.Conv2D(channels, 1, use_bias=False)(x))
    outputs = layers.Add()([inputs, x])
    return keras.Model(inputs, outputs)


def build_lstm_classifier(vocab=50, classes=3):
    return keras.Sequential([
        keras.Input(shape=(6,), dtype="int64"),
        layers.Embedding(vocab, 8),
        layers.LSTM(12),
        layers.Dense(classes),
    ])


def build_gru_classifier(classes=4):
    inputs = keras.Input(shape=(5, 6))
    x = layers.GRU(10)(inputs)
    outputs = layers.Dense(classes, activation="softmax")(x)
    return keras.Model(inputs, outputs)


def build_bidirectional_tagger(vocab=40, tags=5):
    """Per-token tags from a bidirectional GRU over embeddings."""
    tokens = keras.Input(shape=(7,), dtype="int64")
    x = layers.Embedding(vocab, 8)(tokens)
    x = layers.Bidirectional(layers.GRU(6, return_sequences=True))(x)
    outputs = layers.Dense(tags)(x)
    return keras.Model(tokens, outputs)


class TransformerEncoder(keras.Model):
    """Post-norm encoder block as a Model subclass: attention, residual + LayerNorm, MLP, residual + LayerNorm."""

    def __init__(self, dim=16, heads=4, hidden=32, **kwargs):
        super().__init__(**kwargs)
        self.attention = layers.MultiHeadAttention(num_heads=heads, key_dim=dim // heads, dropout=0.1)
        self.norm1 = layers.LayerNormalization(epsilon=1e-5)
        self.dense1 = layers.Dense(hidden, activation="relu")
        self.dense2 = layers.Dense(dim)
        self.dropout = layers.Dropout(0.1)
        self.norm2 = layers.LayerNormalization(epsilon=1e-5)

    def call(self, x, training=None):
        attended = self.attention(x, x, training=training)
        x = self.norm1(x + attended)
        return self.norm2(x + self.dropout(self.dense2(self.dense1(x)), training=training))


def build_conv_autoencoder():
    inputs = keras.Input(shape=(8, 8, 2))
    x = layers.Conv2D(8, 3, strides=2, padding="same", activation="relu")(inputs)
    x = layers.BatchNormalization()(x)
    x = layers.Conv2D(16, 3, strides=2, padding="same", activation="relu")(x)
    x = layers.Conv2DTranspose(8, 3, strides=2, padding="same", activation="relu")(x)
    outputs = layers.Conv2DTranspose(2, 2, strides=2, activation="tanh")(x)
    return keras.Model(inputs, outputs)


def build_signal_net(classes=3):
    """1-D signal classifier: conv/BatchNorm/pool, a dilated conv, global average pooling."""
    inputs = keras.Input(shape=(33, 2))
    x = layers.Conv1D(8, 5, padding="same")(inputs)
    x = layers.MaxPooling1D(2)(layers.ReLU()(layers.BatchNormalization()(x)))
    x = layers.Conv1D(16, 3, dilation_rate=2, activation="relu")(x)
    x = layers.GlobalAveragePooling1D()(x)
    outputs = layers.Dense(classes)(x)
    return keras.Model(inputs, outputs)


def build_unet(classes=2):
    """Two-level U-Net with a transposed-conv upsampling and skip concatenation on channels."""
    inputs = keras.Input(shape=(8, 8, 3))
    skip = layers.Conv2D(8, 3, padding="same")(inputs)
    skip = layers.ReLU()(layers.BatchNormalization()(skip))
    x = layers.MaxPooling2D(2)(skip)
    x = layers.Conv2D(16, 3, padding="same", activation="relu")(x)
    x = layers.Conv2DTranspose(8, 2, strides=2)(x)
    x = layers.Concatenate()([x, skip])
    x = layers.Conv2D(8, 3, padding="same", activation="relu")(x)
    outputs = layers.Conv2D(classes, 1)(x)
    return keras.Model(inputs, outputs)


def build_shared_multi_output(classes=3):
    """Functional model: one Dense shared by two branches, two outputs (class probabilities, a score)."""
    inputs = keras.Input(shape=(10,))
    shared = layers.Dense(12, activation="tanh")
    left = shared(inputs)
    right = shared(layers.Dense(10)(inputs))
    merged = layers.Concatenate()([left, right])
    probabilities = layers.Dense(classes, activation="softmax")(merged)
    score = layers.Dense(1, activation="sigmoid")(layers.Add()([left, right]))
    return keras.Model(inputs, [probabilities, score])


def build_siamese(features=6):
    """Two inputs through one shared encoder; the output is their element-wise product and difference."""
    first = keras.Input(shape=(features,))
    second = keras.Input(shape=(features,))
    encoder = layers.Dense(8, activation="relu")
    a = encoder(first)
    b = encoder(second)
    product = layers.Multiply()([a, b])
    difference = layers.Subtract()([a, b])
    return keras.Model([first, second], [product, difference])


def residual_block(x, filters, strides=1):
    """keras.applications style: a helper in functional style, a projection shortcut only when it strides."""
    shortcut = x
    if strides != 1:
        shortcut = layers.Conv2D(filters, 1, strides=strides, use_bias=False)(x)
        shortcut = layers.BatchNormalization(epsilon=1.001e-5)(shortcut)
    x = layers.Conv2D(filters, 3, strides=strides, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization(epsilon=1.001e-5)(x)
    x = layers.Activation("relu")(x)
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization(epsilon=1.001e-5)(x)
    x = layers.Add()([shortcut, x])
    return layers.Activation("relu")(x)


def build_resnet_application(include_top=True, input_tensor=None, pooling=None, classes=3):
    """keras.applications style builder: the Input and the head under `if`s on its arguments, the body made of
    helper-function blocks, MaxPooling2D with its default pool size."""
    if input_tensor is None:
        img_input = layers.Input(shape=(12, 12, 3))
    else:
        img_input = input_tensor
    x = layers.Conv2D(8, 3, padding="same", use_bias=False)(img_input)
    x = layers.BatchNormalization(epsilon=1.001e-5)(x)
    x = layers.Activation("relu")(x)
    x = layers.MaxPooling2D()(x)
    x = residual_block(x, 8)
    x = residual_block(x, 12, strides=2)
    if include_top:
        x = layers.GlobalAveragePooling2D()(x)
        x = layers.Dense(classes, activation="softmax")(x)
    elif pooling == "avg":
        x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(img_input, x)


ZOO = {
    "build_vgg_bn": ["--input-shape", "2,8,8,3"],
    "build_resnet_basic": ["--input-shape", "2,9,9,3"],
    "build_inverted_residual": ["--input-shape", "2,9,8,8"],
    "build_lstm_classifier": ["--input-shape", "2,6"],
    "build_gru_classifier": ["--input-shape", "2,5,6"],
    "build_bidirectional_tagger": ["--input-shape", "2,7"],
    "TransformerEncoder": ["--input-shape", "2,6,16"],
    "build_conv_autoencoder": ["--input-shape", "2,8,8,2"],
    "build_signal_net": ["--input-shape", "2,33,2"],
    "build_unet": ["--input-shape", "2,8,8,3"],
    "build_shared_multi_output": ["--input-shape", "2,10"],
    "build_siamese": ["--input-shape", "2,6", "--input-shape", "2,6"],
    "build_resnet_application": ["--input-shape", "2,12,12,3"],
}
