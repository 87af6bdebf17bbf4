"""The experiment spec: what config.json holds, how a resumed run reads it
back (run directories of the previous layout included), and which settings
may change between launches."""

import json
import os
import shutil

import numpy as np
import pytest

from behavior_transfer import environments
from behavior_transfer import experiments
from behavior_transfer.agents.bt import config as bt_config
from behavior_transfer.agents.ngu import config as ngu_config
from behavior_transfer.distributed import checkpointing
from behavior_transfer.distributed import logs
from behavior_transfer.launching import reports
from behavior_transfer.launching import runs

# Launches in-process programs: scripts/run_tests.py gives it a process of its own.
pytestmark = pytest.mark.in_process_programs

LEGACY = os.path.join(os.path.dirname(__file__), 'data', 'legacy_runs')
LEVEL = 'minigrid:MiniGrid-MultiRoom-N2-S4-v0'
# The settings the legacy runs were written with (by the code before
# `ExperimentSpec`; tests/data/legacy_runs).
LEGACY_R2D2 = dict(min_replay_size=4, batch_size=4, trace_length=6,
                   burn_in_length=2, replay_period=4, replay_ratio=0.,
                   max_replay_size=200)
LEGACY_PROGRAM = dict(num_actors=1, envs_per_actor=2, checkpoint_seconds=1.,
                      evaluation_pause_seconds=0.)


# NGU's MiniGrid defaults when the legacy runs were written (now 0.95, 100,
# and alpha's statistics over the latest 1000 errors): a resumed run keeps
# the settings it was made with.
LEGACY_NGU_R2D2 = dict(discount=0.99, initial_priority=1.)
LEGACY_NGU = dict(rnd_statistics_horizon=0)


def legacy_spec(agent: str, max_actor_steps: int, seed: int, task=None,
                config=None, **transfer) -> experiments.ExperimentSpec:
  """The spec today's launcher makes for the command that wrote a legacy run,
  with the defaults that have changed since set to those of the day."""
  then = LEGACY_NGU_R2D2 if agent == 'ngu' else {}
  config = {**(config or {}), **(LEGACY_NGU if agent == 'ngu' else {})}
  return experiments.override(
      experiments.from_preset(agent, LEVEL, max_actor_steps, task=task,
                              seed=seed, **transfer),
      config=config, r2d2={**LEGACY_R2D2, **then}, program=LEGACY_PROGRAM)


def _stored(agent: str) -> dict:
  with open(os.path.join(LEGACY, agent, 'config.json')) as f:
    return json.load(f)


@pytest.mark.parametrize('agent,expected', [
    ('r2d2', lambda: legacy_spec('r2d2', 200, 1)),
    ('ngu', lambda: legacy_spec('ngu', 200, 2)),
    ('bt', lambda: legacy_spec('bt', 300, 3, 'reach_last_room',
                               dict(levy_epsilon_base=0.2),
                               pretrained='random')),
])
def test_legacy_config_files_read_as_the_spec_of_the_same_command(
    agent, expected):
  spec = experiments.ExperimentSpec.from_json(_stored(agent))
  assert spec == expected()
  assert spec.program.num_actors == 1 and spec.program.envs_per_actor == 2
  # Written back in today's layout, it reads as itself.
  assert experiments.ExperimentSpec.from_json(
      json.loads(json.dumps(spec.to_json()))) == spec


def test_spec_round_trips_every_agent_through_json():
  for agent in experiments.AGENTS:
    spec = experiments.from_preset(
        agent, 'atari:ms_pacman', 10, 'tiny',
        **({'pretrained': 'random', 'weight_init': 'partial',
            'weights_checkpoint': 'bundled:ngu_multiroom'}
           if agent == 'bt' else {}))
    stored = json.loads(json.dumps(spec.to_json()))
    assert stored['environment'] == 'atari:ms_pacman'
    assert 'num_actors' not in json.dumps(stored['config'])
    assert experiments.ExperimentSpec.from_json(stored) == spec
  assert experiments.from_preset('ngu', LEVEL, 1).task == 'none'


def test_the_environment_is_parsed_once_into_a_value():
  spec = experiments.from_preset('r2d2', LEVEL, 1)
  assert spec.environment == environments.EnvironmentName(
      'minigrid', 'MiniGrid-MultiRoom-N2-S4-v0')
  assert environments.parse(spec.environment) is spec.environment
  with pytest.raises(ValueError, match='"<domain>:<name>"'):
    experiments.from_preset('r2d2', 'MiniGrid-Empty-5x5-v0', 1)


