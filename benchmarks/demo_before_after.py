r"""`make demo` on this code and on another checkout, one after the other.

  python -m benchmarks.demo_before_after --baseline_dir=/tmp/before \
      [--transfer_steps=150000] [--json=docs/demo_before_after.json]

Runs the demo's pipeline (the bundled pi_p, BT and epsilon-greedy on
reach_third_room, seed 0) with each checkout's own launcher, in fresh run
directories, and prints for each: wall time, every arm's actor steps/s, the
fraction of actor episodes that solved the task and the greedy evaluator's
last return, with the current/baseline ratios. One seed of a multi-process
run is not bit-reproducible: solved fractions move between runs of the same
code (see docs/results.md, the demo); wall time and steps/s are the figures
that show whether the code got slower.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Dict

from absl import app
from absl import flags

from behavior_transfer import tf_runtime
from behavior_transfer.launching import reports
from behavior_transfer.studies import pipeline
from benchmarks import figures

FLAGS = flags.FLAGS
flags.DEFINE_string('baseline_dir', None, 'Another checkout of this '
                    'repository, e.g. a `git worktree` of the previous commit.')
flags.DEFINE_integer('transfer_steps', 150_000, 'Actor steps of each arm.')
flags.DEFINE_string('out_dir', 'runs/demo_before_after', 'Run directories.')
flags.DEFINE_string('json', 'docs/demo_before_after.json',
                    'Where to write the figures.')
flags.mark_flag_as_required('baseline_dir')

TASK = 'reach_third_room'
ARMS = ('bt', 'epsilon_greedy')


def run_demo(root: str, out_dir: str) -> float:
  """The demo's pipeline with the launcher of checkout `root` (imported as
  behavior_transfer through a symlink ahead of the installed copy); returns
  its wall seconds."""
  shutil.rmtree(out_dir, ignore_errors=True)
  env = tf_runtime.for_another_checkout(os.environ)  # Its launcher sets them.
  with tempfile.TemporaryDirectory() as shim:
    os.symlink(os.path.abspath(root), os.path.join(shim, 'behavior_transfer'))
    env['PYTHONPATH'] = os.pathsep.join([shim, os.path.abspath(root)])
    start = time.time()
    subprocess.run(
        [sys.executable, '-m', 'behavior_transfer.launch.run_pipeline',
         '--bundled=ngu_multiroom', f'--task={TASK}',
         f'--transfer_steps={FLAGS.transfer_steps}',
         f'--out_dir={os.path.abspath(out_dir)}'],
        check=True, env=env, cwd=os.path.abspath(root),
        stdout=subprocess.DEVNULL)
    return time.time() - start


def measure(out_dir: str, wall_seconds: float) -> Dict[str, float]:
  result = {'wall_seconds': wall_seconds}
  for arm in ARMS:
    run_dir = os.path.join(out_dir, 'transfer', TASK, arm)
    episodes = reports.actor_episodes(reports.read_logs(run_dir))
    result[f'{arm}_actor_steps_per_second'] = float(
        episodes['steps_per_second'].tail(50).mean())
    result[f'{arm}_solved'] = float(pipeline.solved(episodes, TASK).mean())
    result[f'{arm}_evaluator_return'] = pipeline.evaluator_return(run_dir)
  return result


def main(_):
  here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
  results = {}
  for code, root in (('baseline', FLAGS.baseline_dir), ('current', here)):
    out_dir = os.path.join(FLAGS.out_dir, code)
    print(f'Demo on the {code} code ({root}) -> {out_dir}', flush=True)
    results[code] = measure(out_dir, run_demo(root, out_dir))
  print(f'\n| measure | baseline | current | current / baseline |\n'
        '|---|---:|---:|---:|')
  for key, before in results['baseline'].items():
    after = results['current'][key]
    ratio = f'{after / before:.2f}' if before else 'n/a'
    print(f'| {key} | {before:.3f} | {after:.3f} | {ratio} |')
  figures.write(FLAGS.json, 'benchmarks.demo_before_after', {
      'baseline_dir': FLAGS.baseline_dir, 'task': TASK,
      'transfer_steps': FLAGS.transfer_steps, **results})


if __name__ == '__main__':
  app.run(main)
