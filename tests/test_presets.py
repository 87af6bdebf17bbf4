"""Config presets: the paper's Atari scale, the tiny Atari programs, and what
each needs in memory."""

import dataclasses
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from acme import specs

from behavior_transfer import environments
from behavior_transfer import experiments
from behavior_transfer import networks
from behavior_transfer.agents.ngu import networks as ngu_networks
from behavior_transfer.agents.r2d2 import config as r2d2_config
from behavior_transfer.distributed import program_config
from behavior_transfer.launching import runs
from behavior_transfer.studies import sizing

ATARI = 'atari:ms_pacman'


def test_paper_preset_is_the_papers_atari_scale():
  spec = experiments.from_preset('bt', ATARI, 1, 'paper', pretrained='random')
  r2d2, program = spec.config.r2d2, spec.program
  assert (program.num_actors, program.envs_per_actor, r2d2.network_size) == (
      256, 1, 'standard')
  assert (r2d2.trace_length, r2d2.burn_in_length, r2d2.replay_period) == (
      80, 40, 40)
  assert r2d2.max_replay_size * r2d2.replay_period == 4_000_000  # Steps.
  # Flags override single fields; None (a flag not given) leaves them.
  changed = experiments.override(spec, program=dict(num_actors=16),
                                 r2d2=dict(batch_size=None))
  assert changed.program.num_actors == 16
  assert changed.config.r2d2.batch_size == r2d2.batch_size


def test_tiny_preset_shrinks_every_agent():
  ngu = experiments.from_preset('ngu', ATARI, 1, 'tiny').config
  assert ngu.r2d2.network_size == 'tiny' and ngu.embedding_size == 8
  assert r2d2_config.preset('atari', 'tiny').max_replay_size == 500
  assert program_config.preset('atari', 'tiny').num_actors == 1


def test_unknown_presets_and_sizes_list_the_valid_ones():
  with pytest.raises(ValueError, match='standard, paper, tiny'):
    experiments.from_preset('r2d2', ATARI, 1, 'huge')
  with pytest.raises(ValueError, match="valid: standard"):
    experiments.from_preset('r2d2', 'minigrid:MiniGrid-Empty-5x5-v0', 1,
                            'paper')
  with pytest.raises(ValueError, match='valid: r2d2, bt, ngu'):
    experiments.from_preset('dqn', ATARI, 1)
  with pytest.raises(ValueError, match='valid: standard'):
    networks.check_network_size('minigrid', 'tiny')


def _parameters(module) -> int:
  return int(sum(np.prod(v.shape) for v in module.variables))


def test_tiny_atari_network_keeps_the_shape_at_a_fraction_of_the_size():
  spec = specs.make_environment_spec(
      environments.make_environment(ATARI))
  standard = networks.make_q_network('atari', spec)
  tiny = networks.make_q_network('atari', spec, 19, size='tiny')
  inputs = tf.nest.map_structure(
      lambda s: tf.zeros((2,) + s.shape, s.dtype), spec.observations)
  for network in (standard, tiny):
    values, _ = network(inputs, network.initial_state(2))
  assert values.shape == (2, 19)
  assert _parameters(tiny) * 100 < _parameters(standard)
  models = ngu_networks.IntrinsicModels('atari', 18, 8, 16,
                                        network_size='tiny')
  models.create_variables(spec.observations.observation)
  assert _parameters(models) < _parameters(tiny) * 4


def test_presets_table_computes_replay_memory_from_the_signature():
  paper = sizing.describe(ATARI, 'bt', 'paper')
  assert paper['actors'] == 256
  # Frame (84x84 uint8), LSTM state (2 x 512 float32) and the scalars.
  assert paper['replay_bytes_per_step'] > 84 * 84 + 2 * 512 * 4
  expected = (100_000 * 40 + 121) * paper['replay_bytes_per_step'] / 2**30
  assert paper['replay_gib_full'] == pytest.approx(expected)
  assert paper['replay_machine_gib'] >= paper['replay_gib_full']
  assert paper['q_network_parameters'] > 6_000_000
  tiny = sizing.describe(ATARI, 'ngu', 'tiny')
  assert tiny['replay_gib_full'] < 0.05 and tiny['network_size'] == 'tiny'
  table = sizing.format_table([paper, tiny])
  assert '| paper | bt | 256 x 1 | standard |' in table


def test_runs_written_before_a_setting_existed_resume_at_its_old_value(
    tmp_path):
  # A config.json of the first layout, from before network_size existed.
  spec = experiments.from_preset('r2d2', ATARI, 100)
  old = {'agent': 'r2d2', 'environment': ATARI, 'task': 'game', 'seed': 0,
         'max_actor_steps': 100, **dataclasses.asdict(spec.config),
         **dataclasses.asdict(spec.program)}
  del old['network_size']
  run_dir = str(tmp_path / 'run')
  os.makedirs(run_dir)
  with open(os.path.join(run_dir, 'config.json'), 'w') as f:
    json.dump(old, f)
  read = experiments.run_experiment.read_settings
  assert runs.prepare_run_dir(run_dir, spec.to_json(), False,
                              spec.settings_that_may_change(), read)
  with open(os.path.join(run_dir, 'config.json'), 'w') as f:
    json.dump(old, f)
  tiny = experiments.override(spec, r2d2=dict(network_size='tiny'))
  with pytest.raises(ValueError, match='config.network_size'):
    runs.prepare_run_dir(run_dir, tiny.to_json(), False,
                         spec.settings_that_may_change(), read)


