"""The suite's runner (scripts/run_tests.py): which modules get a process of
their own, and that every module launching in-process programs asks for one."""

import glob
import importlib.util
import os

TESTS = os.path.dirname(os.path.abspath(__file__))
# What launches a program in threads of the test process.
IN_PROCESS_LAUNCHES = ('test_mt', 'local_mt', 'lp.launch(',
                       'launch_until_stopped(')


def _runner():
  spec = importlib.util.spec_from_file_location(
      'run_tests', os.path.join(TESTS, '..', 'scripts', 'run_tests.py'))
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


def test_marked_modules_run_alone_after_the_others_together(tmp_path):
  runner = _runner()
  for name, text in (('test_a.py', f'pytestmark = {runner.MARK}\n'),
                     ('test_b.py', 'def test_b(): pass\n'),
                     ('test_c.py', f'x = 1\npytestmark = {runner.MARK}\n'),
                     ('test_d.py', 'def test_d(): pass\n'),
                     ('helper.py', f'pytestmark = {runner.MARK}\n')):
    (tmp_path / name).write_text(text)
  names = [[os.path.basename(p) for p in group]
           for group in runner.plan(str(tmp_path))]
  assert names == [['test_b.py', 'test_d.py'], ['test_a.py'], ['test_c.py']]


def test_a_failure_in_any_process_fails_the_run_and_is_counted(
    tmp_path, capsys):
  runner = _runner()
  (tmp_path / 'test_passes.py').write_text('def test_one(): pass\n')
  (tmp_path / 'test_fails_apart.py').write_text(
      f'import pytest\npytestmark = {runner.MARK}\n'
      'def test_one(): assert False\ndef test_two(): pass\n')
  assert runner.main(['-p', 'no:cacheprovider'], str(tmp_path)) == 1
  assert '3 tests in 2 processes, 1 failed, 0 skipped' in capsys.readouterr().out
  (tmp_path / 'test_fails_apart.py').unlink()
  assert runner.main(['-p', 'no:cacheprovider'], str(tmp_path)) == 0


def test_every_module_that_launches_in_process_programs_is_marked():
  runner = _runner()
  unmarked = []
  for path in sorted(glob.glob(os.path.join(TESTS, 'test_*.py'))):
    if path == os.path.abspath(__file__):
      continue
    with open(path) as f:
      text = f.read()
    if any(launch in text for launch in IN_PROCESS_LAUNCHES) and (
        runner.MARK not in text):
      unmarked.append(os.path.basename(path))
  assert not unmarked, (
      f'{unmarked} launch in-process programs; add `pytestmark = '
      f'{runner.MARK}` so that scripts/run_tests.py runs each apart.')
  # The check above sees the modules it should.
  assert len(runner.plan(TESTS)) > 5


def test_a_hung_process_prints_its_stacks_and_is_run_once_more(
    tmp_path, capfd):
  runner = _runner()
  first_time = tmp_path / 'hung_once'
  (tmp_path / 'test_hangs_once.py').write_text(
      'import os, time\nimport pytest\n'
      f'pytestmark = {runner.MARK}\n'
      'def test_waits_forever_the_first_time():\n'
      f'  if not os.path.exists({str(first_time)!r}):\n'
      f'    open({str(first_time)!r}, "w").close()\n'
      '    time.sleep(600)\n')
  assert runner.main(['-p', 'no:cacheprovider'], str(tmp_path),
                     apart_seconds=10) == 0
  out, err = capfd.readouterr()
  # faulthandler's stack of the hung test, then the re-run's row.
  assert 'in test_waits_forever_the_first_time' in out + err
  assert f'| test_hangs_once.py | {runner.HUNG} |' in out
  assert '| test_hangs_once.py, re-run after a hang | 0 |' in out
  assert '1 tests in 2 processes, 0 failed' in out


def test_a_process_that_hangs_twice_fails_the_run(tmp_path, capfd):
  runner = _runner()
  (tmp_path / 'test_hangs.py').write_text(
      f'import time\nimport pytest\npytestmark = {runner.MARK}\n'
      'def test_waits_forever(): time.sleep(600)\n')
  assert runner.main(['-p', 'no:cacheprovider'], str(tmp_path),
                     apart_seconds=5) == 1
  assert '2 pytest process(es) hung' in capfd.readouterr().out
