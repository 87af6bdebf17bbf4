"""The pre-training program under test_mt: it learns on intrinsic reward,
reports task returns and exploration, and exports a pi_p the BT actor loads."""

import os

from absl.testing import absltest
from acme import specs
import numpy as np
import pytest

from behavior_transfer import environments
from behavior_transfer import experiments
from behavior_transfer.experiments import run_experiment
from behavior_transfer import networks
from behavior_transfer.agents.bt import actor as bt_actor
from behavior_transfer.agents.bt import config as bt_config
from behavior_transfer.distributed import logs as node_logs
from behavior_transfer.launching import reports
from behavior_transfer.networks import weight_transfer
from behavior_transfer.policies import bundled
from behavior_transfer.policies import sources
from behavior_transfer.studies import bundle
from tests import test_bt_actor
from tests import test_program

# Launches in-process programs: scripts/run_tests.py gives it a process of its own.
pytestmark = pytest.mark.in_process_programs

ENVIRONMENT = 'minigrid:MiniGrid-MultiRoom-N2-S4-v0'


class PretrainingProgramTest(absltest.TestCase):

  def test_the_q_network_sees_the_dynamics_reward_not_the_intrinsic_one(self):
    """pi_p's previous-reward input in pre-training is what it will see after
    it (0 on reward-free dynamics); only the reward it learns from is
    intrinsic."""
    spec = test_program.tiny_spec('ngu', ENVIRONMENT, 400)
    layout = experiments.make_layout(spec, self.create_tempdir().full_path)
    factory = run_experiment.environment_factory(spec)
    batch = layout.builder.make_environment_batch(
        [factory(0), factory(1)], layout.environment_spec)
    batch.reset()
    intrinsic = []
    for action in [2, 0, 2, 2, 1, 2] * 3:
      for timestep in batch.step([action, action]):
        self.assertEqual(float(timestep.observation.reward), 0.)
        intrinsic.append(float(timestep.reward))
    self.assertGreater(max(intrinsic), 0.)

  def test_program_learns_reports_and_exports_a_loadable_policy(self):
    run_dir = self.create_tempdir().full_path
    spec = test_program.tiny_spec('ngu', ENVIRONMENT, 400)
    # The evaluator first measures a random policy, so on a loaded machine
    # the budget can come before its first episode; that one is awaited.
    test_program.launch_until_stopped(
        self, lambda stop: experiments.make_layout(spec, run_dir, stop),
        then_until=lambda: node_logs.recent_mean(
            run_dir, 'evaluator', 'exploration_vs_random') is not None)

    logs = reports.read_logs(run_dir)
    learner = logs['learner']
    self.assertGreater(learner['learner_steps'].max(), 2)
    self.assertTrue((learner['inverse_dynamics_loss'] > 0).all(),
                    learner.to_string())
    # RND's first updates whiten with statistics of a few tiny batches, which
    # map every input to zero while those batches' observations are all the
    # same; once replay has variety the error is positive.
    self.assertTrue((learner['rnd_loss'] >= 0).all(), learner.to_string())
    self.assertTrue((learner['rnd_loss'].iloc[len(learner) // 2:] > 0).all(),
                    learner.to_string())
    episodes = reports.actor_episodes(logs)
    # Intrinsic rewards reached replay and the logs: positive, not the game's.
    self.assertGreater(episodes['episode_return'].mean(), 0.)
    for column in ('return_game', 'return_none', 'distinct_cells'):
      self.assertIn(column, episodes)
    self.assertTrue((episodes['return_none'] == 0).all())
    self.assertGreaterEqual(episodes['distinct_cells'].min(), 1)
    # The evaluator measures pi_p against a random policy as it trains.
    ratios = logs['evaluator']['exploration_vs_random']
    self.assertTrue(len(ratios) and (ratios > 0).all(), logs['evaluator'])
    # Never above what the episode's layout allows.
    self.assertTrue(
        (ratios <= logs['evaluator']['exploration_ceiling']).all(),
        logs['evaluator'])

    # The exported pi_p drives the BT actor on the same dynamics.
    factory = sources.policy_factory(
        f'exported:{experiments.policy_dir(run_dir)}', ENVIRONMENT)
    policy = factory(specs.make_environment_spec(
        environments.make_environment(ENVIRONMENT)))
    network = test_bt_actor.FixedQ([0.] * 7)
    actor = bt_actor.BehaviorTransferActor(
        network, 7, bt_config.Exploration.FLIGHTS, [0.], [1.], policy)
    records = test_bt_actor.run_actor(
        actor, 10, environment=environments.make_environment(ENVIRONMENT))
    self.assertTrue(all(r['in_flight'] for r in records))
    self.assertTrue(all(0 <= r['executed'] < 7 for r in records))

    # Shipped as a bundled policy: SavedModel, weights and provenance, loaded
    # by name; the weights are the learner's final online network.
    directory = self.create_tempdir().full_path
    made = bundle.write_bundle('tiny-ngu', run_dir, ENVIRONMENT, 0, 2,
                               {'command': 'test'}, directory)
    self.assertEqual(bundled.bundled_names(directory), ['tiny-ngu'])
    self.assertEqual(bundled.provenance('tiny-ngu', directory), made)
    self.assertEqual(made['actor_steps'],
                     reports.summarize(run_dir)['actor_steps'])
    self.assertEqual(set(made['exploration']),
                     {'episodes', 'seed', 'pi_p', 'random', 'reachable'})
    self.assertGreaterEqual(made['exploration']['reachable']['distinct_cells'],
                            made['exploration']['pi_p']['distinct_cells'])
    self.assertGreater(made['exploration_ratio'], 0)
    self.assertIn(bundle.EXPLORATION_PLOT,
                  os.listdir(os.path.join(directory, 'tiny-ngu')))
    self.assertEqual(bundled.load('tiny-ngu', directory).num_actions, 7)
    spec = specs.make_environment_spec(
        environments.make_environment(ENVIRONMENT))
    shipped, trained = (networks.make_q_network('minigrid', spec)
                        for _ in range(2))
    weight_transfer.restore_network(
        shipped, bundled.weights_path('tiny-ngu', directory), spec)
    weight_transfer.restore_network(
        trained, experiments.weights_dir(run_dir), spec)
    for a, b in zip(shipped.variables, trained.variables):
      np.testing.assert_array_equal(a.numpy(), b.numpy())


if __name__ == '__main__':
  absltest.main()
