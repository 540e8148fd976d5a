"""Keras models the whole-model translation tests port to PyTorch (input shapes in INPUTS)."""

import keras
from keras import layers


def build_shared_mlp(hidden=8, classes=3):
    """Functional model with one Dense layer shared by two branches."""
    inputs = keras.Input(shape=(6,))
    x = layers.Dense(hidden, activation="relu")(inputs)
    shared = layers.Dense(hidden)
    a = shared(x)
    b = shared(keras.ops.relu(x))
    merged = layers.Add()([a, b])
    merged = layers.Concatenate()([merged, x])
    outputs = layers.Dense(classes, activation="softmax")(merged)
    return keras.Model(inputs, outputs)


def build_cnn():
    model = keras.Sequential([
        keras.Input(shape=(9, 8, 3)),
        layers.Conv2D(6, 3, padding="same", activation="relu"),
        layers.BatchNormalization(),
        layers.Conv2D(8, 3, strides=2, padding="same"),
        layers.MaxPooling2D(2),
        layers.Flatten(),
        layers.Dropout(0.2),
        layers.Dense(4),
    ])
    return model


class KerasResidualNet(keras.Model):
    def __init__(self, classes=3, **kwargs):
        super().__init__(**kwargs)
        self.conv = layers.Conv2D(6, 3, padding="same")
        self.bn = layers.BatchNormalization(epsilon=1e-3)
        self.conv2 = layers.Conv2D(6, 3, padding="same")
        self.pool = layers.GlobalAveragePooling2D()
        self.head = layers.Dense(classes)

    def call(self, inputs, training=None):
        x = keras.ops.relu(self.bn(self.conv(inputs), training=training))
        x = x + self.conv2(x)
        return self.head(self.pool(x))


def build_text_model(vocab=30):
    tokens = keras.Input(shape=(7,), dtype="int32")
    x = layers.Embedding(vocab, 8)(tokens)
    x = layers.Bidirectional(layers.LSTM(5, return_sequences=True))(x)
    x = layers.GRU(4)(x)
    outputs = layers.Dense(2)(x)
    return keras.Model(inputs=tokens, outputs=outputs)


def build_upsampler():
    inputs = keras.Input(shape=(6, 5, 2))
    x = layers.Conv2DTranspose(4, 3, strides=2, padding="same")(inputs)
    x = layers.UpSampling2D(2)(x)
    x = layers.ZeroPadding2D(((1, 0), (0, 1)))(x)
    outputs = layers.Conv2D(1, 2, activation="sigmoid")(x)
    return keras.Model(inputs, outputs)


INPUTS = {
    "build_shared_mlp": (6,),
    "build_cnn": (9, 8, 3),
    "KerasResidualNet": (7, 6, 3),
    "build_text_model": ("tokens", 7, 30),
    "build_upsampler": (6, 5, 2),
}


def build_transformer_block():
    inputs = keras.Input(shape=(5, 8))
    attended = layers.MultiHeadAttention(num_heads=2, key_dim=4)(inputs, inputs)
    x = layers.LayerNormalization()(inputs + attended)
    hidden = layers.Dense(16, activation="gelu")(x)
    outputs = layers.LayerNormalization(epsilon=1e-6)(x + layers.Dense(8)(hidden))
    return keras.Model(inputs, outputs)


classifier = keras.Sequential([
    layers.Input(shape=(12,)),
    layers.Dense(10, activation="tanh"),
    layers.BatchNormalization(momentum=0.9),
    layers.LeakyReLU(),
    layers.Dense(3),
])


INPUTS["build_transformer_block"] = (5, 8)
INPUTS["classifier"] = (12,)


def build_tf_keras_sequence_model():
    """tf.keras spelling; causal convolution, a GRU and global pooling over time."""
    import tensorflow as tf

    return tf.keras.Sequential([
        tf.keras.layers.Input(shape=(6, 4)),
        tf.keras.layers.Conv1D(5, 3, padding="causal", dilation_rate=2),
        tf.keras.layers.GRU(3, return_sequences=True),
        tf.keras.layers.GlobalMaxPooling1D(),
    ])


INPUTS["build_tf_keras_sequence_model"] = (6, 4)


def build_default_pools():
    """MaxPooling with Keras's default pool size (2 per axis): torch's pools need kernel_size. (Keras 3's
    AveragePooling has no default pool size; tf.keras 2's was 2, which the translation uses too.)"""
    inputs = keras.Input(shape=(8, 8, 3))
    h = layers.Conv2D(4, 3, padding="same")(inputs)
    h = layers.MaxPooling2D()(h)
    h = layers.Reshape((4, 4, 4, 1))(h)
    h = layers.MaxPooling3D(strides=1)(h)
    h = layers.Reshape((9, 3))(h)
    return keras.Model(inputs, layers.MaxPooling1D()(h))


def build_reshaped_tagger(units=5):
    """Recurrent layers whose input size the graph does not give statically (after a Reshape; a size by name)."""
    inputs = keras.Input(shape=(6, 4))
    h = layers.Reshape((3, 8))(inputs)
    h = layers.LSTM(units, return_sequences=True)(h)
    h = layers.Bidirectional(layers.GRU(units, return_sequences=True))(h)
    return keras.Model(inputs, layers.SimpleRNN(3)(h))


INPUTS["build_default_pools"] = (8, 8, 3)
INPUTS["build_reshaped_tagger"] = (6, 4)


def conv_block(x, filters, strides=1, shortcut=False):
    """A helper in functional style, called from the builder below (inlined by the translation)."""
    y = layers.Conv2D(filters, 3, strides=strides, padding="same", use_bias=False)(x)
    y = layers.BatchNormalization()(y)
    if shortcut:
        y = layers.Add()([y, x])
    return layers.ReLU()(y)


def stem(x):
    return conv_block(x, 6)


def build_blocks(classes=4):
    inputs = keras.Input(shape=(8, 8, 3))
    x = stem(inputs)
    x = conv_block(x, 6, shortcut=True)
    x = conv_block(x, filters=8, strides=2)
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, layers.Dense(classes)(x))


def build_conditional(include_top=True, input_tensor=None, pooling="avg", classes=3):
    """keras.applications style: the Input and the head under `if`s on the builder's arguments."""
    if input_tensor is None:
        img_input = layers.Input(shape=(7, 7, 2))
    else:
        img_input = input_tensor
    x = layers.Conv2D(5, 3, activation="relu")(img_input)
    if include_top:
        x = layers.Flatten()(x)
        x = layers.Dense(classes)(x)
    elif pooling == "avg":
        x = layers.GlobalAveragePooling2D()(x)
    else:
        x = layers.GlobalMaxPooling2D()(x)
    return keras.Model(img_input, x)


INPUTS["build_blocks"] = (8, 8, 3)
INPUTS["build_conditional"] = (7, 7, 2)


class BuiltBlock(layers.Layer):
    """Sublayers created in build(), not __init__ (keras-hub style): torch creates them in __init__."""

    def __init__(self, units=4, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.inner = layers.Dense(self.units, activation="relu")
        self.norm = layers.LayerNormalization(epsilon=1e-5)
        self.proj = layers.Dense(6)
        super().build(input_shape)

    def call(self, x):
        return self.norm(self.proj(self.inner(x)) + x)


INPUTS["BuiltBlock"] = (5, 6)
