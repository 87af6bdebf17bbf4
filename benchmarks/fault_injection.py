r"""Fault injection: do runs always end, name what failed, and resume truthfully?

  python -m benchmarks.fault_injection --fault_runs=30 --plain_runs=30

Two streams of `run_r2d2` programs (MiniGrid, 2 actors, `local_mp`) run side by
side, each the other's second job loading the 2-core machine (a stream that is
done keeps one core busy until the other ends):
* plain runs to a small budget: each must exit 0 with its summary and plot and
  leave no process behind;
* fault runs: each kills one process with SIGKILL at a random moment (2-20 s
  after its nodes are up): a random node, the launcher, or the whole process
  group. A killed node must stop the program within 30 s, named, exit 1; a
  killed launcher must leave no node running after 30 s. The work lost is the
  actor steps logged before the kill beyond the checkpoint a resumed run
  continues from; it must fit in one checkpoint interval. Every
  `--resume_every`-th fault run is then resumed with the same command, which
  must say it resumes from exactly that checkpoint and finish.

Prints a table and writes every run's record and the table's figures to
<out_dir>/fault_injection.json.
"""

import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from typing import Any, Dict, List, Optional

from absl import app
from absl import flags

from behavior_transfer.distributed import checkpointing
from behavior_transfer.launching import reports
from tests.helpers import run_process

LAUNCHER = 'behavior_transfer.launch.run_r2d2'
NODES = ('replay', 'counter', 'coordinator', 'learner', 'cacher', 'evaluator',
         'actor_0', 'actor_1')
VICTIMS = NODES + ('launcher', 'everything')
STOP_BOUND = 30.

flags.DEFINE_integer('fault_runs', 30, 'Runs with one injected fault each.')
flags.DEFINE_integer('plain_runs', 30, 'Runs without a fault.')
flags.DEFINE_integer('plain_steps', 2000, 'Budget of each plain run.')
flags.DEFINE_float('checkpoint_seconds', 5., 'Checkpoint interval of the runs.')
flags.DEFINE_integer('resume_every', 3, 'Resume every n-th fault run with '
                     'the same command (each costs a launch).')
flags.DEFINE_list('victims', list(VICTIMS),
                  'What the fault runs kill, drawn uniformly: node names, '
                  '"launcher", or "everything" (the whole process group).')
flags.DEFINE_integer('seed', 0, 'Seeds the choice of victims and moments.')
flags.DEFINE_string('out_dir', 'runs/bench_faults', 'Run directories and JSON.')
FLAGS = flags.FLAGS


def _flags(max_actor_steps: int) -> List[str]:
  return ['--environment=minigrid:MiniGrid-Empty-5x5-v0', '--num_actors=2',
          f'--checkpoint_seconds={FLAGS.checkpoint_seconds}',
          f'--max_actor_steps={max_actor_steps}']


def _logged_actor_steps(run_dir: str) -> int:
  episodes = reports.actor_episodes(reports.read_logs(run_dir))
  return int(episodes['actor_steps'].max()) if len(episodes) else 0


def _checkpoint_age(run_dir: str) -> Optional[float]:
  """Seconds since the counter last saved (None before its first save)."""
  path = os.path.join(checkpointing.checkpoint_dir(
      run_dir, checkpointing.COUNTER), 'checkpoint')
  if not os.path.exists(path):
    return None
  return round(time.time() - os.path.getmtime(path), 1)


def _wait(run: run_process.LauncherRun, timeout: float):
  began = time.time()
  code = run.wait(timeout)
  if code is None:
    run_process.kill_group(run)
    run.wait(10)
  return code, time.time() - began


def plain_run(run_dir: str) -> Dict[str, Any]:
  run = run_process.start(LAUNCHER, run_dir, _flags(FLAGS.plain_steps))
  code, seconds = _wait(run, 600)
  pids = list(run.node_pids().values())
  output = run.output()
  return dict(
      kind='plain', exit_code=code, wall_seconds=round(seconds, 1),
      summary='finished; run directory' in output,
      plot=os.path.exists(os.path.join(run_dir, 'learning_curve.png')),
      orphans=len(run_process.survivors(pids, timeout=5.)))


