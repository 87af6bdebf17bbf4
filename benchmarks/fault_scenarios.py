r"""Faults beyond kills: a second launch, a diverging learner, a full disk.

  python -m benchmarks.fault_scenarios --repeats=3

Each scenario runs `run_r2d2` (MiniGrid, one actor, `local_mp`) `--repeats`
times and checks what the user sees:
* concurrent launch: a second launch of the same command while the first
  runs must exit 2 within `--refuse_bound` seconds naming the first's pid,
  and the first must reach its budget (exit 0) with its logs monotonic;
* NaN: `--learning_rate=1e12` must end the run with exit 1 naming the learner
  step, the quantity and the last finite checkpoint, whose weights must be
  finite;
* disk full (needs root: a 64 MiB tmpfs holds the run directory, filled up
  once the actors have taken 300 steps): exit 1 naming the full disk, never
  "Interrupted"; after the filler is deleted the same command must resume
  from the checkpoint and finish.

Prints a table (per scenario: runs, as expected, seconds to the end) and
writes every run's record to --json.
"""

import os
import re
import shutil
import statistics
import subprocess
import time
from typing import Any, Callable, Dict, List

from absl import app
from absl import flags
import numpy as np
import tensorflow as tf

from behavior_transfer.distributed import checkpointing
from behavior_transfer.launching import reports
from behavior_transfer.launching import runs
from benchmarks import figures
from tests import test_disk_full
from tests.helpers import run_process

LAUNCHER = 'behavior_transfer.launch.run_r2d2'
NODES = ('replay', 'counter', 'coordinator', 'learner', 'cacher', 'evaluator',
         'actor_0')
SCENARIOS = ('concurrent_launch', 'nan', 'disk_full')

flags.DEFINE_integer('repeats', 3, 'Runs of each scenario.')
flags.DEFINE_list('scenarios', list(SCENARIOS), 'Scenarios to run.')
flags.DEFINE_float('refuse_bound', 30., 'Seconds a refused launch may take.')
flags.DEFINE_string('out_dir', 'runs/bench_fault_scenarios', 'Run directories.')
flags.DEFINE_string('json', 'docs/fault_scenarios.json',
                    'Where to write the records and the table.')
FLAGS = flags.FLAGS


def _start(run_dir: str, max_actor_steps: int, *extra: str):
  return run_process.start(
      LAUNCHER, run_dir,
      ('--environment=minigrid:MiniGrid-Empty-5x5-v0', '--num_actors=1',
       '--checkpoint_seconds=2', '--stall_seconds=60',
       f'--max_actor_steps={max_actor_steps}') + extra)


def _end(run, timeout: float):
  began = time.time()
  code = run.wait(timeout)
  if code is None:
    run_process.kill_group(run)
  return code, time.time() - began


def concurrent_launch(run_dir: str) -> Dict[str, Any]:
  budget = 1500
  first = _start(run_dir, budget)
  first.wait_for_nodes(NODES)
  second = _start(run_dir, budget)
  code, seconds = _end(second, 120)
  refused = (code == 2 and f'(pid {first.process.pid} on host' in
             second.output() and seconds <= FLAGS.refuse_bound)
  first_code, _ = _end(first, 300)
  episodes = reports.actor_episodes(reports.read_logs(run_dir))
  steps = list(episodes['actor_steps'])
  return dict(seconds=seconds, refused_exit=code, first_exit=first_code,
              ok=refused and first_code == 0 and steps == sorted(steps) and
              steps[-1] >= budget)


def _finite_checkpoint(run_dir: str) -> bool:
  reader = tf.train.load_checkpoint(
      checkpointing.checkpoint_dir(run_dir, checkpointing.LEARNER))
  return all(np.isfinite(reader.get_tensor(name)).all()
             for name in reader.get_variable_to_shape_map()
             if np.issubdtype(np.asarray(reader.get_tensor(name)).dtype,
                              np.floating))


