"""Bad input is refused before anything starts: one line, exit code 2, and
nothing written."""

import os
import subprocess
import sys

import pytest

from behavior_transfer import environments
from behavior_transfer.environments import measures
from behavior_transfer.environments import tasks


def launch(module, *flags, cwd=None):
  result = subprocess.run(
      [sys.executable, '-m', f'behavior_transfer.launch.{module}', *flags],
      capture_output=True, text=True, timeout=120, cwd=cwd,
      stdin=subprocess.DEVNULL)
  return result.returncode, result.stderr


@pytest.mark.parametrize('flags, message', [
    (['--num_actors=0'], '--num_actors must be at least 1 (got 0)'),
    (['--max_actor_steps=-100'], '--max_actor_steps must be positive'),
    (['--max_actor_steps=0'], '--max_actor_steps must be positive'),
    (['--envs_per_actor=0'], '--envs_per_actor must be at least 1 (got 0)'),
    (['--replay_ratio=-1'], '--replay_ratio must be >= 0 (got -1.0)'),
    (['--discount=1.5'], 'discount must be in (0, 1], got 1.5.'),
    (['--preset=tiny'], "Unknown preset 'tiny' for minigrid; valid: standard."),
    (['--environment=foo:bar'], 'must be "<domain>:<name>" with domain one '
     'of atari, minigrid'),
    (['--environment=minigrid:MiniGrid-Emptyy-5x5-v0'],
     'Close valid names: MiniGrid-Empty-5x5-v0'),
    # Registered by MiniGrid, but its wheel lacks what the level loads.
    (['--environment=minigrid:MiniGrid-WFC-MazeSimple-v0'],
     "MiniGrid level 'MiniGrid-WFC-MazeSimple-v0' cannot be built with the "
     'installed minigrid'),
    (['--task=deceptive_first_room'], "Task 'deceptive_first_room' does not "
     'apply to minigrid:MiniGrid-Empty-5x5-v0. Tasks for this level: '
     'game, goal_in_half_time, none, success.'),
])
def test_r2d2_refuses_bad_flags(tmp_path, flags, message):
  run_dir = tmp_path / 'run'
  code, stderr = launch('run_r2d2', f'--run_dir={run_dir}', *flags)
  assert code == 2, stderr
  # One line on the terminal: none of the stack's import notices.
  assert stderr.strip().splitlines() == [f'error: {message}'] or (
      len(stderr.strip().splitlines()) == 1 and message in stderr), stderr
  assert not run_dir.exists()


def test_bfloat16_acting_without_onednn_is_refused(tmp_path, monkeypatch):
  # TF 2.8's own CPU convolutions in bfloat16 are broken; only oneDNN's work.
  monkeypatch.setenv('TF_ENABLE_ONEDNN_OPTS', '0')
  run_dir = tmp_path / 'run'
  code, stderr = launch('run_r2d2', f'--run_dir={run_dir}',
                        '--acting_dtype=bfloat16')
  assert code == 2, stderr
  assert stderr.strip().splitlines() == [
      "error: A bfloat16 Q-network needs oneDNN's CPU kernels, and "
      'TF_ENABLE_ONEDNN_OPTS turns them off; unset it or act in float32.'
  ], stderr
  assert not run_dir.exists()


# What the stack prints when imported, held back from a launcher's terminal.
THIRD_PARTY_NOISE = ('Gym has been unmaintained', 'FutureWarning',
                     'DeprecationWarning')


def test_the_stacks_notices_show_only_with_verbose(tmp_path):
  quiet = launch('run_r2d2', f'--run_dir={tmp_path / "run"}',
                 '--num_actors=0')[1]
  loud = launch('run_r2d2', f'--run_dir={tmp_path / "run"}',
                '--num_actors=0', '--verbose')[1]
  for noise in THIRD_PARTY_NOISE:
    assert noise not in quiet, quiet
    assert noise in loud, loud


def test_benchmarks_keep_the_stacks_notices_off_the_terminal():
  def bench(*flags):
    result = subprocess.run(
        [sys.executable, '-m', 'benchmarks.load_simulation', '--plan=256x1',
         *flags], capture_output=True, text=True, timeout=120,
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
        stdin=subprocess.DEVNULL)
    assert '--plan takes' in result.stderr, result.stderr  # Refused at once.
    return result.stdout + result.stderr
  quiet, loud = bench(), bench('--verbose')
  for noise in ('Gym has been unmaintained', 'dso_loader'):
    assert noise not in quiet, quiet
  assert 'Gym has been unmaintained' in loud, loud


