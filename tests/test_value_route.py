"""A finished run's Q-values along a scripted route: the route walked step by
step with the task's rewards, Q in return units, and bad routes refused."""

import json

import numpy as np
import pytest
import tensorflow as tf

from behavior_transfer import experiments
from behavior_transfer.agents.r2d2 import learning
from behavior_transfer.environments import minigrid_play as play
from behavior_transfer.studies import value_route
from tests.helpers import finished_runs

LEVEL = 'minigrid:MiniGrid-DoorKey-5x5-v0'


def test_values_are_returned_in_return_units():
  returns = np.array([-1000., -3., -0.2, 0., 0.05, 1., 40., 1e4])
  rescaled = learning.value_rescaling(tf.constant(returns)).numpy()
  np.testing.assert_allclose(value_route.inverse_value_rescaling(rescaled),
                             returns, rtol=1e-6, atol=1e-9)
  # The walk reports these units: the network's raw outputs would be h(Q).
  assert value_route.inverse_value_rescaling(np.float32(1.)) == (
      pytest.approx(3.0, rel=1e-2))


def test_routes_are_parsed_and_bad_legs_name_the_valid_ones():
  legs = value_route.parse_route('face:key, pickup,reach:goal')
  assert [leg.name for leg in legs] == ['face:key', 'pickup', 'reach:goal']
  with pytest.raises(ValueError, match='Unknown action .jump.*pickup'):
    value_route.parse_route('face:key,jump')
  with pytest.raises(ValueError, match='Unknown walk .fly.*face, reach'):
    value_route.parse_route('fly:key')


def test_the_route_is_walked_with_the_tasks_rewards_and_the_networks_q(
    tmp_path):
  """A network that prefers `toggle` everywhere: the hard twin charges the
  key and the door and pays the goal on the route's last step; toggle is the
  greedy action on every step, so the route's action is greedy exactly on
  the toggle leg, and Q(a+) is reported for BT. Every advantage is a
  constant, so h(Q(toggle)) - h(Q(a)) is 5 on every step: Q is reported in
  return units, through the learner's inverse of h."""
  num_outputs = 7 + 1  # MiniGrid's actions and a+.
  biases = {output: 0. for output in range(num_outputs)}
  biases[play.TOGGLE] = 5.
  run_dir = finished_runs.biased_bt_run(
      str(tmp_path / 'run'), LEVEL, biases, task='success_penalised')
  legs = value_route.parse_route(value_route.DOORKEY_ROUTE)
  rows = value_route.walk(run_dir, legs, seeds=[0, 1])
  for seed in (0, 1):
    steps = [row for row in rows if row['seed'] == seed]
    assert [row['step'] for row in steps] == list(range(len(steps)))
    assert steps[-1]['leg'] == 'reach:goal' and steps[-1]['reward'] == 1.
    assert [row['reward'] for row in steps if row['reward'] != 0] == (
        pytest.approx([-0.2, -0.2, 1.]))
  assert {row['best_action'] for row in rows} == {play.TOGGLE}
  assert all(len(row['q_extra']) == 1 for row in rows)
  q_best = np.array([row['q_best'] for row in rows])
  q_extra = np.array([row['q_extra'][0] for row in rows])
  np.testing.assert_allclose(
      learning.value_rescaling(q_best) - learning.value_rescaling(q_extra),
      5., rtol=1e-4)
  summary = {row['leg']: row for row in value_route.summarise(rows)}
  assert list(summary) == [leg.name for leg in legs]
  assert summary['toggle']['route_is_greedy'] == 1.
  assert summary['pickup']['route_is_greedy'] == 0.
  assert summary['pickup']['reward'] == pytest.approx(-0.2)
  assert summary['reach:goal']['reward'] == pytest.approx(1.)
  assert summary['toggle']['q_action_first'] == summary['toggle'][
      'q_best_first']
  assert summary['pickup']['q_action_first'] < summary['pickup'][
      'q_best_first']

  text = value_route.report([run_dir], value_route.DOORKEY_ROUTE, [0],
                            str(tmp_path / 'route.json'))
  assert '| toggle | 1 |' in text
  with open(tmp_path / 'route.json') as f:
    written = json.load(f)
  assert [row['leg'] for row in written['runs'][run_dir]['summary']] == (
      [leg.name for leg in legs])


def test_runs_off_minigrid_are_refused_before_any_network_is_built(
    tmp_path):
  spec = experiments.from_preset('r2d2', 'atari:pong', 100)
  (tmp_path / 'config.json').write_text(json.dumps(spec.to_json()))
  with pytest.raises(ValueError, match='MiniGrid levels only'):
    value_route.walk(str(tmp_path), value_route.parse_route('pickup'), [0])


def test_a_route_through_what_the_level_lacks_says_so(tmp_path):
  run_dir = finished_runs.biased_bt_run(str(tmp_path / 'run'),
                                        'minigrid:MiniGrid-Empty-5x5-v0', {})
  with pytest.raises(ValueError, match='No key'):
    value_route.walk(run_dir, value_route.parse_route('face:key'), [0])


def test_a_route_through_several_doors_takes_the_next_closed_one(tmp_path):
  """On the six-room level the route to the third room opens two doors in
  turn: each `face:door` walks to the nearest closed door, not the first
  door in grid order (often behind another); the hard twin charges both."""
  run_dir = finished_runs.biased_bt_run(
      str(tmp_path / 'run'), 'minigrid:MiniGrid-MultiRoom-N4-S5-v0', {},
      task='reach_third_room_penalised')
  through = 'face:door,toggle,reach:door,forward'
  legs = value_route.parse_route(','.join([through] * 2))
  for seed in (0, 1, 2):
    rows = value_route.walk(run_dir, legs, seeds=[seed])
    rewards = [row['reward'] for row in rows if row['reward'] != 0]
    assert rewards == pytest.approx([-0.2, -0.2, 1.]), seed
    assert rows[-1]['leg'] == 'forward' and rows[-1]['reward'] == 1.
