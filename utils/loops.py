"""Environment loops beyond Acme's: an evaluator that pauses between episodes."""

import time

import acme
from acme.utils import loggers
from acme.utils import signals


class PausingEvaluationLoop:
  """Runs evaluation episodes with a pause between them.

  On a machine with few cores a continuously running evaluator takes a core
  from the actors and the learner; pausing keeps its share small while the
  learning curve still gets a point every `pause_seconds` or so.
  """

  def __init__(self, loop: acme.EnvironmentLoop, logger: loggers.Logger,
               pause_seconds: float):
    self._loop = loop
    self._logger = logger
    self._pause_seconds = pause_seconds

  def run(self):
    with signals.runtime_terminator():
      while True:
        self._logger.write(self._loop.run_episode())
        time.sleep(self._pause_seconds)
