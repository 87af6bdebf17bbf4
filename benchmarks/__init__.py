"""Benchmarks: each prints its table and writes the same figures to JSON.

Like the launchers, they keep TensorFlow's C++ notices and the stack's import
notices off the terminal (`launch.terminal`); --verbose shows them.
"""

from absl import flags

from behavior_transfer import launch  # pylint: disable=unused-import

flags.DEFINE_bool('verbose', False, 'Show the notices the stack prints when '
                  'imported (TensorFlow, gym, Reverb).')
