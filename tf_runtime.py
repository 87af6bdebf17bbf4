"""The TensorFlow runtime of the processes the package starts: oneDNN on.

TensorFlow 2.8 leaves its oneDNN CPU kernels off unless
`TF_ENABLE_ONEDNN_OPTS=1` (2.9 made them the default). On one core they make
the MiniGrid learners' updates 1.4-1.5x and the Atari actor node 1.07-1.18x
faster; a MiniGrid actor node loses 9-12% with one environment and about 5%
with the 16 the programs batch (docs/results.md, "oneDNN").

TensorFlow reads the variable when its library loads, and in a Launchpad node
that happens before any node code runs (`courier` loads TensorFlow's library
when Launchpad is imported), so the variable must be in a process's
environment when it starts: the launchers and benchmarks set it for
themselves before importing TensorFlow, and the local launch passes it to
every node process (`supervisor.node_environment`). A value the user set,
e.g. 0, is kept.
"""

import os
from typing import Dict, Mapping

ONEDNN_VARIABLE = 'TF_ENABLE_ONEDNN_OPTS'


def environment() -> Dict[str, str]:
  """The variables a process needs before it loads TensorFlow."""
  return {ONEDNN_VARIABLE: os.environ.get(ONEDNN_VARIABLE, '1')}


def onednn_enabled() -> bool:
  """Whether processes started now run TensorFlow with oneDNN."""
  return environment()[ONEDNN_VARIABLE].lower() not in ('0', 'false')


def use_in_this_process() -> None:
  """Sets `environment()` here; call before anything loads TensorFlow."""
  os.environ.update(environment())


def for_another_checkout(environ: Mapping[str, str]) -> Dict[str, str]:
  """`environ` without this module's variables: for a process that runs
  another checkout's code (a benchmark's baseline), so that it runs
  TensorFlow as that code sets it, not as this process does."""
  return {name: value for name, value in environ.items()
          if name not in environment()}