def test_presets_of_each_domain():
  for registry in (r2d2_config.PRESETS, program_config.PRESETS):
    assert set(registry['atari']) == {'standard', 'paper', 'tiny'}
    assert set(registry['minigrid']) == {'standard'}


# The R2D2 flags every launcher shares, parsed as the launcher parses them;
# prints the R2D2 config the run would get.
_SPEC_FROM_FLAGS = """
import sys
from behavior_transfer.launch import run_flags
run_flags.FLAGS(sys.argv)
config = run_flags.make_spec(sys.argv[1]).config
config = getattr(config, 'r2d2', config)
print(config.discount, config.learning_rate, config.initial_priority,
      config.n_step)
"""


@pytest.mark.parametrize('agent', ['r2d2', 'ngu'])
def test_r2d2_flags_set_the_agents_config_over_its_preset(agent):
  """--discount, --learning_rate and --initial_priority replace the
  preset's values, for R2D2's own config and for the one NGU wraps; the rest
  stays the preset's."""
  result = subprocess.run(
      [sys.executable, '-c',
       f'import behavior_transfer.launch.run_{agent}\n' + _SPEC_FROM_FLAGS,
       agent, '--discount=0.9', '--learning_rate=0.002',
       '--initial_priority=10'],
      capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
  assert result.returncode == 0, result.stderr
  preset = experiments.from_preset(agent, 'minigrid:MiniGrid-Empty-5x5-v0',
                                   1).config
  preset = preset if agent == 'r2d2' else preset.r2d2
  assert result.stdout.split() == ['0.9', '0.002', '10.0',
                                    str(preset.n_step)]
  assert preset.discount != 0.9 and preset.learning_rate != 0.002
  assert preset.initial_priority != 10


def test_ngu_pre_trains_small_domains_at_a_short_horizon_new_sequences_first():
  """MiniGrid pre-training: discount 0.95, new sequences at priority 100 and
  alpha's statistics over the latest RND errors; R2D2 and BT on MiniGrid,
  and NGU on Atari, keep R2D2's (0.99 on MiniGrid, 0.997 on Atari) and 1.0."""
  small = 'minigrid:MiniGrid-Empty-5x5-v0'
  ngu = experiments.from_preset('ngu', small, 1).config.r2d2
  assert (ngu.discount, ngu.initial_priority) == (0.95, 100.)
  # alpha's statistics over each environment's latest 1000 errors there;
  # the Atari preset keeps NGUConfig's default (all errors).
  assert experiments.from_preset(
      'ngu', small, 1).config.rnd_statistics_horizon == 1000
  assert experiments.from_preset(
      'ngu', ATARI, 1).config.rnd_statistics_horizon == 0
  for agent, environment, discount in (
      ('r2d2', small, 0.99), ('bt', small, 0.99), ('ngu', ATARI, 0.997)):
    config = experiments.from_preset(agent, environment, 1).config
    r2d2 = config if agent == 'r2d2' else config.r2d2
    assert (r2d2.discount, r2d2.initial_priority) == (discount, 1.), agent


_NGU_SPEC_FROM_FLAGS = """
import sys
from behavior_transfer.launch import run_ngu
run_ngu.FLAGS(sys.argv)
config = run_ngu.make_spec().config
print(config.rnd_statistics_horizon, config.intrinsic_batch_fraction,
      config.rnd_observation_normalization, config.r2d2.n_step)
"""


def test_run_ngu_flags_set_the_intrinsic_reward_config():
  """run_ngu's own flags replace the NGU config's fields; unset, the
  preset's stay."""
  def spec(*flags):
    result = subprocess.run(
        [sys.executable, '-c', _NGU_SPEC_FROM_FLAGS, 'run_ngu', *flags],
        capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()

  preset = experiments.from_preset(
      'ngu', 'minigrid:MiniGrid-MultiRoom-N2-S4-v0', 1).config
  assert spec() == [str(preset.rnd_statistics_horizon),
                    str(preset.intrinsic_batch_fraction),
                    str(preset.rnd_observation_normalization),
                    str(preset.r2d2.n_step)]
  assert spec('--rnd_statistics_horizon=7', '--intrinsic_batch_fraction=0.5',
              '--nornd_observation_normalization', '--n_step=2') == [
                  '7', '0.5', 'False', '2']
  # 0, all errors: what a run made before the MiniGrid default resumes with.
  assert spec('--rnd_statistics_horizon=0')[0] == '0'


def test_a_discount_outside_0_1_is_refused():
  for discount in (0., -0.5, 1.01):
    with pytest.raises(ValueError, match=r'discount must be in \(0, 1\]'):
      r2d2_config.R2D2Config(discount=discount)
  assert r2d2_config.R2D2Config(discount=1.).discount == 1.
