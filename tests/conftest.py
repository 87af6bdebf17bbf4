"""Test set-up: quiet TensorFlow, deterministic seeds, small thread pools."""

import os

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
os.environ.setdefault('CUDA_VISIBLE_DEVICES', '')

from absl import flags  # pylint: disable=g-import-not-at-top

# absltest helpers and Launchpad read absl flags; pytest does not parse them.
flags.FLAGS.mark_as_parsed()

# Launchpad kills its own process (here: pytest and everything it started) when
# an in-process program's threads take over this many seconds to stop. A slow
# stop should fail its own test with pytest-timeout's stack dump instead.
import launchpad  # pylint: disable=g-import-not-at-top,unused-import
flags.FLAGS.lp_termination_notice_secs = -1

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
