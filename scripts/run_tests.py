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
"""

import glob
import os
import subprocess
import sys
import tempfile
import time
from typing import List, Sequence, Tuple
from xml.etree import ElementTree

MARK = 'pytest.mark.in_process_programs'
NO_TESTS_COLLECTED = 5  # pytest's exit status when `-k` selects nothing.


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


def main(pytest_args: Sequence[str], test_dir: str = 'tests') -> int:
  """Runs every planned process; 1 if any of them failed, else 0."""
  root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
  os.chdir(root)
  rows, failed_processes = [], 0
  start = time.time()
  with tempfile.TemporaryDirectory() as reports:
    for i, files in enumerate(plan(test_dir)):
      label = (f'{len(files)} modules together' if len(files) > 1
               else os.path.basename(files[0]))
      print(f'== pytest process {i + 1}: {label}', flush=True)
      report = os.path.join(reports, f'{i}.xml')
      began = time.time()
      status = subprocess.call([sys.executable, '-m', 'pytest', '-q',
                                f'--junitxml={report}', *pytest_args, *files])
      if status not in (0, NO_TESTS_COLLECTED):
        failed_processes += 1
      rows.append((label, status, time.time() - began, *_counts(report)))
  print('\n| pytest process | exit | seconds | tests | failed | skipped |')
  print('|---|---|---|---|---|---|')
  for label, status, seconds, tests, failed, skipped in rows:
    print(f'| {label} | {status} | {seconds:.0f} | {tests} | {failed} | '
          f'{skipped} |')
  total = [sum(row[k] for row in rows) for k in (3, 4, 5)]
  print(f'\n{total[0]} tests in {len(rows)} processes, {total[1]} failed, '
        f'{total[2]} skipped, in {time.time() - start:.0f} s.')
  return 1 if failed_processes else 0


if __name__ == '__main__':
  sys.exit(main(sys.argv[1:]))