def test_bad_specs_are_refused_with_the_reason():
  with pytest.raises(ValueError, match='takes a BTConfig'):
    experiments.ExperimentSpec(
        'bt', LEVEL, ngu_config.preset('minigrid'),
        experiments.from_preset('bt', LEVEL, 1).program, 1)
  with pytest.raises(ValueError, match='Only transfer'):
    experiments.from_preset('r2d2', LEVEL, 1, pretrained='random')
  with pytest.raises(ValueError, match='must be positive'):
    experiments.from_preset('r2d2', LEVEL, 0)
  with pytest.raises(ValueError, match='at least one actor'):
    experiments.override(experiments.from_preset('r2d2', LEVEL, 1),
                         program=dict(num_actors=0))
  stored = _stored('r2d2')
  stored['replay_colour'] = 'blue'
  with pytest.raises(ValueError, match='Unknown R2D2Config settings: '
                     'replay_colour'):
    experiments.ExperimentSpec.from_json(stored)


def test_weights_without_weight_transfer_are_not_recorded():
  spec = experiments.from_preset('bt', LEVEL, 1, pretrained='random',
                                 weights_checkpoint='bundled:ngu_multiroom')
  assert spec.weights_checkpoint is None


def test_program_operation_may_change_on_resume_but_not_what_is_learned(
    tmp_path):
  run_dir = str(tmp_path / 'run')
  shutil.copytree(os.path.join(LEGACY, 'r2d2'), run_dir)
  spec = legacy_spec('r2d2', 200, 1)
  read = experiments.run_experiment.read_settings
  may_change = spec.settings_that_may_change()
  assert {'max_actor_steps', 'program.checkpoint_seconds',
          'program.stall_seconds'} <= may_change
  assert 'program.num_actors' not in may_change
  operated = experiments.override(
      spec, max_actor_steps=10**6,
      program=dict(checkpoint_seconds=60., stall_seconds=30.))
  assert runs.prepare_run_dir(run_dir, operated.to_json(), False, may_change,
                              read)
  for changed, key in (
      (experiments.override(spec, program=dict(num_actors=2)),
       'program.num_actors'),
      (experiments.override(spec, r2d2=dict(batch_size=8)),
       'config.batch_size')):
    with pytest.raises(ValueError, match=key):
      runs.prepare_run_dir(run_dir, changed.to_json(), False, may_change, read)


# Launchpad counts down a program's shutdown with SIGALRM, which is also
# pytest-timeout's default signal: time this test from a thread instead.
@pytest.mark.timeout(600, method='thread')
def test_a_run_directory_of_the_previous_layout_resumes(tmp_path):
  """A BT run written by the code before `ExperimentSpec` (300 actor steps),
  resumed by today's code to 600 from its checkpoints."""
  run_dir = str(tmp_path / 'bt')
  shutil.copytree(os.path.join(LEGACY, 'bt'), run_dir)
  saved = checkpointing.saved_counts(run_dir)['actor_steps']
  assert saved >= 300
  spec = legacy_spec('bt', 600, 3, 'reach_last_room',
                     dict(levy_epsilon_base=0.2), pretrained='random')
  summary = experiments.run(spec, run_dir, 'test_mt')
  assert summary['actor_steps'] >= 600
  assert checkpointing.saved_counts(run_dir)['actor_steps'] >= 600
  episodes = reports.actor_episodes(reports.read_logs(run_dir))
  assert episodes['actor_steps'].is_monotonic_increasing
  # The old rows are kept, and counts continued from the checkpoint instead
  # of restarting from zero (the steps would go back).
  assert episodes['actor_steps'].min() <= saved
  with open(os.path.join(run_dir, 'config.json')) as f:
    stored = json.load(f)
  assert stored['format'] == 2
  assert experiments.ExperimentSpec.from_json(stored) == spec
  assert stored['config']['exploration'] == bt_config.Exploration.BT.value


def test_a_resumed_run_logging_new_columns_keeps_its_csv_readable(tmp_path):
  # Code that logs a column the run's first launch did not (a task added
  # since): earlier rows keep their values under the new header.
  run_dir = str(tmp_path)
  old = logs.make_logger(run_dir, 'actor_0', ('actor_steps', 'return_game'))
  old.write({'actor_steps': 10, 'return_game': 1.})
  old.close()
  new = logs.make_logger(run_dir, 'actor_0',
                         ('actor_steps', 'return_game', 'return_new_task'))
  new.write({'actor_steps': 20, 'return_game': 0., 'return_new_task': 2.})
  new.close()
  frame = reports.read_logs(run_dir)['actor_0']
  assert list(frame['actor_steps']) == [10, 20]
  assert list(frame['return_game']) == [1., 0.]
  assert np.isnan(frame['return_new_task'][0])
  assert frame['return_new_task'][1] == 2.