def nan(run_dir: str) -> Dict[str, Any]:
  run = _start(run_dir, 10**7, '--learning_rate=1e12')
  code, seconds = _end(run, 300)
  output = run.output()
  named = re.search(r'learner (loss|TD errors|Q values|weights) became', output)
  return dict(seconds=seconds, exit=code, ok=bool(
      code == 1 and named and 'the last finite checkpoint is' in output and
      _finite_checkpoint(run_dir)))


def disk_full(run_dir: str) -> Dict[str, Any]:
  disk = run_dir + '_disk'
  mounted = subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=64m', 'tmpfs',
                            _make(disk)], capture_output=True, check=False)
  if mounted.returncode:
    return dict(skipped='mounting a tmpfs needs root', ok=None)
  try:
    inside = os.path.join(disk, 'run')
    run = _start(inside, 10**7)
    run.wait_for_nodes(NODES)
    run.wait_for_actor_steps(300)
    while not checkpointing.saved_counts(inside).get('actor_steps'):
      time.sleep(0.5)  # A checkpoint with actor steps in it.
    filled = time.time()
    _fill(disk)
    code, _ = _end(run, 120)
    seconds = time.time() - filled
    output = run.output()
    failed_right = (code == 1 and 'the disk is full' in output and
                    'Interrupted' not in output)
    os.remove(os.path.join(disk, test_disk_full.FILLER))
    saved = int(runs.resume_point(inside)['actor_steps'])
    again = _start(inside, saved + 200)
    again_code, _ = _end(again, 300)
    return dict(seconds=seconds, exit=code, resumed_exit=again_code,
                ok=failed_right and again_code == 0 and
                f'checkpoint at {saved} actor steps' in again.output())
  finally:
    subprocess.run(['umount', '-l', disk], check=False)


def _make(path: str) -> str:
  os.makedirs(path, exist_ok=True)
  return path


def _fill(disk: str) -> None:
  try:
    with open(os.path.join(disk, test_disk_full.FILLER), 'wb') as f:
      while True:
        f.write(b'\0' * 65536)
  except OSError:
    pass


RUNNERS: Dict[str, Callable[[str], Dict[str, Any]]] = {
    'concurrent_launch': concurrent_launch, 'nan': nan, 'disk_full': disk_full}


def main(_):
  unknown = set(FLAGS.scenarios) - set(SCENARIOS)
  if unknown:
    raise app.UsageError(f'Unknown scenarios {sorted(unknown)}; valid: '
                         f'{", ".join(SCENARIOS)}.')
  shutil.rmtree(FLAGS.out_dir, ignore_errors=True)
  os.makedirs(FLAGS.out_dir, exist_ok=True)
  records: List[Dict[str, Any]] = []
  for scenario in FLAGS.scenarios:
    for index in range(FLAGS.repeats):
      run_dir = os.path.join(FLAGS.out_dir, f'{scenario}_{index}')
      record = dict(scenario=scenario, **RUNNERS[scenario](run_dir))
      records.append(record)
      print(f'{scenario} {index + 1}/{FLAGS.repeats}: {record}', flush=True)
  table = {}
  print('\n| scenario | runs | as expected | seconds to the end (median) |\n'
        '|---|---:|---:|---:|')
  for scenario in FLAGS.scenarios:
    ran = [r for r in records if r['scenario'] == scenario and
           r['ok'] is not None]
    seconds = statistics.median([r['seconds'] for r in ran]) if ran else None
    table[scenario] = dict(runs=len(ran), ok=sum(r['ok'] for r in ran),
                           median_seconds=seconds)
    print(f'| {scenario} | {len(ran)} | {table[scenario]["ok"]} | '
          f'{seconds if seconds is None else round(seconds, 1)} |')
  figures.write(FLAGS.json, 'benchmarks.fault_scenarios',
                {'records': records, 'table': table})


if __name__ == '__main__':
  app.run(main)
