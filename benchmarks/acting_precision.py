r"""The Atari acting call in float32 and in bfloat16, side by side on one core.

  python -m benchmarks.acting_precision [--rounds=3] [--seconds=8] [--batch=16]
      [--json=docs/acting_precision.json]

What an Atari actor node at 16 environments spends 40% of its time on is one
batched call of the Agent57 Q-network (docs/results.md, "oneDNN"). This times
that call's layers, built from the same Sonnet and Acme modules as
`networks.q_network.make_atari_network` (Acme's Atari convolutions, padded,
so a 7744-to-512 linear, a 512-unit LSTM over the embedding with the one-hot last
action and reward, a dueling head over 18 actions), once with float32 and
once with bfloat16 variables and inputs, each in its own process pinned to
core 0, alternating over `--rounds`; the median is reported. bfloat16 pays
only on cores whose oneDNN kernels have it (AMX, or AVX-512 with bfloat16);
elsewhere it can be slower. It measures the call alone; `bench-actors` measures
the actor node acting in bfloat16 (`R2D2Config.acting_dtype`).
"""

import os
import statistics
import subprocess
import sys
import time

from absl import app
from absl import flags

from behavior_transfer import tf_runtime
from benchmarks import figures

FLAGS = flags.FLAGS
flags.DEFINE_integer('rounds', 3, 'Alternating rounds; the median is kept.')
flags.DEFINE_float('seconds', 8., 'Timed seconds per measurement.')
flags.DEFINE_integer('batch', 16, 'Environments per call (the Atari node\'s '
                     'batch).')
flags.DEFINE_string('json', 'docs/acting_precision.json',
                    'Where to write the figures.')
flags.DEFINE_string('measure', '', 'Internal: time one dtype in this process.')

NUM_ACTIONS = 18
DTYPES = ('float32', 'bfloat16')


def _time_call(dtype_name: str) -> float:
  """Milliseconds per batched call of the acting network in `dtype_name`."""
  from acme.tf.networks import atari as acme_atari  # pylint: disable=g-import-not-at-top
  from acme.tf.networks import duelling  # pylint: disable=g-import-not-at-top
  import numpy as np  # pylint: disable=g-import-not-at-top
  import sonnet as snt  # pylint: disable=g-import-not-at-top
  import tensorflow as tf  # pylint: disable=g-import-not-at-top

  dtype = tf.as_dtype(dtype_name)
  batch = FLAGS.batch
  convs, linear = acme_atari.AtariTorso(), snt.Linear(512)
  core = snt.LSTM(512, dtype=dtype)
  head = duelling.DuellingMLP(NUM_ACTIONS, hidden_sizes=[512])
  frames = tf.constant(np.random.RandomState(0).randint(
      0, 255, (batch, 84, 84, 1)).astype(np.uint8))
  actions = tf.zeros([batch], tf.int32)
  rewards = tf.zeros([batch, 1], dtype)

  @tf.function
  def act(state):
    images = tf.cast(frames, dtype) / tf.cast(255., dtype)
    embedding = tf.concat([tf.nn.relu(linear(convs(images))),
                           tf.one_hot(actions, NUM_ACTIONS, dtype=dtype),
                           rewards], axis=-1)
    outputs, state = core(embedding, state)
    return tf.argmax(head(outputs), axis=-1), state

  state = core.initial_state(batch)
  act(state)  # Traces and creates the variables.
  calls, start = 0, time.time()
  while time.time() - start < FLAGS.seconds:
    _, state = act(state)
    calls += 1
  return (time.time() - start) / calls * 1e3


def _run_pinned(dtype_name: str) -> float:
  here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
  output = subprocess.run(
      ['taskset', '-c', '0', sys.executable, '-m',
       'benchmarks.acting_precision', f'--measure={dtype_name}',
       f'--seconds={FLAGS.seconds}', f'--batch={FLAGS.batch}'],
      check=True, capture_output=True, text=True, cwd=here,
      env=dict(os.environ, **tf_runtime.environment())).stdout
  return float(output.strip().splitlines()[-1])


def main(_):
  if FLAGS.measure:
    print(_time_call(FLAGS.measure), flush=True)
    return
  samples = {name: [] for name in DTYPES}
  for round_index in range(FLAGS.rounds):
    for name in DTYPES:
      samples[name].append(_run_pinned(name))
      print(f'round {round_index + 1}: {name}: {samples[name][-1]:.2f} ms '
            'per call', flush=True)
  milliseconds = {name: statistics.median(values)
                  for name, values in samples.items()}
  print(f'\nThe Atari acting call, batch {FLAGS.batch}, one core, median of '
        f'{FLAGS.rounds} rounds of {FLAGS.seconds:.0f} s:\n')
  print('| dtype | ms per call | µs per environment step |\n|---|---:|---:|')
  for name, value in milliseconds.items():
    print(f'| {name} | {value:.2f} | {value * 1e3 / FLAGS.batch:.0f} |')
  speedup = milliseconds['float32'] / milliseconds['bfloat16']
  print(f'\nfloat32 / bfloat16 time: {speedup:.2f}')
  figures.write(FLAGS.json, 'benchmarks.acting_precision', {
      'batch': FLAGS.batch, 'seconds': FLAGS.seconds, 'rounds': FLAGS.rounds,
      'milliseconds_per_call': milliseconds, 'samples': samples,
      'float32_over_bfloat16': speedup})


if __name__ == '__main__':
  app.run(main)
