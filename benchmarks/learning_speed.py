r"""Learning per wall-clock minute: this code against an earlier commit.

  python -m benchmarks.learning_speed [--baseline=4bb687e] [--seeds=0,1,2]
  python -m benchmarks.learning_speed --baseline= \
      --before_flags=--replay_ratio=16   # a setting of this code against its
                                         # default

Two studies, each over `--seeds`: R2D2 on MiniGrid-Empty-5x5 (success: the
greedy evaluator's mean return over its last 3 episodes reaches 0.8) and BT
with the scripted door seeker on MiniGrid-MultiRoom-N2-S4 (success: 0.5).
Every run is the launch script of its version with its own presets
(`local_mp`) plus `--before_flags` / `--after_flags`, a commit's code from a
`git worktree` of it (an empty `--baseline` or `--after`: this checkout). Runs go one
after another, alternating versions, and are stopped as soon as they succeed
(or after `--max_minutes`). Reports minutes and actor steps to success per
seed, and their medians, before and after, in one table; writes --json.
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from typing import Sequence

from absl import app
from absl import flags
import numpy as np
import pandas as pd

from benchmarks import figures

FLAGS = flags.FLAGS
flags.DEFINE_string('baseline', '4bb687e',
                    'Commit of the "before" code (the last one before the '
                    'batched actors); empty for this checkout as it is.')
flags.DEFINE_string('after', '', 'Commit of the "after" code; empty for this '
                    'checkout as it is.')
flags.DEFINE_list('before_flags', [], 'Extra launch flags of the "before" runs.')
flags.DEFINE_list('after_flags', [], 'Extra launch flags of the "after" runs.')
flags.DEFINE_list('seeds', ['0', '1', '2'], 'Seeds per study and version.')
flags.DEFINE_list('studies', ['r2d2', 'bt'], 'Studies to run.')
flags.DEFINE_float('max_minutes', 5., 'A run that has not succeeded by then '
                   'is stopped and counted as not reached.')
flags.DEFINE_float('poll_seconds', 2., 'How often the evaluator log is read.')
flags.DEFINE_string('json', 'docs/learning_speed.json',
                    'Where to write the figures.')

REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STUDIES = {
    'r2d2': dict(launcher='run_r2d2', threshold=0.8, flags=[
        '--environment=minigrid:MiniGrid-Empty-5x5-v0', '--task=game']),
    'bt': dict(launcher='run_bt', threshold=0.5, flags=[
        '--environment=minigrid:MiniGrid-MultiRoom-N2-S4-v0', '--task=game',
        '--exploration=bt', '--pretrained=scripted:door_seeker']),
}


def checkout_path(commit: str, root: str) -> str:
  """A PYTHONPATH entry under which `behavior_transfer` is `commit`'s code."""
  root = os.path.join(root, commit)
  worktree = os.path.join(root, 'worktree')
  subprocess.run(['git', '-C', REPOSITORY, 'worktree', 'add', '--detach',
                  worktree, commit], check=True, capture_output=True)
  path = os.path.join(root, 'path')
  os.makedirs(path)
  os.symlink(worktree, os.path.join(path, 'behavior_transfer'))
  return path


def success(run_dir: str, threshold: float):
  """Actor steps at which the evaluator's mean of 3 first reached
  `threshold`, or None."""
  try:
    evaluator = pd.read_csv(os.path.join(run_dir, 'logs', 'evaluator',
                                         'logs.csv'))
  except (FileNotFoundError, pd.errors.EmptyDataError):
    return None
  smoothed = evaluator['episode_return'].rolling(3, 3).mean()
  reached = evaluator['actor_steps'][smoothed >= threshold]
  return int(reached.iloc[0]) if len(reached) else None


