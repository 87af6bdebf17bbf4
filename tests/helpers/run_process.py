"""A launcher run as a child process, for fault-injection tests and benchmarks:
start it, find its nodes' processes, kill one, and check that none is left.
"""

import dataclasses
import os
import signal
import subprocess
import sys
import time
from typing import Dict, List, Optional, Sequence

import psutil

from behavior_transfer.distributed import nodes
from behavior_transfer.launching import reports


@dataclasses.dataclass
class LauncherRun:
  """A launcher subprocess writing its terminal output to `output_path`."""
  process: subprocess.Popen
  run_dir: str
  output_path: str
  started: float

  def node_pids(self) -> Dict[str, int]:
    """The pid of every node that has reported a status so far."""
    return {name: status['pid']
            for name, status in nodes.read_statuses(self.run_dir).items()}

  def wait_for_nodes(self, names: Sequence[str], timeout: float = 180.,
                     state: Optional[str] = 'running') -> Dict[str, int]:
    """Waits until the named nodes report `state` (any state: None); returns
    all node pids."""
    deadline = time.time() + timeout
    while time.time() < deadline:
      statuses = nodes.read_statuses(self.run_dir)
      if all(n in statuses and (state is None or statuses[n]['state'] in (
          state, 'serving')) for n in names):
        return self.node_pids()
      if self.process.poll() is not None:
        raise RuntimeError(f'The launcher ended early:\n{self.output()}')
      time.sleep(0.2)
    raise TimeoutError(f'Nodes {names} not {state} after {timeout}s:\n'
                       f'{self.output()}')

  def wait_for_actor_steps(self, steps: int, timeout: float = 180.) -> None:
    """Waits until the actors' CSV logs reach `steps` actor steps."""
    deadline = time.time() + timeout
    while time.time() < deadline:
      episodes = reports.actor_episodes(reports.read_logs(self.run_dir))
      if len(episodes) and episodes['actor_steps'].max() >= steps:
        return
      if self.process.poll() is not None:
        raise RuntimeError(f'The launcher ended early:\n{self.output()}')
      time.sleep(0.2)
    raise TimeoutError(f'{steps} actor steps not reached in {timeout}s.')

  def wait(self, timeout: float) -> Optional[int]:
    """The launcher's exit code, or None if it is still running."""
    try:
      return self.process.wait(timeout)
    except subprocess.TimeoutExpired:
      return None

  def output(self) -> str:
    with open(self.output_path, errors='replace') as f:
      return f.read()


def start(module: str, run_dir: str, flags: Sequence[str],
          output_path: Optional[str] = None) -> LauncherRun:
  """Starts `python -m <module> --run_dir=<run_dir> <flags>` in the
  background, in a process group of its own (as a terminal would)."""
  output_path = output_path or os.path.join(
      os.path.dirname(os.path.abspath(run_dir)),
      os.path.basename(run_dir) + f'.launcher{int(time.time() * 1e3)}.txt')
  with open(output_path, 'w') as output:
    process = subprocess.Popen(
        [sys.executable, '-m', module, f'--run_dir={run_dir}', *flags],
        stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        start_new_session=True)
  return LauncherRun(process, run_dir, output_path, time.time())


def kill(pid: int, sig: int = signal.SIGKILL) -> None:
  try:
    os.kill(pid, sig)
  except ProcessLookupError:
    pass


def kill_group(run: LauncherRun, sig: int = signal.SIGKILL) -> None:
  """Signals the launcher's whole process group (launcher and nodes)."""
  try:
    os.killpg(run.process.pid, sig)
  except ProcessLookupError:
    pass


def survivors(pids: Sequence[int], timeout: float = 0.) -> List[int]:
  """The pids among `pids` still running after up to `timeout` seconds."""
  deadline = time.time() + timeout
  while True:
    alive = [pid for pid in pids if _running(pid)]
    if not alive or time.time() >= deadline:
      return alive
    time.sleep(0.2)


def _running(pid: int) -> bool:
  try:
    return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
  except psutil.NoSuchProcess:
    return False
