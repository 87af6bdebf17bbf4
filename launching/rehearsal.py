"""A Vertex AI launch rehearsed on one machine, each node on a host of its own.

Launchpad's `vertex_ai` path (`vertex.plan`) gives the worker pools exactly as
Vertex would receive them: each pool's build context with its pickled nodes,
the entry point its containers run, and one replica per node, each finding
the others through the `CLUSTER_SPEC` environment variable. Here every replica
becomes a host: a Linux network namespace with its own address on a private
bridge (no route to this machine's network or to the others' localhost),
running its pool's entry point in the pool's build context with the
`CLUSTER_SPEC` Vertex would give it. So actors insert into a replay server on
another host, and the learner serves variables from a third, through
Launchpad's own addressing. The launcher then supervises the node processes
as it does under `local_mp` (`launching.supervisor`): the nodes share the run
directory as they would share a Cloud Storage mount on Vertex.

Needs root (or CAP_NET_ADMIN) and iproute2; `unavailable_reason` says why not.
"""

import json
import os
import subprocess
import sys
import time
import uuid
from typing import List, Optional, Sequence

from behavior_transfer.launching import supervisor
from behavior_transfer.launching import vertex

SUBNET = '10.213.0'  # Hosts are SUBNET.1, SUBNET.2, ... on a /24.
MAX_HOSTS = 250
# Vertex AI gives each replica one port; Launchpad binds it from CLUSTER_SPEC.
PORT = 2222


def _ip(*args: str) -> None:
  subprocess.run(('ip',) + args, check=True, capture_output=True, text=True)


def unavailable_reason() -> Optional[str]:
  """Why network namespaces cannot be made here, or None if they can."""
  if os.geteuid() != 0:
    return ('network namespaces need root (or CAP_NET_ADMIN); run as root or '
            'in a container started with --cap-add=NET_ADMIN')
  probe = f'btprobe{uuid.uuid4().hex[:8]}'
  try:
    _ip('netns', 'add', probe)
    _ip('netns', 'del', probe)
  except FileNotFoundError:
    return "iproute2's `ip` command is not installed"
  except subprocess.CalledProcessError as e:
    return f'`ip netns add` failed: {e.stderr.strip()}'
  return None


class Hosts:
  """`count` network namespaces on one private bridge, made on entering and
  deleted on leaving (deleting a namespace deletes its links)."""

  def __init__(self, count: int):
    if not 1 <= count <= MAX_HOSTS:
      raise ValueError(f'A rehearsal has 1 to {MAX_HOSTS} hosts (asked: '
                       f'{count}).')
    tag = uuid.uuid4().hex[:6]
    self._switch = f'bt{tag}sw'
    self.namespaces = [f'bt{tag}h{k}' for k in range(count)]
    self.addresses = [f'{SUBNET}.{k + 1}' for k in range(count)]
    self._made: List[str] = []

  def __enter__(self) -> 'Hosts':
    try:
      self._add_namespace(self._switch)
      _ip('-n', self._switch, 'link', 'add', 'br0', 'type', 'bridge')
      _ip('-n', self._switch, 'link', 'set', 'br0', 'up')
      for index, (namespace, address) in enumerate(
          zip(self.namespaces, self.addresses)):
        self._add_namespace(namespace)
        # The pair is made in the host's namespace: names there are its own.
        _ip('-n', namespace, 'link', 'add', 'eth0', 'type', 'veth', 'peer',
            'name', f'port{index}', 'netns', self._switch)
        _ip('-n', self._switch, 'link', 'set', f'port{index}', 'master',
            'br0', 'up')
        _ip('-n', namespace, 'addr', 'add', f'{address}/24', 'dev', 'eth0')
        _ip('-n', namespace, 'link', 'set', 'eth0', 'up')
        _ip('-n', namespace, 'link', 'set', 'lo', 'up')
    except BaseException:
      self.__exit__()
      raise
    return self

  def _add_namespace(self, name: str) -> None:
    _ip('netns', 'add', name)
    self._made.append(name)

  def __exit__(self, *unused_exc) -> None:
    for name in reversed(self._made):
      subprocess.run(['ip', 'netns', 'del', name], capture_output=True)
    self._made = []

  def command(self, host: int, argv: Sequence[str]) -> List[str]:
    """`argv` run on host `host` (`ip netns exec` execs it: same pid)."""
    return ['ip', 'netns', 'exec', self.namespaces[host]] + list(argv)


def check_available() -> None:
  """Raises ValueError saying why network namespaces cannot be made here."""
  reason = unavailable_reason()
  if reason:
    raise ValueError(f'The multi-host rehearsal cannot run here: {reason}.')


def run(plan: vertex.LaunchPlan, run_dir: str,
        verbose: bool = False) -> supervisor.Ending:
  """Runs every replica of `plan` on a host of its own until the program
  ends; returns how it ended."""
  check_available()
  replicas = [(pool, index) for pool in plan.pools
              for index in range(pool.replicas)]
  log_dir = os.path.join(run_dir, supervisor.NODE_LOGS_DIR,
                         time.strftime('%Y%m%d-%H%M%S'))
  with Hosts(len(replicas)) as hosts:
    addresses = {pool.name: [] for pool in plan.pools}
    for host, (pool, _) in enumerate(replicas):
      addresses[pool.name].append(f'{hosts.addresses[host]}:{PORT}')
    processes, seen = [], {}
    for host, (pool, index) in enumerate(replicas):
      group = pool.nodes[index]
      seen[group] = seen.get(group, -1) + 1
      log_path = os.path.join(log_dir, group, str(seen[group]))
      os.makedirs(os.path.dirname(log_path), exist_ok=True)
      argv = pool.entrypoint()
      if argv[0] == 'python':  # The image's Python is this environment's here.
        argv[0] = sys.executable
      env = dict(os.environ, **supervisor.node_environment(),
                 CLUSTER_SPEC=json.dumps(
                     plan.cluster_spec(addresses, pool.name, index)))
      with open(log_path, 'wb') as log:
        process = subprocess.Popen(hosts.command(host, argv),
                                   cwd=pool.container.path, env=env,
                                   stdout=log, stderr=subprocess.STDOUT)
      processes.append(supervisor.NodeProcess(group, str(seen[group]),
                                              process, log_path))
    print(f'Rehearsal of the Vertex AI job: {len(replicas)} hosts (network '
          f'namespaces on {SUBNET}.0/24), one per replica: ' + ', '.join(
              f'{pool.nodes[index]} {addresses[pool.name][index]} '
              f'({pool.name}-{index})' for pool, index in replicas) +
          f'; their output goes to {log_dir}.', flush=True)
    return supervisor.Supervisor(run_dir, processes, verbose).run()
