"""The multi-host rehearsal: a Vertex AI launch run on one machine with every
node on a host (network namespace) of its own. Needs root; skips otherwise."""

import glob
import os
import re
import subprocess
import sys
import tempfile

from absl.testing import absltest

from behavior_transfer import experiments
from behavior_transfer.distributed import nodes
from behavior_transfer.launching import rehearsal
from behavior_transfer.launching import reports
from behavior_transfer.launching import vertex

ENVIRONMENT = 'minigrid:MiniGrid-Empty-5x5-v0'
UNAVAILABLE = rehearsal.unavailable_reason()

_SERVE = '''
import socket, sys
server = socket.socket(socket.AF_INET6)
server.bind(('::', 2222))
server.listen()
print('listening', flush=True)
connection, _ = server.accept()
connection.sendall(b'hello from host 0')
'''
_CONNECT = '''
import socket, sys
try:
  print(socket.create_connection((sys.argv[1], 2222), timeout=5).recv(100)
        .decode())
except OSError as e:
  print(f'unreachable: {e}')
'''


def namespaces():
  listing = subprocess.run(['ip', 'netns', 'list'], capture_output=True,
                           text=True).stdout
  return {line.split()[0] for line in listing.splitlines() if line.strip()}


@absltest.skipIf(UNAVAILABLE, f'No multi-host rehearsal here: {UNAVAILABLE}.')
class HostsTest(absltest.TestCase):

  def test_hosts_reach_each_other_by_address_not_by_localhost(self):
    before = namespaces()
    with rehearsal.Hosts(2) as hosts:
      server = subprocess.Popen(
          hosts.command(0, [sys.executable, '-c', _SERVE]),
          stdout=subprocess.PIPE, text=True)
      try:
        self.assertEqual(server.stdout.readline().strip(), 'listening')
        # Host 1's localhost is its own: nothing listens there.
        local = subprocess.run(
            hosts.command(1, [sys.executable, '-c', _CONNECT, '127.0.0.1']),
            capture_output=True, text=True, timeout=30).stdout
        self.assertIn('unreachable', local)
        remote = subprocess.run(
            hosts.command(1, [sys.executable, '-c', _CONNECT,
                              hosts.addresses[0]]),
            capture_output=True, text=True, timeout=30).stdout
        self.assertIn('hello from host 0', remote)
      finally:
        server.kill()
        server.wait()
    self.assertEqual(namespaces(), before)  # All deleted again.


@absltest.skipIf(UNAVAILABLE, f'No multi-host rehearsal here: {UNAVAILABLE}.')
class RehearsalTest(absltest.TestCase):

  def test_a_program_runs_to_its_budget_across_hosts(self):
    before = namespaces()
    budget = 2000
    spec = experiments.override(
        experiments.from_preset('r2d2', ENVIRONMENT, budget),
        r2d2=dict(trace_length=6, burn_in_length=2, replay_period=4,
                  batch_size=8, min_replay_size=8, replay_ratio=4.0,
                  variable_update_period=10),
        program=dict(num_actors=2, envs_per_actor=2,
                     evaluation_pause_seconds=0.5))
    with tempfile.TemporaryDirectory() as run_dir:
      summary = experiments.run(
          spec, run_dir, launch_type=vertex.VertexLaunch('rehearsal', None))
      self.assertGreaterEqual(summary['actor_steps'], budget)
      # The learner trained on what actors on other hosts put into replay.
      self.assertGreater(summary['learner_steps'], 0)
      self.assertTrue(os.path.exists(os.path.join(run_dir,
                                                  nodes.FINISHED_FILE)))
      self.assertFalse(os.path.exists(os.path.join(run_dir,
                                                   nodes.FAILURE_FILE)))
      logs = reports.read_logs(run_dir)
      self.assertGreater(logs['learner']['learner_steps'].max(), 0)
      # Actors reached replay at its host's address, through CLUSTER_SPEC.
      log_dir = sorted(glob.glob(os.path.join(run_dir, 'node_logs', '*')))[-1]
      replay_hosts = set()
      for path in glob.glob(os.path.join(log_dir, 'actor', '*')) + glob.glob(
          os.path.join(log_dir, 'learner', '*')):
        with open(path) as f:
          replay_hosts.update(re.findall(
              r'Reverb client connecting to: (\S+)', f.read()))
      self.assertLen(replay_hosts, 1)
      [address] = replay_hosts
      self.assertTrue(address.startswith(rehearsal.SUBNET + '.'), address)
    self.assertEqual(namespaces(), before)


if __name__ == '__main__':
  absltest.main()
