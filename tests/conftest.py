"""Test set-up: quiet TensorFlow with the nodes' runtime, deterministic seeds,
small thread pools."""

import os

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
os.environ.setdefault('CUDA_VISIBLE_DEVICES', '')

# Tests run TensorFlow as the nodes do: with oneDNN's kernels.
from behavior_transfer import tf_runtime  # pylint: disable=g-import-not-at-top

tf_runtime.use_in_this_process()

from absl import flags  # pylint: disable=g-import-not-at-top

# absltest helpers and Launchpad read absl flags; pytest does not parse them.
flags.FLAGS.mark_as_parsed()

# Launchpad kills its own process (here: pytest and everything it started) when
# an in-process program's threads take over this many seconds to stop. A slow
# stop should fail its own test with pytest-timeout's stack dump instead.
import launchpad  # pylint: disable=g-import-not-at-top,unused-import
from launchpad.launch import worker_manager  # pylint: disable=g-import-not-at-top
flags.FLAGS.lp_termination_notice_secs = -1


def _log_instead_of_killing(manager):
  """Stands in for Launchpad's SIGQUIT handler in the test process.

  test_mt's node monitor sends SIGQUIT 3 s after it sees a node thread that
  raised, unless the test has cleaned up by then, and that handler SIGKILLs
  this process: the whole suite, with no report (a fresh process running
  test_disk_full.py died so on 2026-12-02). A test slow to clean up is its
  own to fail, through pytest-timeout.
  """
  del manager
  from absl import logging  # pylint: disable=g-import-not-at-top
  logging.warning('SIGQUIT from a test_mt node monitor: not killing the tests.')


worker_manager.WorkerManager._sigquit = _log_instead_of_killing  # pylint: disable=protected-access

_EXIT_STATUS = [0]


def pytest_sessionfinish(session, exitstatus):
  del session
  _EXIT_STATUS[0] = int(exitstatus)


def pytest_unconfigure(config):
  """Exits without joining threads left by in-process Launchpad programs.

  A test_mt program leaves Reverb writer and variable-client threads blocked on
  servers that were stopped; interpreter shutdown would wait on them forever.
  Everything is reported by now, so the process ends with pytest's status.
  """
  del config
  import sys  # pylint: disable=g-import-not-at-top
  sys.stdout.flush()
  sys.stderr.flush()
  os._exit(_EXIT_STATUS[0])  # pylint: disable=protected-access
