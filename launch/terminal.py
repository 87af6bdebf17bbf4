"""A terminal free of third-party noise.

Importing the stack prints notices and warnings that say nothing about the
run: gym's "unmaintained" banner, google-api-core's FutureWarning about
Python 3.10, distutils DeprecationWarnings from TensorFlow Probability and
Reverb. A launcher imports the stack while holding them back
(`import_quietly`), then writes them to its run directory
(<run_dir>/node_logs/launcher.log, next to the nodes' own output) instead of
the terminal; with --verbose they go to the terminal as before.
"""

import contextlib
import importlib
import io
import os
import sys
import warnings
from typing import List, Sequence

# What a launcher imports, directly or through this package.
_STACK = ('gym', 'tensorflow', 'tensorflow_probability', 'reverb', 'acme',
          'launchpad', 'google.api_core', 'behavior_transfer.experiments',
          'behavior_transfer.launching.vertex')
_held: List[str] = []
LOG_NAME = 'launcher.log'


def verbose_requested(argv: Sequence[str] = None) -> bool:
  """Whether the command line asks for --verbose (read before absl parses
  flags: the imports come first)."""
  argv = sys.argv if argv is None else argv
  return any(arg in ('--verbose', '--verbose=true', '--verbose=True',
                     '--verbose=1') for arg in argv)


def import_quietly(modules: Sequence[str] = _STACK) -> None:
  """Imports `modules`, holding back what they print to stderr and the
  warnings they raise (shown at once with --verbose)."""
  printed = io.StringIO()
  with warnings.catch_warnings(record=True) as caught, \
      contextlib.redirect_stderr(printed):
    warnings.simplefilter('always')
    for name in modules:
      try:
        importlib.import_module(name)
      except ImportError:  # An optional part of the stack.
        pass
  held = [printed.getvalue().rstrip()] if printed.getvalue().strip() else []
  held += [warnings.formatwarning(w.message, w.category, w.filename, w.lineno,
                                  w.line).rstrip() for w in caught]
  if verbose_requested():
    for text in held:
      print(text, file=sys.stderr)
  else:
    _held.extend(held)


def held() -> List[str]:
  """What `import_quietly` held back so far."""
  return list(_held)


def write_held(run_dir: str) -> None:
  """Appends what was held back to <run_dir>/node_logs/launcher.log (when
  the run directory exists), once."""
  if not _held or not run_dir or not os.path.isdir(run_dir):
    return
  directory = os.path.join(run_dir, 'node_logs')
  try:
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, LOG_NAME), 'a') as f:
      f.write('\n'.join(_held) + '\n')
  except OSError:  # A full disk: the run's own failure says so.
    return
  _held.clear()
