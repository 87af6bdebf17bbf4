"""The pre-training program under test_mt: it learns on intrinsic reward,
reports task returns and exploration, and exports a pi_p the BT actor loads."""

import os

from absl.testing import absltest
from acme import specs

from behavior_transfer import environments
from behavior_transfer.agents.bt import actor as bt_actor
from behavior_transfer.agents.bt import config as bt_config
from behavior_transfer.agents.bt import experiment as bt_experiment
from behavior_transfer.agents.ngu import experiment
from behavior_transfer.agents.ngu import program as ngu_program
from behavior_transfer.utils import reports
from tests import test_bt_actor
from tests import test_program

ENVIRONMENT = 'minigrid:MiniGrid-MultiRoom-N2-S4-v0'


class PretrainingProgramTest(absltest.TestCase):

  def test_program_learns_reports_and_exports_a_loadable_policy(self):
    run_dir = self.create_tempdir().full_path
    config = experiment.default_config(ENVIRONMENT, 'ngu',
                                       **test_program.tiny_config_values())
    test_program.launch_until_stopped(
        self, lambda stop: experiment.make_program_builder(
            ENVIRONMENT, config, run_dir, 400, seed=0, stop_program=stop))

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

    # The exported pi_p drives the BT actor on the same dynamics.
    policy_dir = os.path.join(run_dir, ngu_program.POLICY_DIR)
    factory = bt_experiment.pretrained_factory(
        f'exported:{policy_dir}', ENVIRONMENT, specs.make_environment_spec(
            environments.make_environment(ENVIRONMENT)))
    policy = factory()
    network = test_bt_actor.FixedQ([0.] * 7)
    actor = bt_actor.BehaviorTransferActor(
        network, 7, bt_config.Exploration.FLIGHTS, [0.], [1.], policy)
    records = test_bt_actor.run_actor(
        actor, 10, environment=environments.make_environment(ENVIRONMENT))
    self.assertTrue(all(r['in_flight'] for r in records))
    self.assertTrue(all(0 <= r['executed'] < 7 for r in records))


if __name__ == '__main__':
  absltest.main()
