"""The TensorFlow runtime of the processes the package starts: oneDNN on."""

import json
import os
import subprocess
import sys
import tempfile
from unittest import mock

from absl.testing import absltest
import launchpad as lp

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

  def test_launch_local_mp_starts_each_node_with_it(self):
    # The wiring, not the dict: nodes of two groups report their own
    # environment from the processes Launchpad started.
    def report_environment(path: str) -> None:
      # Defined here so that it is pickled by value: the node's process
      # cannot import this test module.
      with open(path, 'w') as f:
        json.dump({name: os.environ.get(name) for name in
                   (tf_runtime.ONEDNN_VARIABLE, 'OMP_NUM_THREADS')}, f)

    run_dir = tempfile.mkdtemp()
    program = lp.Program('probe')
    for group in ('learner', 'actor'):
      with program.group(group):
        program.add_node(lp.PyNode(report_environment, os.path.join(
            run_dir, f'{group}.json')))
    with mock.patch.dict(os.environ):
      os.environ.pop(tf_runtime.ONEDNN_VARIABLE, None)
      processes = supervisor.launch_local_mp(program, run_dir)
    for process in processes:
      self.assertEqual(process.process.wait(timeout=60), 0)
    for group in ('learner', 'actor'):
      with open(os.path.join(run_dir, f'{group}.json')) as f:
        seen = json.load(f)
      self.assertEqual(seen[tf_runtime.ONEDNN_VARIABLE], '1', group)
      self.assertEqual(seen['OMP_NUM_THREADS'], '1', group)


if __name__ == '__main__':
  absltest.main()
