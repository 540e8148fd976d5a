"""Keras models for the deployment truth tests. Lines the advisor must report as blocking carry `# BLOCKS`."""

import numpy as np
import keras
import tensorflow as tf


def build_clean():
    inputs = keras.Input((8,))
    hidden = keras.layers.Dense(16, activation="relu")(inputs)
    return keras.Model(inputs, keras.layers.Dense(4)(hidden))


@keras.saving.register_keras_serializable(package="deploy_examples")
class CleanSubclass(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.hidden = keras.layers.Dense(16, activation="relu")
        self.out = keras.layers.Dense(4)

    def call(self, inputs, training=None):
        if training:  # a Python bool, not a tensor
            inputs = inputs * 1.0
        return self.out(self.hidden(inputs))


def build_with_lambda():
    inputs = keras.Input((8,))
    doubled = keras.layers.Lambda(lambda t: t * 2.0)(inputs)  # BLOCKS
    return keras.Model(inputs, keras.layers.Dense(4)(doubled))


class UnregisteredScale(keras.layers.Layer):  # BLOCKS
    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}

    def call(self, inputs):
        return inputs * self.factor


def build_with_unregistered_layer():
    inputs = keras.Input((8,))
    return keras.Model(inputs, keras.layers.Dense(4)(UnregisteredScale(3.0)(inputs)))


@keras.saving.register_keras_serializable(package="deploy_examples")
class Residual(keras.layers.Layer):
    def __init__(self, inner, **kwargs):
        super().__init__(**kwargs)
        self.inner = inner

    def call(self, inputs):
        return inputs + self.inner(inputs)


def build_with_configless_layer():
    inputs = keras.Input((8,))
    mixed = Residual(keras.layers.Dense(8))(inputs)  # BLOCKS
    return keras.Model(inputs, keras.layers.Dense(4)(mixed))


@keras.saving.register_keras_serializable(package="deploy_examples")
class PlainArgsLayer(keras.layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.dense = keras.layers.Dense(units)

    def call(self, inputs):
        return self.dense(inputs)


def build_with_plain_args_layer():
    inputs = keras.Input((8,))
    return keras.Model(inputs, PlainArgsLayer(4)(inputs))


@keras.saving.register_keras_serializable(package="deploy_examples")
class BranchOnValue(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = keras.layers.Dense(4)

    def call(self, inputs):
        if tf.reduce_sum(inputs) > 0:  # BLOCKS
            return self.dense(inputs)
        return self.dense(-inputs)


@keras.saving.register_keras_serializable(package="deploy_examples")
class NumpyInCall(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = keras.layers.Dense(4)

    def call(self, inputs):
        return self.dense(inputs) * float(inputs.numpy().std())  # BLOCKS


@keras.saving.register_keras_serializable(package="deploy_examples")
class PyFunctionInCall(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = keras.layers.Dense(4)

    def call(self, inputs):
        squared = tf.py_function(lambda t: t ** 2, [inputs], tf.float32)  # BLOCKS
        squared.set_shape(inputs.shape)
        return self.dense(squared)


@keras.saving.register_keras_serializable(package="deploy_examples")
class RandomInCall(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = keras.layers.Dense(4)

    def call(self, inputs):
        return self.dense(inputs) * np.random.uniform(0.5, 1.5)  # BLOCKS