def test_an_atari_environment_prints_no_emulator_banner():
  # ALE prints its banner from C++ unless its logger is quieted first.
  result = subprocess.run(
      [sys.executable, '-c', 'from behavior_transfer.environments import '
       "atari; atari.AtariEnvironment('pong').reset()"],
      capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
  assert result.returncode == 0, result.stderr
  output = result.stdout + result.stderr
  for banner in ('A.L.E', 'Stella'):
    assert banner not in output, output


@pytest.mark.parametrize('relative', ['a_file', 'a_file/run'])
def test_unusable_run_directories_are_refused(tmp_path, relative):
  (tmp_path / 'a_file').write_text('not a directory')
  code, stderr = launch('run_r2d2', f'--run_dir={tmp_path / relative}')
  assert code == 2, stderr
  assert 'Traceback' not in stderr
  assert f'error: --run_dir {tmp_path / relative} ' in stderr


@pytest.mark.parametrize('flag,error', [
    ('--transfer_steps=0', '--transfer_steps must be positive'),
    ('--pretrain_discount=1.5', 'discount must be in (0, 1], got 1.5.'),
    ('--pretrain_initial_priority=-1',
     'initial_priority must be positive, got -1.0.')])
def test_pipeline_refuses_bad_settings_before_running(tmp_path, flag, error):
  code, stderr = launch('run_pipeline', f'--out_dir={tmp_path / "p"}', flag)
  assert code == 2 and f'error: {error}' in stderr, stderr
  assert 'Traceback' not in stderr
  assert not (tmp_path / 'p' / 'pretrain').exists()


def test_measures_skip_tasks_that_do_not_apply_to_the_level():
  single_room = environments.make_environment(
      'minigrid:MiniGrid-Empty-5x5-v0', 'none', oar_wrapper=False)
  multi_room = environments.make_environment(
      'minigrid:MiniGrid-MultiRoom-N2-S4-v0', 'none', oar_wrapper=False)
  single = measures.TaskReturnsAndExploration(measures.unwrap(single_room),
                                              'minigrid')
  multi = measures.TaskReturnsAndExploration(measures.unwrap(multi_room),
                                             'minigrid')
  assert 'return_deceptive_first_room' not in single.columns
  assert 'return_deceptive_first_room' in multi.columns
  # A whole episode on the single-room level logs every column it declares.
  timestep = single_room.reset()
  single.observe_first(single_room, timestep)
  while not timestep.last():
    timestep = single_room.step(2)  # Forward.
    single.observe(single_room, timestep, 2)
  assert set(single.get_metrics()) == set(single.columns)


def test_tasks_declare_where_they_apply():
  simulator = measures.unwrap(environments.make_environment(
      'minigrid:MiniGrid-Empty-5x5-v0', oar_wrapper=False)).simulator
  assert tasks.applicable_task_names('minigrid', simulator) == [
      'game', 'goal_in_half_time', 'none', 'success']
  with pytest.raises(ValueError, match='does not apply'):
    environments.validate('minigrid:MiniGrid-Empty-5x5-v0',
                          'deceptive_first_room')
  environments.validate('minigrid:MiniGrid-MultiRoom-N2-S4-v0',
                        'deceptive_first_room')


def test_the_actor_benchmark_refuses_a_baseline_variable_without_a_value():
  result = subprocess.run(
      [sys.executable, '-m', 'benchmarks.actor_throughput',
       '--baseline_env=TF_ENABLE_ONEDNN_OPTS', '--rows=raw', '--json='],
      capture_output=True, text=True, timeout=120,
      cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
      stdin=subprocess.DEVNULL)
  assert result.returncode != 0
  assert ('--baseline_env takes NAME=VALUE pairs; got TF_ENABLE_ONEDNN_OPTS'
          in result.stderr), result.stderr
  assert 'steps/s' not in result.stdout  # Nothing was measured.


def test_actor_throughput_asks_a_baseline_only_for_rows_its_benchmark_has(
    tmp_path):
  # An older checkout would measure a 'replay server apart' row with the
  # server in the node's process: a wrong before/after, so it is not asked.
  old, new = tmp_path / 'old', tmp_path / 'new'
  for root, text in ((old, 'server = reverb.Server(...)'),
                     (new, "agent.endswith('-replay-apart')")):
    (root / 'benchmarks').mkdir(parents=True)
    (root / 'benchmarks' / 'actor_throughput.py').write_text(text)
  check = (
      'import sys\n'
      'from benchmarks import actor_throughput as a\n'
      'apart, plain = "node:r2d2-replay-apart:32:x", "node:r2d2:32:x"\n'
      'print([a._measurable(w, r) for r in sys.argv[1:] '
      'for w in (apart, plain)])\n')
  done = subprocess.run([sys.executable, '-c', check, str(old), str(new)],
                        capture_output=True, text=True, timeout=300,
                        cwd=os.path.dirname(os.path.dirname(__file__)))
  assert done.returncode == 0, done.stderr[-2000:]
  assert done.stdout.split('\n')[-2] == '[False, True, True, True]'
