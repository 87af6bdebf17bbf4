"""The whole distributed R2D2 program, in-process under Launchpad's test_mt."""

import functools
import os
import threading
import time
from unittest import mock

from absl.testing import absltest
from acme import wrappers
import launchpad as lp
import numpy as np
import pytest

from behavior_transfer import experiments
from behavior_transfer import networks
from behavior_transfer.agents.r2d2 import builder as r2d2_builder
from behavior_transfer.distributed import checkpointing
from behavior_transfer.distributed import layout as distributed_layout
from behavior_transfer.distributed import nodes
from behavior_transfer.experiments import run_experiment
from behavior_transfer.launching import reports
from behavior_transfer.launching import runs
from tests.helpers import tensorboard_events

# Launches in-process programs: scripts/run_tests.py gives it a process of its own.
pytestmark = pytest.mark.in_process_programs

ENVIRONMENT = 'minigrid:MiniGrid-Empty-5x5-v0'
TIMEOUT_SECONDS = 240


# R2D2 and program settings for a program that learns a few steps within
# seconds.
TINY_R2D2 = dict(trace_length=6, burn_in_length=2, replay_period=4,
                 batch_size=8, min_replay_size=8, replay_ratio=12.0,
                 variable_update_period=10)
TINY_PROGRAM = dict(num_actors=2, envs_per_actor=2,
                    evaluation_pause_seconds=0.5)


def tiny_spec(agent: str = 'r2d2', environment: str = ENVIRONMENT,
              max_actor_steps: int = 400, config=None, program=None,
              **fields) -> experiments.ExperimentSpec:
  """`agent`'s MiniGrid preset made tiny; `config` and `program` set more
  fields of the agent config and the program, `fields` of the spec."""
  spec = experiments.from_preset(agent, environment, max_actor_steps,
                                 **fields)
  return experiments.override(spec, config=config, r2d2=TINY_R2D2,
                              program={**TINY_PROGRAM, **(program or {})})


def launch_until_stopped(test_case: absltest.TestCase, make_builder,
                         then_until=None) -> None:
  """Runs `make_builder(stop_program).build()` under test_mt until one of its
  nodes stops it (the step budget, or a failure). Under test_mt the nodes
  run on until cleanup; `then_until()`, if given, is awaited before it (a
  slow node's first report on a loaded machine, say)."""
  stopped = threading.Event()
  manager = lp.launch(make_builder(stopped.set).build(), launch_type='test_mt',
                      test_case=test_case, serialize_py_nodes=False)
  test_case.assertTrue(stopped.wait(TIMEOUT_SECONDS), 'the program did not stop')
  deadline = time.time() + TIMEOUT_SECONDS
  while then_until is not None and not then_until():
    test_case.assertLess(time.time(), deadline, 'the awaited report never came')
    time.sleep(0.5)
  manager.cleanup_after_test(test_case)


class BreaksAfter(wrappers.EnvironmentWrapper):
  """An environment that raises `error` after a number of steps, like a
  crashing emulator (or a full disk under it)."""

  def __init__(self, environment, steps,
               error: Exception = ValueError('the emulator is on fire')):
    super().__init__(environment)
    self._steps_left = steps
    self._error = error

  def step(self, action):
    self._steps_left -= 1
    if self._steps_left < 0:
      raise self._error
    return self._environment.step(action)


class _StopsSoon:
  """A worker that stops its program shortly after it starts."""

  def __init__(self, stop_program):
    self._stop_program = stop_program

  def run(self):
    time.sleep(1.)
    self._stop_program()


