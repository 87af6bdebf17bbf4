"""The Atari pipeline end to end under test_mt at the tiny preset: NGU
pre-training on Ms Pac-Man's frames, export, zero-shot report, BT and
weight-transfer runs on the paper's modified task, and the report command."""

import os

from absl.testing import absltest
from acme import specs
import numpy as np
import pytest

from behavior_transfer import environments
from behavior_transfer import experiments
from behavior_transfer.launching import reports
from behavior_transfer.policies import pretrained
from behavior_transfer.policies import sources
from behavior_transfer.studies import paper_report
from behavior_transfer.studies import pipeline

# Launches in-process programs: scripts/run_tests.py gives it a process of its own.
pytestmark = pytest.mark.in_process_programs

ENVIRONMENT = 'atari:ms_pacman'
TASK = 'eat_ghosts_hard'


class AtariPipelineTest(absltest.TestCase):

  # Launchpad counts down a program's shutdown with SIGALRM, which is also
  # pytest-timeout's default signal: time this test from a thread instead.
  @pytest.mark.timeout(600, method='thread')
  def test_pretrain_export_report_transfer_and_tables(self):
    out_dir = self.create_tempdir().full_path
    settings = pipeline.PipelineSettings(
        environment=ENVIRONMENT, task=TASK, preset='tiny',
        arms=pipeline.parse_arms(['bt', 'epsilon_greedy+partial_init']),
        pretrain_steps=300, transfer_steps=300, report_episodes=1,
        report_max_steps=120, launch_type='test_mt')
    pipeline.validate(settings)
    text = pipeline.run(settings, out_dir)

    # Pre-training trained the tiny network on intrinsic reward alone and
    # logged every Ms Pac-Man task's return beside it.
    pretrain_dir = os.path.join(out_dir, 'pretrain')
    logs = reports.read_logs(pretrain_dir)
    self.assertGreater(logs['learner']['learner_steps'].max(), 0)
    episodes = reports.actor_episodes(logs)
    self.assertGreater(len(episodes), 0)
    self.assertGreater(episodes['episode_return'].sum(), 0)  # Intrinsic.
    for task in ('game', 'none', 'eat_ghosts_easy', 'eat_ghosts_hard'):
      self.assertIn(f'return_{task}', episodes)
    # Pac-dots cost 10 each in the hard task, nothing in the easy one.
    self.assertTrue(
        (episodes['return_eat_ghosts_hard'] <=
         episodes['return_eat_ghosts_easy']).all())

    # pi_p was exported over the full action set and reported zero-shot.
    policy = pretrained.ExportedPolicy(
        experiments.policy_dir(pretrain_dir))
    self.assertEqual(policy.num_actions, 18)
    self.assertIn('| return_eat_ghosts_hard |', text)
    # Its learner checkpoint loads as pi_p too, into the tiny network its
    # run was configured with, and acts like the export.
    spec = specs.make_environment_spec(environments.make_environment(
        ENVIRONMENT, TASK))
    from_checkpoint = sources.policy_factory(
        f'checkpoint:{experiments.weights_dir(pretrain_dir)}',
        ENVIRONMENT)(spec)
    environment = environments.make_environment(ENVIRONMENT, TASK)
    timestep = environment.reset()
    states = [p.initial_state() for p in (policy, from_checkpoint)]
    for _ in range(20):
      actions = []
      for i, p in enumerate((policy, from_checkpoint)):
        action, states[i] = p.step(timestep.observation, states[i])
        actions.append(int(action))
      self.assertEqual(actions[0], actions[1])
      timestep = environment.step(np.int32(actions[0]))

    # Both transfer runs reached their budget on the modified task; BT
    # logged its a+ metrics, the partial-init run loaded the tiny weights.
    for arm in ('bt', 'epsilon_greedy+partial_init'):
      run_dir = os.path.join(out_dir, 'transfer', TASK, arm)
      self.assertTrue(os.path.exists(os.path.join(run_dir, 'FINISHED')), arm)
      self.assertGreaterEqual(reports.summarize(run_dir)['actor_steps'], 300)
    bt_episodes = reports.actor_episodes(reports.read_logs(
        os.path.join(out_dir, 'transfer', TASK, 'bt')))
    self.assertIn('greedy_extra_action_fraction', bt_episodes)

    # The report command turns the runs into the paper's tables.
    json_path = os.path.join(out_dir, 'report.json')
    table = paper_report.report([out_dir], json_path,
                                os.path.join(out_dir, 'report.png'))
    self.assertIn(f'| {ENVIRONMENT} | {TASK} | bt | 0 |', table)
    self.assertIn(f'| {ENVIRONMENT} | {TASK} | epsilon_greedy+partial_init |',
                  table)


if __name__ == '__main__':
  absltest.main()
