"""Runs the test suite (`make test`): every test module that launches
in-process Launchpad programs in a pytest process of its own, all the others
together in one; then one summary.

A program run in threads of one process (test_mt, local_mt) leaves threads
behind when it stops: actors blocked in Reverb writes and courier calls to
nodes that are gone, learners holding Reverb datasets whose sampler threads
poll once their server is deleted. Over a whole suite in one process they took
CPU from the tests after them until CI's 90 minutes ran out (2026-12-02).
A fresh process per such module bounds what any test inherits.

A module is run apart when it says `pytestmark =
pytest.mark.in_process_programs`. Arguments are passed on to every pytest
process, e.g. `scripts/run_tests.py -x` or `-k checkpoint`.

A process that outlives its bound is hung: CI once waited on `test_program.py`
until its 90 minutes ran out, a hang no in-process timeout could end (none
fired in 70 minutes). The runner sends it SIGABRT, on which Python's
faulthandler (on under pytest) prints every thread's stack without needing the
interpreter lock, then runs its modules once more and says so in the summary.
A second hang, like any failure, fails the run.
"""

import glob
import os
import signal
import subprocess
import sys
import tempfile
import time
from typing import List, Optional, Sequence, Tuple
from xml.etree import ElementTree

MARK = 'pytest.mark.in_process_programs'
NO_TESTS_COLLECTED = 5  # pytest's exit status when `-k` selects nothing.
# Bounds on one pytest process, far above what each takes on CI's 2 cores
# (2026-12: the modules together 656-815 s; the slowest module apart 70 s).
TOGETHER_SECONDS = 1800.
APART_SECONDS = 600.
HUNG = 'hung'  # The exit column of a process stopped at its bound.


def plan(test_dir: str) -> List[List[str]]:
  """The pytest processes to run, each a list of test files: the unmarked
  modules together first, then each marked module alone."""
  files = sorted(glob.glob(os.path.join(test_dir, 'test_*.py')))
  apart = []
  for path in files:
    with open(path) as f:
      if MARK in f.read():
        apart.append(path)
  together = [path for path in files if path not in apart]
  return ([together] if together else []) + [[path] for path in apart]


def _counts(junit_xml: str) -> Tuple[int, int, int]:
  """(tests, failed or errors, skipped) of one pytest process's report."""
  try:
    root = ElementTree.parse(junit_xml).getroot()
  except (OSError, ElementTree.ParseError):
    return 0, 0, 0
  suites = [root] if root.tag == 'testsuite' else list(root)
  return (sum(int(s.get('tests', 0)) for s in suites),
          sum(int(s.get('failures', 0)) + int(s.get('errors', 0))
              for s in suites),
          sum(int(s.get('skipped', 0)) for s in suites))


def _run_pytest(command: Sequence[str], bound: float) -> Optional[int]:
  """pytest's exit status, or None if it outlived `bound` seconds and was
  aborted (its threads' stacks printed by faulthandler)."""
  process = subprocess.Popen(command)
  try:
    return process.wait(timeout=bound)
  except subprocess.TimeoutExpired:
    print(f'\n== still running after {bound:.0f} s: SIGABRT (the stacks of '
          'its threads follow)', flush=True)
    process.send_signal(signal.SIGABRT)
    try:
      process.wait(timeout=60)
    except subprocess.TimeoutExpired:
      process.kill()
      process.wait()
    return None


def main(pytest_args: Sequence[str], test_dir: str = 'tests',
         together_seconds: float = TOGETHER_SECONDS,
         apart_seconds: float = APART_SECONDS) -> int:
  """Runs every planned process (a hung one once more); 1 if any of them
  failed or hung twice, else 0."""
  root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
  os.chdir(root)
  rows, failed_processes, hangs = [], 0, 0
  start = time.time()
  with tempfile.TemporaryDirectory() as reports:
    for i, files in enumerate(plan(test_dir)):
      label = (f'{len(files)} modules together' if len(files) > 1
               else os.path.basename(files[0]))
      bound = together_seconds if len(files) > 1 else apart_seconds
      for attempt in range(2):
        run_label = label if attempt == 0 else f'{label}, re-run after a hang'
        print(f'== pytest process {i + 1}: {run_label}', flush=True)
        report = os.path.join(reports, f'{i}_{attempt}.xml')
        began = time.time()
        status = _run_pytest([sys.executable, '-m', 'pytest', '-q',
                              f'--junitxml={report}', *pytest_args, *files],
                             bound)
        seconds = time.time() - began
        if status is not None:
          rows.append((run_label, status, seconds, *_counts(report)))
          break
        hangs += 1
        rows.append((run_label, HUNG, seconds, 0, 0, 0))
      if status not in (0, NO_TESTS_COLLECTED):
        failed_processes += 1
  print('\n| pytest process | exit | seconds | tests | failed | skipped |')
  print('|---|---|---|---|---|---|')
  for label, status, seconds, tests, failed, skipped in rows:
    print(f'| {label} | {status} | {seconds:.0f} | {tests} | {failed} | '
          f'{skipped} |')
  total = [sum(row[k] for row in rows) for k in (3, 4, 5)]
  if hangs:
    print(f'\n{hangs} pytest process(es) hung and were stopped; their '
          'threads\' stacks are printed above.')
  print(f'\n{total[0]} tests in {len(rows)} processes, {total[1]} failed, '
        f'{total[2]} skipped, in {time.time() - start:.0f} s.')
  return 1 if failed_processes else 0


if __name__ == '__main__':
  sys.exit(main(sys.argv[1:]))
