r"""Learner cost: R2D2 and NGU learner updates/s side by side, small preset.

  python -m benchmarks.learner_cost [--rounds=5] [--updates=60] [--threads=0]
      [--json=docs/learner_cost.json] [--baseline_dir=/path/to/other/checkout]

Times `learner.step()` on a fixed synthetic batch of the small preset (batch
32, burn-in 5, trace 20, sequences of 26 steps; MiniGrid 7x7x3 observations,
the small Q-network) with `benchmarks.throughput.learner_updates_per_second`:
compute only, no replay traffic. Learners are measured in interleaved rounds
(R2D2, NGU, NGU on all sequences, R2D2, ...) after a discarded warm-up, and
each figure is the median over rounds, since this machine is shared and
noisy. NGU is measured with the default `NGUConfig.intrinsic_batch_fraction`
and, when the config has it, also with 1.0 (the intrinsic models trained on
every sequence).

sequences/s = updates/s x batch; trained steps/s = updates/s x batch x trace
length (the steps the Q-network fits per update).

With --baseline_dir, the code of another checkout of this repository is
measured too, in child processes that alternate with the current code's
(each child runs one round of every learner); e.g. for the code before a
change: `git worktree add /tmp/base HEAD~1` or `git archive HEAD | tar -x -C
/tmp/base`. --threads > 0 sets TensorFlow's intra- and inter-op thread counts
(1 measures the cost on one core).
"""

import dataclasses
import functools
import json
import os
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, Tuple

from absl import app
from absl import flags
from acme import specs
import numpy as np
# TensorFlow is imported here, not under app.run: imported first inside
# main, tf.function's init_scope would not find the eager context.
import tensorflow as tf

# A worker started with --baseline_dir imports these from that checkout.
from behavior_transfer import environments
from behavior_transfer.agents.ngu import config as ngu_config
from behavior_transfer.agents.ngu import learning as ngu_learning
from behavior_transfer.agents.ngu import networks as ngu_networks
from behavior_transfer.agents.r2d2 import config as r2d2_config
from benchmarks import throughput

FLAGS = flags.FLAGS
flags.DEFINE_string('environment', 'minigrid:MiniGrid-MultiRoom-N2-S4-v0',
                    'MiniGrid dynamics whose specs the learners are built for.')
flags.DEFINE_integer('updates', 60, 'Timed updates per learner and round.')
flags.DEFINE_integer('rounds', 5, 'Interleaved measurement rounds.')
flags.DEFINE_integer('threads', 0, 'TensorFlow intra- and inter-op threads; 0 '
                     'keeps TensorFlow\'s defaults (all cores).')
flags.DEFINE_string('json', 'docs/learner_cost.json',
                    'Where to write the figures ("" to skip).')
flags.DEFINE_string('baseline_dir', '',
                    'Root of another checkout of this repository whose '
                    'learners are measured too.')
flags.DEFINE_string('worker_output', '',
                    'Internal: measure one round and write it here as JSON.')

LEARNERS = ('r2d2', 'ngu', 'ngu_all_sequences')
LABELS = {
    'r2d2': 'R2D2',
    'ngu': 'NGU (learner default)',
    'ngu_all_sequences': 'NGU (intrinsic models on all sequences)',
}


def _set_threads(threads: int) -> None:
  if threads > 0:
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)