def fault_run(run_dir: str, victim: str, delay: float,
              resume: bool) -> Dict[str, Any]:
  record: Dict[str, Any] = dict(kind='fault', victim=victim,
                                delay_seconds=round(delay, 1))
  run = run_process.start(LAUNCHER, run_dir, _flags(10**8))
  run.wait_for_nodes(NODES, timeout=300)
  window = min(delay, 4.)
  time.sleep(delay - window)
  before = _logged_actor_steps(run_dir)
  time.sleep(window)
  pids = run.node_pids()
  logged = _logged_actor_steps(run_dir)
  killed_at = time.time()
  record['actor_steps_per_second'] = round((logged - before) / window, 1)
  record['checkpoint_age_at_kill'] = _checkpoint_age(run_dir)
  if victim == 'everything':
    run_process.kill_group(run)
    code, _ = _wait(run, STOP_BOUND)
    record.update(exit_code=code, stop_seconds=0., named=True)
  elif victim == 'launcher':
    run_process.kill(run.process.pid)
    run.wait(5)
    left = run_process.survivors(list(pids.values()), timeout=STOP_BOUND)
    record.update(exit_code=run.process.returncode, named=True,
                  stop_seconds=round(time.time() - killed_at, 1),
                  left_after_bound=len(left))
    for pid in left:
      run_process.kill(pid)
  else:
    run_process.kill(pids[victim])
    code, _ = _wait(run, STOP_BOUND + 30)
    output = run.output()
    record.update(
        exit_code=code, stop_seconds=round(time.time() - killed_at, 1),
        named=f"Node '{victim}' was killed by signal SIGKILL" in output)
  record['orphans'] = len(run_process.survivors(list(pids.values()),
                                                timeout=5.))
  for pid in pids.values():
    run_process.kill(pid)

  saved = int(checkpointing.saved_counts(run_dir).get('actor_steps', 0))
  record.update(logged_before_kill=logged, resume_point=saved,
                lost_actor_steps=max(logged - saved, 0))
  if resume:  # The same command, with a budget just past the checkpoint.
    resumed = run_process.start(LAUNCHER, run_dir, _flags(saved + 300))
    code, _ = _wait(resumed, 600)
    output = resumed.output()
    said = re.search(r'from its checkpoint at (\d+) actor steps', output)
    record.update(
        resume_exit_code=code,
        resume_told_truth=(int(said.group(1)) == saved if said else
                           saved == 0 and 'no checkpoint yet' in output))
  return record


def summarize(records: List[Dict[str, Any]]) -> Dict[str, Any]:
  """The table's figures."""
  plain = [r for r in records if r['kind'] == 'plain']
  faults = [r for r in records if r['kind'] == 'fault']
  node_faults = [r for r in faults if r['victim'] in NODES]
  stops = [r['stop_seconds'] for r in faults
           if r['victim'] != 'everything']
  # Counts reach the counter when episodes end; allow one episode per actor.
  slack_steps = 2 * 100
  return {
      'plain_runs': len(plain),
      'plain_clean_exits': sum(r['exit_code'] == 0 and r['summary'] and
                               r['plot'] for r in plain),
      'fault_runs': len(faults),
      'node_faults_exit_1': sum(r['exit_code'] == 1 for r in node_faults),
      'node_faults': len(node_faults),
      'faults_named_correctly': sum(r['named'] for r in node_faults),
      'stopped_within_30s': sum(s <= STOP_BOUND for s in stops),
      'stops_measured': len(stops),
      'stop_seconds_median': (round(statistics.median(stops), 1) if stops
                              else None),
      'stop_seconds_max': max(stops) if stops else None,
      'orphans': sum(r['orphans'] for r in records) + sum(
          r.get('left_after_bound', 0) for r in faults),
      'resumed_runs': sum('resume_exit_code' in r for r in faults),
      'resumes_ok': sum(r.get('resume_exit_code') == 0 and
                        r.get('resume_told_truth', False) for r in faults),
      'lost_actor_steps_max': max((r['lost_actor_steps'] for r in faults),
                                  default=0),
      'checkpoint_age_at_kill_max': max(
          (r['checkpoint_age_at_kill'] for r in faults
           if r['checkpoint_age_at_kill'] is not None), default=0),
      'resumes_within_one_interval': sum(
          r['lost_actor_steps'] <= r['actor_steps_per_second'] *
          FLAGS.checkpoint_seconds + slack_steps for r in faults),
  }