def run_one(study: str, seed: int, python_path: str, run_dir: str,
            extra_flags: Sequence[str]) -> dict:
  spec = STUDIES[study]
  command = [sys.executable, '-m', f'behavior_transfer.launch.{spec["launcher"]}',
             *spec['flags'], *extra_flags, f'--seed={seed}', f'--run_dir={run_dir}',
             '--max_actor_steps=10000000', '--overwrite']
  environment = dict(os.environ)
  if python_path:
    environment['PYTHONPATH'] = python_path
  start = time.time()
  process = subprocess.Popen(command, env=environment,
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
  reached, minutes = None, None
  while process.poll() is None:
    time.sleep(FLAGS.poll_seconds)
    elapsed = (time.time() - start) / 60
    reached = success(run_dir, spec['threshold'])
    if reached is not None or elapsed > FLAGS.max_minutes:
      minutes = elapsed if reached is not None else None
      break
  process.send_signal(signal.SIGINT)  # The launcher stops every node.
  try:
    process.wait(timeout=60)
  except subprocess.TimeoutExpired:
    process.kill()
  return dict(study=study, seed=seed, minutes=minutes, actor_steps=reached)


def _median(values):
  """Median with not-reached runs counted as infinitely slow."""
  values = [np.inf if v is None else v for v in values]
  return float(np.median(values))


def main(_):
  results = {'before': [], 'after': []}
  with tempfile.TemporaryDirectory() as root:
    paths = {'before': FLAGS.baseline and checkout_path(FLAGS.baseline, root),
             'after': FLAGS.after and checkout_path(FLAGS.after, root)}
    extra_flags = {'before': FLAGS.before_flags, 'after': FLAGS.after_flags}
    try:
      for study in FLAGS.studies:
        for seed in map(int, FLAGS.seeds):
          for version in ('before', 'after'):
            run_dir = os.path.join(root, 'runs', version, study, str(seed))
            result = run_one(study, seed, paths[version], run_dir,
                             extra_flags[version])
            results[version].append(result)
            print(f'{version}: {result}', flush=True)
    finally:
      for commit in (FLAGS.baseline, FLAGS.after):
        if commit:
          subprocess.run(['git', '-C', REPOSITORY, 'worktree', 'remove',
                          '--force', os.path.join(root, commit, 'worktree')],
                         check=False)

  def show(value, digits):
    return 'not reached' if value is None or value == np.inf else (
        f'{value:,.{digits}f}')

  def version(commit, extra_flags):
    return ' '.join([commit or 'this checkout', *extra_flags])

  print(f'\nBefore: {version(FLAGS.baseline, FLAGS.before_flags)}; after: '
        f'{version(FLAGS.after, FLAGS.after_flags)}. Runs '
        f'stopped at success or after {FLAGS.max_minutes:.0f} min.')
  print('\n| study | seed | before: minutes | after: minutes | before: actor '
        'steps | after: actor steps |\n|---|---:|---:|---:|---:|---:|')
  summary = {}
  for study in FLAGS.studies:
    pairs = [(b, a) for b, a in zip(results['before'], results['after'])
             if b['study'] == study]
    for before, after in pairs:
      print(f'| {study} | {before["seed"]} | {show(before["minutes"], 1)} | '
            f'{show(after["minutes"], 1)} | {show(before["actor_steps"], 0)} | '
            f'{show(after["actor_steps"], 0)} |')
    summary[study] = {
        version: {key: _median([r[key] for r in results[version]
                                if r['study'] == study])
                  for key in ('minutes', 'actor_steps')}
        for version in ('before', 'after')}
    print(f'| {study} | median | {show(summary[study]["before"]["minutes"], 1)}'
          f' | {show(summary[study]["after"]["minutes"], 1)} | '
          f'{show(summary[study]["before"]["actor_steps"], 0)} | '
          f'{show(summary[study]["after"]["actor_steps"], 0)} |')
  figures.write(FLAGS.json, 'benchmarks.learning_speed', {
      'before': version(FLAGS.baseline, FLAGS.before_flags),
      'after': version(FLAGS.after, FLAGS.after_flags),
      'max_minutes': FLAGS.max_minutes,
      'results': results,
      'medians': json.loads(json.dumps(summary).replace('Infinity', 'null'))})


if __name__ == '__main__':
  app.run(main)
