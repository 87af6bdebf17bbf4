"""Variable serving: cachers between the learner and the actors."""

from absl.testing import absltest
import numpy as np
import pytest

from behavior_transfer import experiments
from behavior_transfer.distributed import nodes
from behavior_transfer.distributed import variable_cache
from behavior_transfer.launching import reports
from tests import test_program

# Launches in-process programs: scripts/run_tests.py gives it a process of its own.
pytestmark = pytest.mark.in_process_programs


class VersionedLearner:
  """A variable source whose variables are its version; each fetch counts."""

  def __init__(self):
    self.version = 0
    self.fetches = 0

  def get_variables(self, names):
    self.fetches += 1
    return [[np.array(self.version)] for _ in names]


class FakeClock:

  def __init__(self):
    self.now = 1000.

  def __call__(self):
    return self.now


def test_cachers_serve_the_learners_latest_variables_within_the_refresh(
    monkeypatch):
  clock = FakeClock()
  monkeypatch.setattr(variable_cache.time, 'time', clock)
  learner = VersionedLearner()
  cachers = [variable_cache.VariableCache(learner, refresh_seconds=2.)
             for _ in range(2)]
  served = {0: [], 1: []}
  for tick in range(40):  # 20 s of learner updates, actors fetching at 2 Hz.
    learner.version = tick
    for index, cacher in enumerate(cachers):
      version = int(cacher.get_variables(['policy'])[0][0])
      served[index].append(version)
      # Never older than the refresh window: 4 ticks of 0.5 s.
      assert tick - version <= 4, (tick, version)
    clock.now += 0.5
  for versions in served.values():
    assert versions == sorted(versions) and versions[-1] > versions[0]
  # Each cacher costs the learner one fetch per window, whatever the actors.
  assert learner.fetches <= 2 * (20 / 2 + 1)


class TwoCachersProgramTest(absltest.TestCase):

  def test_a_program_with_two_cachers_runs_to_its_budget(self):
    run_dir = self.create_tempdir().full_path
    spec = test_program.tiny_spec(program=dict(num_cachers=2,
                                               cacher_refresh_seconds=0.5))
    test_program.launch_until_stopped(
        self, lambda stop: experiments.make_layout(spec, run_dir, stop))
    episodes = reports.actor_episodes(reports.read_logs(run_dir))
    self.assertGreaterEqual(episodes['actor_steps'].max(),
                            spec.max_actor_steps)
    statuses = nodes.read_statuses(run_dir)
    self.assertIn('cacher_0', statuses)
    self.assertIn('cacher_1', statuses)


if __name__ == '__main__':
  absltest.main()