def format_table(summary: Dict[str, Any],
                 records: List[Dict[str, Any]]) -> str:
  s = summary
  lines = [
      '| measure | result | goal |', '|---|---:|---|',
      f'| plain runs exiting 0 with summary and plot | '
      f'{s["plain_clean_exits"]}/{s["plain_runs"]} | all |',
      f'| killed nodes: launcher exits 1 | {s["node_faults_exit_1"]}/'
      f'{s["node_faults"]} | all |',
      f'| killed nodes: named correctly | {s["faults_named_correctly"]}/'
      f'{s["node_faults"]} | all |',
      f'| faults stopped within 30 s (nodes and launcher) | '
      f'{s["stopped_within_30s"]}/{s["stops_measured"]} | all |',
      f'| time to stop, median / max | {s["stop_seconds_median"]} s / '
      f'{s["stop_seconds_max"]} s | <= 30 s |',
      f'| processes left running | {s["orphans"]} | 0 |',
      f'| resumed runs: truthful resume point and exit 0 | {s["resumes_ok"]}/'
      f'{s["resumed_runs"]} | all |',
      f'| age of the last counter checkpoint at the kill, max | '
      f'{s["checkpoint_age_at_kill_max"]} s | <= {FLAGS.checkpoint_seconds:.0f}'
      ' s (the interval) |',
      f'| actor steps lost on resume, max | {s["lost_actor_steps_max"]} | '
      'one interval\'s worth |',
      f'| resumes losing at most one interval (the run\'s own rate x interval,'
      f' + one episode per actor) | {s["resumes_within_one_interval"]}/'
      f'{s["fault_runs"]} | all |',
      '', '| victim | runs | median stop (s) | max lost actor steps |',
      '|---|---:|---:|---:|']
  for victim in VICTIMS:
    rows = [r for r in records if r.get('victim') == victim]
    if rows:
      lines.append(
          f'| {victim} | {len(rows)} | '
          f'{statistics.median(r["stop_seconds"] for r in rows):.1f} | '
          f'{max(r["lost_actor_steps"] for r in rows)} |')
  return '\n'.join(lines)


def _stream(kind: str, count: int, first_index: int, rng: random.Random,
            records: List[Dict[str, Any]], lock: threading.Lock,
            started: float):
  """Runs `count` runs of one kind; then keeps a core busy for the other
  stream until the benchmark ends."""
  for i in range(count):
    run_dir = os.path.join(FLAGS.out_dir, f'{kind}_{first_index + i:03d}')
    shutil.rmtree(run_dir, ignore_errors=True)
    if kind == 'plain':
      record = plain_run(run_dir)
    else:
      record = fault_run(run_dir, rng.choice(FLAGS.victims),
                         rng.uniform(2., 20.),
                         resume=i % FLAGS.resume_every == 0)
    record['run_dir'] = run_dir
    with lock:
      records.append(record)
      print(f'[{len(records)}, {time.time() - started:.0f}s] {record}',
            flush=True)
      with open(os.path.join(FLAGS.out_dir, 'fault_injection.json'), 'w') as f:
        json.dump({'records': records}, f, indent=1)


def main(_):
  unknown = set(FLAGS.victims) - set(VICTIMS)
  if unknown:
    raise app.UsageError(f'Unknown victims {sorted(unknown)}; valid: '
                         f'{", ".join(VICTIMS)}.')
  os.makedirs(FLAGS.out_dir, exist_ok=True)
  records: List[Dict[str, Any]] = []
  lock = threading.Lock()
  started = time.time()
  streams = [threading.Thread(target=_stream, args=(
      kind, count, 0, random.Random(f'{FLAGS.seed}{kind}'), records, lock,
      started)) for kind, count in (('plain', FLAGS.plain_runs),
                                    ('fault', FLAGS.fault_runs))]
  for stream in streams:
    stream.start()
  load = None
  while any(stream.is_alive() for stream in streams):
    if load is None and not all(stream.is_alive() for stream in streams):
      load = subprocess.Popen([sys.executable, '-c', 'while True: pass'])
    time.sleep(1.)
  if load is not None:
    load.kill()
  summary = summarize(records)
  table = format_table(summary, records)
  print('\n' + table, flush=True)
  json_path = os.path.join(FLAGS.out_dir, 'fault_injection.json')
  with open(json_path, 'w') as f:
    json.dump({'command': ' '.join(sys.argv), 'wall_seconds':
               round(time.time() - started), 'summary': summary,
               'table': table, 'records': records}, f, indent=1)
  print(f'\nwritten: {json_path}')


if __name__ == '__main__':
  app.run(main)
