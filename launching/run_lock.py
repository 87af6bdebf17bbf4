"""One launch per run directory.

A launch holds an exclusive `flock` on <run_dir>/LAUNCH.lock for as long as
it runs and writes who it is into the file (pid, host, start time, command).
A second launch into the same directory finds the lock taken and is refused
at once, naming the live one, before it touches anything. The kernel drops a
lock when its process dies (kill -9, a crash), so the directory of a launch
that is gone is taken over without anyone deleting a file: liveness is the
lock itself, not the file's existence. (On Vertex AI the launcher exits after
submitting; the SUBMITTED marker keeps a second launch out there.)
"""

import fcntl
import json
import os
import socket
import sys
import time
from typing import Any, Dict, Optional

LOCK_FILE = 'LAUNCH.lock'


class RunDirectoryInUse(ValueError):
  """Another live launch holds the run directory."""


class RunDirectoryLock:
  """Holds a run directory for one launch (a context manager)."""

  def __init__(self, run_dir: str):
    self._run_dir = run_dir
    self._path = os.path.join(run_dir, LOCK_FILE)
    self._file = None
    self.previous_owner: Optional[Dict[str, Any]] = None

  def acquire(self) -> 'RunDirectoryLock':
    """Takes the directory, or raises `RunDirectoryInUse` naming its owner.
    `previous_owner` is the launch that held it last and is gone, if any."""
    os.makedirs(self._run_dir, exist_ok=True)
    lock_file = open(self._path, 'a+')  # pylint: disable=consider-using-with
    try:
      fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
      owner = _read_owner(lock_file)
      lock_file.close()
      raise RunDirectoryInUse(
          f'{self._run_dir} is in use by another launch ({describe(owner)}); '
          'nothing in it was touched. Wait for that launch to end, or stop '
          f'it (Ctrl-C in its terminal, or kill -INT {owner.get("pid", "<pid>")}'
          ' on its host), then run this command again: it resumes the run.'
      ) from None
    except OSError as e:  # A file system without locks (some FUSE mounts).
      print(f'warning: cannot lock {self._path} ({e}); nothing keeps a second '
            'launch out of this run directory.', flush=True)
      lock_file.close()
      return self
    # A launch that ended released the lock and emptied the file; one that
    # is gone without doing so left its name.
    self.previous_owner = _read_owner(lock_file) or None
    lock_file.seek(0)
    lock_file.truncate()
    json.dump({'pid': os.getpid(), 'host': socket.gethostname(),
               'started': time.strftime('%Y-%m-%d %H:%M:%S'),
               'command': ' '.join(sys.argv)}, lock_file)
    lock_file.flush()
    self._file = lock_file
    return self

  def release(self) -> None:
    if self._file is not None:
      self._file.seek(0)
      self._file.truncate()
      self._file.flush()
      fcntl.flock(self._file, fcntl.LOCK_UN)
      self._file.close()
      self._file = None

  def __enter__(self) -> 'RunDirectoryLock':
    return self.acquire()

  def __exit__(self, *exc_info) -> None:
    self.release()


def _read_owner(lock_file) -> Dict[str, Any]:
  lock_file.seek(0)
  try:
    return json.loads(lock_file.read() or '{}')
  except ValueError:
    return {}


def describe(owner: Dict[str, Any]) -> str:
  """'pid 123 on host h, started 2026-01-01 10:00:00: <command>'."""
  if not owner:
    return 'unknown: it has not written its name yet'
  return (f'pid {owner.get("pid")} on host {owner.get("host")}, started '
          f'{owner.get("started")}: {owner.get("command")}')
