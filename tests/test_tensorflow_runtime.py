"""The TensorFlow runtime of the processes the package starts: oneDNN on."""

import os
import subprocess
import sys
from unittest import mock

from absl.testing import absltest

from behavior_transfer import tf_runtime
from behavior_transfer.launching import supervisor

ONEDNN_NOTICE = 'oneDNN custom operations are on'


def tensorflow_log(first_import: str, onednn_setting=None) -> str:
  """What TensorFlow logs in a fresh process that imports `first_import`,
  then Launchpad (which loads TensorFlow's library) and TensorFlow, with
  TF_ENABLE_ONEDNN_OPTS unset or set to `onednn_setting`."""
  env = {k: v for k, v in os.environ.items()
         if k != tf_runtime.ONEDNN_VARIABLE}
  env.update(TF_CPP_MIN_LOG_LEVEL='0', CUDA_VISIBLE_DEVICES='')
  if onednn_setting is not None:
    env[tf_runtime.ONEDNN_VARIABLE] = onednn_setting
  return subprocess.run(
      [sys.executable, '-c', f'import {first_import}; import launchpad; '
       'import tensorflow as tf; tf.ones([1]) + 1'],
      env=env, check=True, capture_output=True, text=True).stderr


class OneDnnTest(absltest.TestCase):

  def test_launchers_turn_onednn_on_before_tensorflow_loads(self):
    self.assertIn(ONEDNN_NOTICE, tensorflow_log('behavior_transfer.launch'))

  def test_without_a_launcher_tensorflow_28_leaves_it_off(self):
    # Why the launchers set it: the library alone does not.
    self.assertNotIn(ONEDNN_NOTICE, tensorflow_log('behavior_transfer'))

  def test_a_users_setting_is_kept(self):
    self.assertNotIn(ONEDNN_NOTICE,
                     tensorflow_log('behavior_transfer.launch', '0'))

  def test_every_local_node_process_starts_with_it(self):
    with mock.patch.dict(os.environ):
      os.environ.pop(tf_runtime.ONEDNN_VARIABLE, None)
      self.assertEqual(
          supervisor.node_environment()[tf_runtime.ONEDNN_VARIABLE], '1')
      os.environ[tf_runtime.ONEDNN_VARIABLE] = '0'
      self.assertEqual(
          supervisor.node_environment()[tf_runtime.ONEDNN_VARIABLE], '0')


if __name__ == '__main__':
  absltest.main()
