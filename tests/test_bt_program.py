"""The transfer program in every exploration mode, in-process under test_mt."""

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
import pytest

from behavior_transfer import experiments
from behavior_transfer.agents.bt import config as bt_config
from behavior_transfer.launching import reports
from tests import test_acting_precision
from tests import test_program

# Launches in-process programs: scripts/run_tests.py gives it a process of its own.
pytestmark = pytest.mark.in_process_programs

ENVIRONMENT = 'minigrid:MiniGrid-MultiRoom-N2-S4-v0'
BUDGET = 400


class TransferProgramTest(parameterized.TestCase):

  @parameterized.named_parameters(
      *[(e.value, e.value) for e in bt_config.Exploration])
  def test_program_runs_and_logs_what_explored(self, exploration):
    run_dir = self.create_tempdir().full_path
    spec = test_program.tiny_spec(
        'bt', ENVIRONMENT, BUDGET, pretrained='scripted:door_seeker',
        config=dict(exploration=bt_config.Exploration(exploration),
                    # Flights often enough to see in 400 steps.
                    levy_epsilon_base=0.3))
    test_program.launch_until_stopped(
        self, lambda stop: experiments.make_layout(spec, run_dir, stop))

    logs = reports.read_logs(run_dir)
    self.assertGreater(logs['learner']['learner_steps'].max(), 2)
    episodes = reports.actor_episodes(logs)
    self.assertGreaterEqual(episodes['actor_steps'].max(), BUDGET)
    # Transfer runs log the return under every task and the exploration
    # measures, as pre-training runs do (the evaluator shares this code, but
    # may not finish an episode within so small a budget).
    for column in ('return_game', 'return_deceptive_first_room',
                   'distinct_cells', 'rooms_reached'):
      self.assertIn(column, episodes)
    np.testing.assert_allclose(episodes['return_game'],
                               episodes['episode_return'], atol=1e-5)
    self.assertGreaterEqual(episodes['rooms_reached'].min(), 1)
    mode = bt_config.Exploration(exploration)
    flight_fraction = episodes['flight_fraction']
    if mode.uses_flights:
      self.assertGreater(flight_fraction.mean(), 0.)
    else:
      self.assertEqual(flight_fraction.max(), 0.)
    extra_action_fraction = episodes['extra_action_fraction']
    if mode.uses_extra_action:
      self.assertGreater(extra_action_fraction.mean(), 0.)
    else:
      self.assertEqual(extra_action_fraction.max(), 0.)
      self.assertEqual(episodes['greedy_extra_action_fraction'].max(), 0.)

  @test_acting_precision.NEEDS_BFLOAT16
  def test_actors_acting_in_bfloat16_feed_the_float32_learner(self):
    run_dir = self.create_tempdir().full_path
    spec = experiments.override(
        test_program.tiny_spec('bt', ENVIRONMENT, BUDGET,
                               pretrained='scripted:door_seeker'),
        r2d2=dict(acting_dtype='bfloat16'))
    acting_dtypes = []

    def make_layout(stop):
      layout = experiments.make_layout(spec, run_dir, stop)
      make_acting_network = layout.builder.make_acting_network

      def recorded(environment_spec):
        network = make_acting_network(environment_spec)
        acting_dtypes.append({v.dtype.name for v in network.variables})
        return network
      layout.builder.make_acting_network = recorded
      return layout

    test_program.launch_until_stopped(self, make_layout)
    self.assertEqual(acting_dtypes, [{'bfloat16'}] * 2)  # Both actors.
    logs = reports.read_logs(run_dir)
    # Replay took the actors' float32 states (an insert of another dtype
    # fails the table's signature) and the learner trained on them.
    self.assertGreater(logs['learner']['learner_steps'].max(), 2)
    self.assertTrue(np.isfinite(logs['learner']['loss']).all())
    episodes = reports.actor_episodes(logs)
    self.assertGreaterEqual(episodes['actor_steps'].max(), BUDGET)
    self.assertGreater(episodes['extra_action_fraction'].mean(), 0.)


if __name__ == '__main__':
  absltest.main()
