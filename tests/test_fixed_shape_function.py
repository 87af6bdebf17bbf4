"""FixedShapeFunction answers as tf.function does, traces once per input
signature, and acts with weights assigned after it was traced."""

import collections

import numpy as np
import sonnet as snt
import tensorflow as tf
import tree

from behavior_transfer.acting import fixed_shape_function

Observation = collections.namedtuple('Observation', ['image', 'last_action'])


def _inputs(batch: int, seed: int = 0):
  rng = np.random.RandomState(seed)
  observation = Observation(rng.rand(batch, 5).astype(np.float32),
                            rng.randint(3, size=batch).astype(np.int32))
  state = snt.LSTMState(hidden=rng.rand(batch, 4).astype(np.float32),
                        cell=rng.rand(batch, 4).astype(np.float32))
  return observation, state


class TinyNetwork(snt.Module):
  """An LSTM over an image and a one-hot last action; counts its traces."""

  def __init__(self):
    super().__init__()
    self._core = snt.LSTM(4)
    self._head = snt.Linear(3)
    self.traces = 0

  def __call__(self, observation: Observation, state):
    self.traces += 1
    inputs = tf.concat(
        [observation.image, tf.one_hot(observation.last_action, 3)], axis=-1)
    outputs, state = self._core(inputs, state)
    q_values = self._head(outputs)
    return {'greedy': tf.argmax(q_values, axis=-1, output_type=tf.int32),
            'q_values': q_values}, state


def _assert_nests_equal(actual, expected):
  tree.assert_same_structure(actual, expected)
  for a, e in zip(tree.flatten(actual), tree.flatten(expected)):
    np.testing.assert_allclose(np.asarray(a), np.asarray(e), rtol=1e-6)


def test_answers_as_tf_function_with_the_same_nests():
  network = TinyNetwork()
  fixed = fixed_shape_function.FixedShapeFunction(network)
  reference = tf.function(network)
  for seed in range(3):
    inputs = _inputs(8, seed)
    actual = fixed(*inputs)
    _assert_nests_equal(actual, reference(*inputs))
  assert isinstance(actual[1], snt.LSTMState)
  assert set(actual[0]) == {'greedy', 'q_values'}


def test_traces_once_per_input_signature():
  network = TinyNetwork()
  network(*_inputs(1))  # Variables made, as an actor's network has them.
  network.traces = 0
  fixed = fixed_shape_function.FixedShapeFunction(network)
  for seed in range(5):
    fixed(*_inputs(8, seed))
  assert network.traces == 1
  _assert_nests_equal(fixed(*_inputs(2)), network(*_inputs(2)))  # New shape.
  assert network.traces == 3  # Its trace, and the eager call beside it.
  for seed in range(3):
    fixed(*_inputs(8, seed))
    fixed(*_inputs(2, seed))
  assert network.traces == 3


def test_uses_weights_assigned_after_tracing():
  network = TinyNetwork()
  fixed = fixed_shape_function.FixedShapeFunction(network)
  inputs = _inputs(4)
  before = fixed(*inputs)[0]['q_values'].numpy()
  for variable in network.trainable_variables:  # As a VariableClient does.
    variable.assign(variable + 0.5)
  after = fixed(*inputs)[0]['q_values'].numpy()
  assert not np.allclose(before, after)
  np.testing.assert_allclose(after, network(*inputs)[0]['q_values'].numpy(),
                             rtol=1e-6)
