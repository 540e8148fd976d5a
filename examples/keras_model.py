"""A Keras text classifier ported from an old TF 2 tutorial, with its leftovers."""

import keras
import tensorflow as tf
from keras import layers


def build_model(vocab_size: int = 20000, num_classes: int = 5):
    model = keras.Sequential([
        layers.Embedding(vocab_size, 64),
        layers.GlobalAveragePooling1D(),
        tf.keras.layers.Dense(64, activation="relu"),
        layers.Dense(num_classes),
    ])
    model.compile(
        optimizer=keras.optimizers.Adam(lr=1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=["accuracy"],
    )
    return model


history = []


@tf.function
def train_step(model, x, y, optimizer):
    with tf.GradientTape() as tape:
        loss = keras.losses.sparse_categorical_crossentropy(y, model(x, training=True), from_logits=True)
    grads = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
    print("loss:", loss)
    history.append(loss)
    return loss


def export(model, samples):
    model.save("classifier.h5")
    reloaded = keras.models.load_model("classifier.h5")
    return [reloaded.predict(sample[None]) for sample in samples]
