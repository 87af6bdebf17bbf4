"""Q-network shapes and recurrent state handling, both sizes, both output counts."""

from acme.wrappers import observation_action_reward
import numpy as np
import pytest
import tensorflow as tf

from behavior_transfer import networks

OAR = observation_action_reward.OAR

CASES = [
    ('small', networks.make_small_network, (7, 7, 3), 7),
    ('atari', networks.make_atari_network, (84, 84, 1), 18),
]


def _inputs(shape, num_actions, leading, seed=0):
  rng = np.random.RandomState(seed)
  return OAR(
      observation=tf.constant(rng.randint(0, 3, size=leading + shape), tf.uint8),
      action=tf.constant(rng.randint(num_actions, size=leading), tf.int32),
      reward=tf.constant(rng.randn(*leading), tf.float32))


@pytest.mark.parametrize('name,factory,shape,num_actions', CASES)
@pytest.mark.parametrize('extra_outputs', [0, 1])
def test_step_and_unroll_shapes(name, factory, shape, num_actions,
                                extra_outputs):
  del name
  num_outputs = num_actions + extra_outputs
  network = factory(num_actions, num_outputs)
  batch, time = 3, 4
  state = network.initial_state(batch)
  q, new_state = network(_inputs(shape, num_actions, (batch,)), state)
  assert q.shape == (batch, num_outputs)
  assert new_state.hidden.shape == state.hidden.shape
  q_seq, _ = network.unroll(_inputs(shape, num_actions, (time, batch)), state, time)
  assert q_seq.shape == (time, batch, num_outputs)


@pytest.mark.parametrize('name,factory,shape,num_actions', CASES[:1])
def test_unroll_matches_stepping_and_state_matters(name, factory, shape,
                                                   num_actions):
  del name
  network = factory(num_actions)
  time, batch = 5, 2
  inputs = _inputs(shape, num_actions, (time, batch))
  state = network.initial_state(batch)
  unrolled, final_state = network.unroll(inputs, state, time)
  stepped = []
  for t in range(time):
    q, state = network(tf.nest.map_structure(lambda x: x[t], inputs), state)
    stepped.append(q)
  np.testing.assert_allclose(unrolled, tf.stack(stepped), rtol=1e-5, atol=1e-5)
  np.testing.assert_allclose(final_state.cell, state.cell, rtol=1e-5, atol=1e-5)
  # The recurrent state carries information: another state, other values.
  first = tf.nest.map_structure(lambda x: x[0], inputs)
  q_fresh, _ = network(first, network.initial_state(batch))
  q_carried, _ = network(first, final_state)
  assert not np.allclose(q_fresh, q_carried)


def test_previous_action_one_hot_has_primitive_width():
  network = networks.make_small_network(num_actions=7, num_outputs=8)
  q, _ = network(_inputs((7, 7, 3), 7, (2,)), network.initial_state(2))
  assert q.shape == (2, 8)
  # The embedding's first layer sees torso features + 7 actions + 1 reward.
  core_input = [v for v in network.variables if 'lstm' in v.name and 'w_i' in v.name]
  assert core_input and core_input[0].shape[0] == 64 + 7 + 1