def measure_round(environment: str, updates: int) -> Dict[str, float]:
  """Updates/s of every learner the imported code has, once each."""
  config = ngu_config.NGUConfig(r2d2=r2d2_config.preset('minigrid'))
  spec = specs.make_environment_spec(
      environments.make_environment(environment))

  def make_ngu_learner(online, target, r2d2, iterator, fraction=None,
                       **kwargs):
    del r2d2  # The NGU config carries it.
    models = ngu_networks.IntrinsicModels('minigrid', spec.actions.num_values)
    models.create_variables(spec.observations.observation)
    ngu = config
    if fraction is not None:
      ngu = dataclasses.replace(config, intrinsic_batch_fraction=fraction)
    return ngu_learning.NGULearner(online, target, ngu, models,
                                   iterator=iterator, **kwargs)

  makers = {'r2d2': None, 'ngu': make_ngu_learner}
  if hasattr(config, 'intrinsic_batch_fraction'):
    makers['ngu_all_sequences'] = functools.partial(make_ngu_learner,
                                                    fraction=1.0)
  # Warm-up (discarded): the first learner a process times runs slower.
  throughput.learner_updates_per_second('minigrid', environment, config.r2d2,
                                        max(1, updates // 4))
  result = {}
  for name, make_learner in makers.items():
    kwargs = {} if make_learner is None else {'make_learner': make_learner}
    result[name] = throughput.learner_updates_per_second(
        'minigrid', environment, config.r2d2, updates, **kwargs)
  return result


def _worker_command(root: str, output: str,
                    shim: str) -> Tuple[List[str], Dict[str, str]]:
  """A child measuring the checkout at `root` (imported as behavior_transfer
  through a symlink in `shim`, placed ahead of any installed copy)."""
  os.symlink(os.path.abspath(root), os.path.join(shim, 'behavior_transfer'))
  # Not at the top: workers import behavior_transfer from the other checkout.
  from behavior_transfer import tf_runtime  # pylint: disable=g-import-not-at-top
  here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
  env = (dict(os.environ) if os.path.abspath(root) == here
         else tf_runtime.for_another_checkout(os.environ))
  env['PYTHONPATH'] = os.pathsep.join(
      [shim, os.path.abspath(root)] +
      ([env['PYTHONPATH']] if env.get('PYTHONPATH') else []))
  command = [sys.executable, os.path.abspath(__file__),
             f'--worker_output={output}', f'--environment={FLAGS.environment}',
             f'--updates={FLAGS.updates}', f'--threads={FLAGS.threads}']
  return command, env


def _run_worker(root: str) -> Dict[str, float]:
  with tempfile.TemporaryDirectory() as directory:
    output = os.path.join(directory, 'round.json')
    command, env = _worker_command(root, output, directory)
    completed = subprocess.run(command, env=env, cwd=os.path.abspath(root),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, check=False)
    if completed.returncode != 0:
      raise RuntimeError(f'Measuring {root} failed:\n{completed.stdout[-3000:]}')
    with open(output) as f:
      return json.load(f)


def _summary(samples: Dict[str, List[float]], batch: int, trace: int,
             sequence_length: int) -> Dict[str, Dict[str, float]]:
  summary = {}
  for name in LEARNERS:
    if not samples.get(name):
      continue
    rate = float(np.median(samples[name]))
    summary[name] = {
        'updates_per_second': rate,
        'best_updates_per_second': float(np.max(samples[name])),
        'ms_per_update': 1000. / rate,
        'sequences_per_second': rate * batch,
        'sampled_steps_per_second': rate * batch * sequence_length,
        'trained_steps_per_second': rate * batch * trace,
        'samples': samples[name],
    }
  if 'r2d2' in summary:
    for name in summary:
      summary[name]['over_r2d2'] = (summary[name]['updates_per_second'] /
                                    summary['r2d2']['updates_per_second'])
  return summary


def main(_):
  _set_threads(FLAGS.threads)
  if FLAGS.worker_output:
    with open(FLAGS.worker_output, 'w') as f:
      json.dump(measure_round(FLAGS.environment, FLAGS.updates), f)
    return

  small = r2d2_config.preset('minigrid')
  here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
  trees = {'current': here}
  if FLAGS.baseline_dir:
    trees['baseline'] = FLAGS.baseline_dir
  samples = {code: {} for code in trees}
  print(f'Measuring {", ".join(trees)} code: {FLAGS.rounds} rounds of '
        f'{FLAGS.updates} updates per learner...', flush=True)
  start = time.time()
  for round_index in range(FLAGS.rounds):
    order = list(trees) if round_index % 2 == 0 else list(reversed(trees))
    for code in order:
      if FLAGS.baseline_dir:
        rates = _run_worker(trees[code])
      else:
        rates = measure_round(FLAGS.environment, FLAGS.updates)
      for name, rate in rates.items():
        samples[code].setdefault(name, []).append(rate)
      print(f'  round {round_index + 1} {code}: ' + ', '.join(
          f'{name} {rate:.1f}/s' for name, rate in rates.items()), flush=True)

  results = {code: _summary(samples[code], small.batch_size,
                            small.trace_length, small.sequence_length)
             for code in trees}
  print(f'\nLearner updates on a fixed batch of {small.batch_size} sequences '
        f'x {small.sequence_length} steps (burn-in {small.burn_in_length}, '
        f'trace {small.trace_length}), small network, threads: '
        f'{FLAGS.threads or "TensorFlow default"}; median of {FLAGS.rounds} '
        f'rounds of {FLAGS.updates} updates.\n')
  print('| learner | code | updates/s | ms/update | sequences/s | '
        'trained steps/s | / R2D2 (same code) |')
  print('|---|---|---:|---:|---:|---:|---:|')
  for name in LEARNERS:
    for code in trees:
      row = results[code].get(name)
      if row is None:
        continue
      print(f'| {LABELS[name]} | {code} | {row["updates_per_second"]:.1f} | '
            f'{row["ms_per_update"]:.1f} | {row["sequences_per_second"]:,.0f} '
            f'| {row["trained_steps_per_second"]:,.0f} | '
            f'{row["over_r2d2"]:.2f} |')
  if 'baseline' in results:
    print('\n| learner | current / baseline updates/s |\n|---|---:|')
    for name in LEARNERS:
      if name in results['current'] and name in results['baseline']:
        print(f'| {LABELS[name]} | '
              f'{results["current"][name]["updates_per_second"] / results["baseline"][name]["updates_per_second"]:.2f} |')

  if FLAGS.json:
    # Imported here: workers run this file against older checkouts, whose
    # `benchmarks` package may not have it.
    from benchmarks import figures  # pylint: disable=g-import-not-at-top
    figures.write(FLAGS.json, 'benchmarks.learner_cost', {
        'environment': FLAGS.environment,
        'batch_size': small.batch_size,
        'burn_in_length': small.burn_in_length,
        'trace_length': small.trace_length,
        'sequence_length': small.sequence_length,
        'updates_per_round': FLAGS.updates,
        'rounds': FLAGS.rounds,
        'threads': FLAGS.threads,
        'wall_seconds': time.time() - start,
        'results': results,
    })


if __name__ == '__main__':
  app.run(main)
