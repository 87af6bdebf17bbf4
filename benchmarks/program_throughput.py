r"""A whole running program's throughput on this machine (local_mp).

  python -m benchmarks.program_throughput [--agent=ngu] \
      [--settings=2x16:8,1x32:8] [--max_actor_steps=150000]

Launches the agent's program through its launch script, once per setting
`<num_actors>x<envs_per_actor>:<replay_ratio>` (the small preset otherwise),
and reads the run's CSV logs every few seconds while it runs. The sustained
rate is the slope of actor steps (and learner steps) over wall time from 20%
of the budget to its end, so start-up and the first fill of replay do not
count. Learner sequences/s = learner steps/s x batch size; the achieved replay
ratio = learner steps x batch x trace length / actor steps. Prints a table
and writes the same figures to --json.
"""

import os
import subprocess
import sys
import tempfile
import time

from absl import app
from absl import flags
import numpy as np
import pandas as pd

from behavior_transfer.agents.r2d2 import config as r2d2_config
from benchmarks import figures

FLAGS = flags.FLAGS
flags.DEFINE_enum('agent', 'ngu', ['ngu', 'r2d2'], 'Which program to run.')
flags.DEFINE_string('environment', 'minigrid:MiniGrid-MultiRoom-N2-S4-v0',
                    'Environment of the runs.')
flags.DEFINE_list('settings', ['2x16:4'],
                  '<num_actors>x<envs_per_actor>:<replay_ratio> per run.')
flags.DEFINE_integer('max_actor_steps', 150_000, 'Budget of each run.')
flags.DEFINE_float('poll_seconds', 3., 'How often the logs are read.')
flags.DEFINE_string('json', 'docs/program_throughput.json',
                    'Where to write the figures.')


def _last_value(path: str, column: str) -> float:
  try:
    frame = pd.read_csv(path)
  except (FileNotFoundError, pd.errors.EmptyDataError):
    return 0.
  return float(frame[column].max()) if len(frame) else 0.


def _progress(run_dir: str):
  """(actor steps, learner steps) as the logs show them now."""
  logs = os.path.join(run_dir, 'logs')
  actor = max([_last_value(os.path.join(logs, d, 'logs.csv'), 'actor_steps')
               for d in os.listdir(logs) if d.startswith('actor_')] or [0.]
              ) if os.path.isdir(logs) else 0.
  learner = _last_value(os.path.join(logs, 'learner', 'logs.csv'),
                        'learner_steps')
  return actor, learner


def _slope(times, values, start_value) -> float:
  times, values = np.asarray(times), np.asarray(values)
  keep = values >= start_value
  if keep.sum() < 3:
    return float('nan')
  return float(np.polyfit(times[keep], values[keep], 1)[0])


def run_setting(setting: str, run_dir: str):
  actors_envs, _, ratio = setting.partition(':')
  num_actors, _, envs = actors_envs.partition('x')
  command = [sys.executable, '-m', f'behavior_transfer.launch.run_{FLAGS.agent}',
             f'--environment={FLAGS.environment}', f'--run_dir={run_dir}',
             f'--max_actor_steps={FLAGS.max_actor_steps}',
             f'--num_actors={num_actors}', f'--envs_per_actor={envs}',
             f'--replay_ratio={ratio}', '--overwrite']
  if FLAGS.agent == 'r2d2':
    command.append('--task=game')
  start = time.time()
  process = subprocess.Popen(command, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
  times, actor_steps, learner_steps = [], [], []
  while process.poll() is None:
    time.sleep(FLAGS.poll_seconds)
    actor, learner = _progress(run_dir)
    times.append(time.time() - start)
    actor_steps.append(actor)
    learner_steps.append(learner)
  if process.returncode:
    raise RuntimeError(f'{setting} failed:\n{process.stderr.read()[-3000:]}')
  config = r2d2_config.preset('minigrid')
  threshold = 0.2 * FLAGS.max_actor_steps
  actor_rate = _slope(times, actor_steps, threshold)
  keep = np.asarray(actor_steps) >= threshold
  learner_rate = float(np.polyfit(np.asarray(times)[keep],
                                  np.asarray(learner_steps)[keep], 1)[0])
  sequences = learner_rate * config.batch_size
  return {
      'setting': setting, 'wall_seconds': time.time() - start,
      'actor_steps_per_second': actor_rate,
      'learner_updates_per_second': learner_rate,
      'learner_sequences_per_second': sequences,
      'achieved_replay_ratio': sequences * config.trace_length / actor_rate,
      'configured_replay_ratio': float(ratio),
  }


def main(_):
  results = []
  for setting in FLAGS.settings:
    with tempfile.TemporaryDirectory() as run_dir:
      print(f'Running {FLAGS.agent} with {setting} ...', flush=True)
      results.append(run_setting(setting, os.path.join(run_dir, 'run')))
      print(results[-1], flush=True)
  print(f'\n{FLAGS.agent} program on {FLAGS.environment}, local_mp, '
        f'{os.cpu_count()} cores, {FLAGS.max_actor_steps:,} actor steps; rates '
        'sustained from 20% of the budget.')
  print('\n| actors x envs : replay ratio | actor steps/s | learner updates/s '
        '| learner sequences/s | achieved replay ratio | wall s |\n'
        '|---|---:|---:|---:|---:|---:|')
  for r in results:
    print(f'| {r["setting"]} | {r["actor_steps_per_second"]:,.0f} | '
          f'{r["learner_updates_per_second"]:.1f} | '
          f'{r["learner_sequences_per_second"]:,.0f} | '
          f'{r["achieved_replay_ratio"]:.1f} | {r["wall_seconds"]:.0f} |')
  figures.write(FLAGS.json, 'benchmarks.program_throughput', {
      'agent': FLAGS.agent, 'environment': FLAGS.environment,
      'max_actor_steps': FLAGS.max_actor_steps, 'results': results})


if __name__ == '__main__':
  app.run(main)
