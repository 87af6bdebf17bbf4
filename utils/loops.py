"""Environment loops beyond Acme's: an evaluator that pauses between episodes."""

import time

import acme
from acme.utils import signals


class PausingEvaluationLoop(acme.EnvironmentLoop):
  """Runs and logs evaluation episodes with a pause between them.

  On a machine with few cores a continuously running evaluator takes a core
  from the actors and the learner; pausing keeps its share small while the
  learning curve still gets a point every `pause_seconds` or so.
  """

  def __init__(self, *args, pause_seconds: float, **kwargs):
    super().__init__(*args, **kwargs)
    self._pause_seconds = pause_seconds

  def run(self, num_episodes=None, num_steps=None):
    del num_episodes, num_steps  # Runs until the program stops.
    with signals.runtime_terminator():
      while True:
        self._logger.write(self.run_episode())
        time.sleep(self._pause_seconds)