class ProgramTest(absltest.TestCase):

  def test_a_node_still_being_built_when_the_program_stops_ends(self):
    # Like an actor waiting for its first weights from a node already gone.
    run_dir = self.create_tempdir().full_path
    stopped, never = threading.Event(), threading.Event()
    program = lp.Program('stops_while_building')
    program.add_node(lp.CourierNode(nodes.ManagedNode(
        never.wait, 'blocked', run_dir, stopped.set)), label='blocked')
    program.add_node(lp.CourierNode(nodes.ManagedNode(
        lambda: _StopsSoon(stopped.set), 'stopper', run_dir, stopped.set)),
                     label='stopper')
    manager = lp.launch(program, launch_type='test_mt', test_case=self,
                        serialize_py_nodes=False)
    self.assertTrue(stopped.wait(TIMEOUT_SECONDS))
    cleanup = threading.Thread(target=manager.cleanup_after_test,
                               args=(self,), daemon=True)
    cleanup.start()
    cleanup.join(60)
    self.assertFalse(cleanup.is_alive(), 'the program did not end')
    self.assertFalse(os.path.exists(os.path.join(run_dir, nodes.FAILURE_FILE)))

  def _run(self, run_dir, max_actor_steps, program=None,
           environment_factory=None):
    """Builds and runs the program until its budget node (or a failure) stops it."""
    spec = tiny_spec(max_actor_steps=max_actor_steps, program=program)

    def make_builder(stop_program):
      if environment_factory is None:
        return experiments.make_layout(spec, run_dir, stop_program)
      # The generic layout over an agent builder, as other projects use it.
      return distributed_layout.DistributedLayout(
          r2d2_builder.R2D2Builder(
              spec.config,
              functools.partial(networks.make_q_network, 'minigrid')),
          spec.program, environment_factory, run_dir, max_actor_steps, seed=0,
          stop_program=stop_program)

    launch_until_stopped(self, make_builder)
    return reports.read_logs(run_dir)

  def test_actors_insert_and_learner_steps_then_resume(self):
    run_dir = self.create_tempdir().full_path
    # Enough steps that both actors end episodes on a loaded machine too.
    logs = self._run(run_dir, max_actor_steps=800)
    self.assertIn('actor_0', logs)
    self.assertIn('actor_1', logs)
    learner = logs['learner']
    first_run_learner_steps = learner['learner_steps'].max()
    # The rate limiter lets actors reach the budget only if the learner sampled
    # what they inserted.
    self.assertGreater(first_run_learner_steps, 5)
    self.assertTrue((learner['loss'] > 0).all())
    actor_steps = reports.actor_episodes(logs)['actor_steps'].max()
    self.assertGreaterEqual(actor_steps, 800)
    for name in ('learner', 'counter'):
      self.assertNotEmpty(os.listdir(os.path.join(run_dir, 'checkpoints', name)))

    # TensorBoard received the same rows as the CSV files, at their steps.
    for label, steps in (('learner', 'learner_steps'),
                         ('actor_0', 'actor_steps')):
      csv_rows = logs[label]
      events = tensorboard_events.wait_for_rows(
          os.path.join(run_dir, 'logs', label), len(csv_rows))
      self.assertLen(events, len(csv_rows), label)
      np.testing.assert_array_equal(events['step'], csv_rows[steps])
      for column in ('episode_return', 'loss', 'mean_q'):
        if column in csv_rows:
          np.testing.assert_allclose(events[column], csv_rows[column],
                                     rtol=1e-5, err_msg=label)

    # The counter saved its counts when the program stopped.
    saved = checkpointing.saved_counts(run_dir)['actor_steps']
    self.assertGreaterEqual(saved, 800)

    # Launching the same run directory resumes (as `runs.run_to_budget` does):
    # counts continue from the checkpoint, and the extended budget ends the
    # second launch on time.
    # The learner may step a little after the counter's last save, so the
    # run continues from the saved learner steps, not from the last logged.
    counts = checkpointing.saved_counts(run_dir)
    saved_learner_steps = counts['learner_steps']
    self.assertGreater(saved_learner_steps, 5)
    runs.truncate_logs(run_dir, counts)
    budget = saved + 300
    logs = self._run(run_dir, max_actor_steps=budget)
    learner = logs['learner']
    self.assertTrue(learner['learner_steps'].is_monotonic_increasing)
    self.assertGreater(learner['learner_steps'].iloc[-1], saved_learner_steps)
    episodes = reports.actor_episodes(logs)
    self.assertGreaterEqual(episodes['actor_steps'].max(), budget)
    for label in ('actor_0', 'actor_1', 'evaluator'):  # Never backwards.
      self.assertTrue(logs[label]['actor_steps'].is_monotonic_increasing)
    second_run = episodes[episodes['actor_steps'] > saved]
    # 300 steps plus at most what two actors do between the budget node's
    # polls, far below a restart from zero (which would take > 900).
    self.assertLess(second_run['episode_length'].sum(), 900)

  def test_replay_checkpoint_is_restored_on_resume(self):
    run_dir = self.create_tempdir().full_path
    program = dict(checkpoint_replay=True, checkpoint_seconds=5.)
    self._run(run_dir, max_actor_steps=300, program=program)
    self.assertNotEmpty(os.listdir(checkpointing.checkpoint_dir(
        run_dir, checkpointing.REPLAY)))
    announcements = []
    with mock.patch.object(nodes, 'announce', announcements.append):
      self._run(run_dir, max_actor_steps=600, program=program)
    restored = [a for a in announcements if a.startswith('replay holds')]
    self.assertLen(restored, 1)
    self.assertGreater(int(restored[0].split()[2]), 0, restored)

  def test_failing_node_is_named_and_stops_the_program(self):
    run_dir = self.create_tempdir().full_path

    def broken_environment(seed):
      environment = run_experiment.environment_factory(tiny_spec())(seed)
      # Only actor 1's first environment (acting environment 2) breaks,
      # mid-run.
      if seed % 100_000 == 2:
        return BreaksAfter(environment, steps=150)
      return environment

    self._run(run_dir, max_actor_steps=10**9,
              environment_factory=broken_environment)
    with open(os.path.join(run_dir, nodes.FAILURE_FILE)) as f:
      failure = f.read()
    self.assertIn("Node 'actor_1' failed", failure)
    self.assertIn('the emulator is on fire', failure)

  def test_a_late_clean_up_after_a_node_failed_leaves_the_tests_running(self):
    # test_mt's node monitor SIGQUITs the process 3 s after a node thread
    # raised; Launchpad's handler would SIGKILL the whole suite here
    # (tests/conftest.py logs instead).
    def fail():
      raise ValueError('failed on purpose')

    cleanups = []
    late_test_case = mock.Mock(addCleanup=lambda f: cleanups.append(f))
    program = lp.Program('fails_at_once')
    program.add_node(lp.PyNode(fail), label='failing')
    lp.launch(program, launch_type='test_mt', test_case=late_test_case,
              serialize_py_nodes=False)
    time.sleep(5.)  # Past the monitor's 3 s.
    with self.assertRaisesRegex(ValueError, 'failed on purpose'):
      cleanups[0]()  # Stops the monitor, then raises the node's failure.


if __name__ == '__main__':
  absltest.main()
