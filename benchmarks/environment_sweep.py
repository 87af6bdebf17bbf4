r"""Every environment this install offers, built, reset and stepped under
every task that applies: what users meet on levels and games no issue names.

  python -m benchmarks.environment_sweep [--domains=minigrid,atari]
      [--seeds=30] [--resets=4] [--steps=300] [--json=docs/environment_sweep.json]

Per MiniGrid level: `--resets` resets of each of `--seeds` seeds, each bounded
by `--reset_seconds` (a reset that does not return in time is reported as a
hang, not waited for); then, for every task that applies, two random
episodes of at most `--steps` steps, checking that every measure is finite
and none exceeds what the layout makes reachable. Per Atari game: `--steps`
random steps under every task that applies, checking finite rewards and the
observation's shape. Prints one row per environment that failed a check and
a count per domain.

It runs in this process, so a library that ends the process (as ALE did on
ROMs it does not recognise) ends the sweep: the last line printed names the
environment.
"""

import contextlib
import signal
import time
from typing import Any, Dict, Iterator, List

from absl import app
from absl import flags
import numpy as np

from behavior_transfer import environments
from behavior_transfer.environments import atari
from behavior_transfer.environments import measures
from behavior_transfer.environments import minigrid
from behavior_transfer.environments import tasks
from benchmarks import figures

FLAGS = flags.FLAGS
flags.DEFINE_list('domains', ['minigrid', 'atari'], 'Which domains to sweep.')
flags.DEFINE_list('only', [], 'Only these levels or games (default: all).')
flags.DEFINE_integer('seeds', 30, 'MiniGrid: seeds whose resets are tried.')
flags.DEFINE_integer('resets', 4, 'MiniGrid: resets per seed.')
flags.DEFINE_integer('reset_seconds', 15, 'MiniGrid: a seed\'s resets that '
                     'take longer than this are reported as a hang.')
flags.DEFINE_integer('steps', 300, 'Random steps per episode (MiniGrid, '
                     'two episodes per task) or per task (Atari).')
flags.DEFINE_string('json', 'docs/environment_sweep.json',
                    'Where the results go.')


class _Hang(Exception):
  pass


@contextlib.contextmanager
def _within(seconds: int) -> Iterator[None]:
  """Raises _Hang if the block runs longer than `seconds`."""
  def hung(*_):
    raise _Hang()
  previous = signal.signal(signal.SIGALRM, hung)
  signal.alarm(seconds)
  try:
    yield
  finally:
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def minigrid_problems(level: str) -> List[str]:
  """What went wrong on one MiniGrid level (nothing: an empty list)."""
  name = f'minigrid:{level}'
  for seed in range(FLAGS.seeds):
    env = environments.make_environment(name, seed=seed, oar_wrapper=False)
    try:
      with _within(FLAGS.reset_seconds):
        for _ in range(FLAGS.resets):
          env.reset()
    except _Hang:
      return [f'reset hangs at seed {seed}']
  problems = []
  simulator = environments.make_environment(name, oar_wrapper=False).simulator
  for task in tasks.applicable_task_names('minigrid', simulator):
    env = environments.make_environment(name, task=task, seed=1)
    found = measures.random_policy_measures(env, 'minigrid', 2, seed=1,
                                            max_steps=FLAGS.steps)
    most = measures.reachable_measures(
        environments.make_environment(name, task=task, seed=1), 2)
    problems += [f'{task}: {key} = {value}' for key, value in found.items()
                 if not np.isfinite(value)]
    problems += [f'{task}: {key} {found[key]:.2f} above reachable '
                 f'{most[key]:.2f}' for key in most
                 if key in found and found[key] > most[key] + 1e-9]
  return problems


def atari_problems(game: str) -> List[str]:
  """What went wrong on one Atari game (nothing: an empty list)."""
  name = f'atari:{game}'
  simulator = environments.make_environment(name, oar_wrapper=False).simulator
  problems = []
  for task in tasks.applicable_task_names('atari', simulator):
    env = environments.make_environment(name, task=task, seed=2,
                                        oar_wrapper=False)
    shape = env.observation_spec().shape
    rng = np.random.RandomState(0)
    env.reset()
    for _ in range(FLAGS.steps):
      timestep = env.step(np.int32(rng.randint(env.action_spec().num_values)))
      if not np.isfinite(timestep.reward) or timestep.observation.shape != shape:
        problems.append(f'{task}: reward {timestep.reward}, observation '
                        f'{timestep.observation.shape}')
        break
      if timestep.last():
        env.reset()
    env.close()
  return problems


SWEEPS = {'minigrid': (minigrid.level_names, minigrid_problems),
          'atari': (atari.game_names, atari_problems)}


def main(_):
  unknown = sorted(set(FLAGS.domains) - set(SWEEPS))
  if unknown:
    raise app.UsageError(f'Unknown domains {unknown}; valid: {sorted(SWEEPS)}.')
  results: Dict[str, Any] = {}
  for domain in FLAGS.domains:
    names, problems_of = SWEEPS[domain]
    chosen = [n for n in names() if not FLAGS.only or n in FLAGS.only]
    start = time.time()
    failed = {}
    for name in chosen:
      print(f'{domain}:{name}', flush=True)
      problems = problems_of(name)
      if problems:
        failed[name] = problems
        print(f'| {domain}:{name} | {"; ".join(problems)} |', flush=True)
    results[domain] = {'swept': len(chosen), 'failed': failed,
                       'seconds': round(time.time() - start, 1)}
  print('\n| domain | swept | failed | seconds |\n|---|---:|---:|---:|')
  for domain, row in results.items():
    print(f'| {domain} | {row["swept"]} | {len(row["failed"])} | '
          f'{row["seconds"]} |')
  figures.write(FLAGS.json, 'benchmarks.environment_sweep',
                {'seeds': FLAGS.seeds, 'resets': FLAGS.resets,
                 'steps': FLAGS.steps, 'domains': results})


if __name__ == '__main__':
  app.run(main)
