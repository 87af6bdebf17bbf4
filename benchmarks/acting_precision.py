r"""The Atari acting call in float32, in bfloat16 and compiled by XLA, side by
side on one core.

  python -m benchmarks.acting_precision [--rounds=3] [--seconds=8] [--batch=16]
      [--json=docs/acting_precision.json]

What an Atari actor node at 16 environments spends 40% of its time on is one
batched call of the Agent57 Q-network (docs/results.md, "oneDNN"). This times
that call's layers, built from the same Sonnet and Acme modules as
`networks.q_network.make_atari_network` (Acme's Atari convolutions, padded,
so a 7744-to-512 linear, a 512-unit LSTM over the embedding with the one-hot last
action and reward, a dueling head over 18 actions), with float32 variables and
inputs, with bfloat16 ones, and in float32 as one XLA cluster
(`tf.function(jit_compile=True)`), each in its own process pinned to core 0,
alternating over `--rounds`; the median is reported. bfloat16 pays only on
cores whose oneDNN kernels have it (AMX, or AVX-512 with bfloat16); elsewhere
it can be slower, and without AVX-512 TF 2.8 cannot compute it: that row is
skipped, saying so. XLA's CPU convolutions do not use oneDNN. It measures the
call alone; `bench-actors` measures the actor node acting in bfloat16
(`R2D2Config.acting_dtype`).
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
flags.DEFINE_string('measure', '', 'Internal: time one variant in this '
                    'process.')

NUM_ACTIONS = 18
# A dtype, and '_xla' where the call is compiled by XLA.
VARIANTS = ('float32', 'bfloat16', 'float32_xla')


def _time_call(variant: str) -> float:
  """Milliseconds per batched call of the acting network as `variant`."""
  from acme.tf.networks import atari as acme_atari  # pylint: disable=g-import-not-at-top
  from acme.tf.networks import duelling  # pylint: disable=g-import-not-at-top
  import numpy as np  # pylint: disable=g-import-not-at-top
  import sonnet as snt  # pylint: disable=g-import-not-at-top
  import tensorflow as tf  # pylint: disable=g-import-not-at-top

  dtype = tf.as_dtype(variant.split('_')[0])
  batch = FLAGS.batch
  convs, linear = acme_atari.AtariTorso(), snt.Linear(512)
  core = snt.LSTM(512, dtype=dtype)
  head = duelling.DuellingMLP(NUM_ACTIONS, hidden_sizes=[512])
  frames = tf.constant(np.random.RandomState(0).randint(
      0, 255, (batch, 84, 84, 1)).astype(np.uint8))
  actions = tf.zeros([batch], tf.int32)
  rewards = tf.zeros([batch, 1], dtype)

  @tf.function(jit_compile=variant.endswith('_xla'))
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


def _run_pinned(variant: str) -> float:
  here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
  output = subprocess.run(
      ['taskset', '-c', '0', sys.executable, '-m',
       'benchmarks.acting_precision', f'--measure={variant}',
       f'--seconds={FLAGS.seconds}', f'--batch={FLAGS.batch}'],
      check=True, capture_output=True, text=True, cwd=here,
      env=dict(os.environ, **tf_runtime.environment())).stdout
  return float(output.strip().splitlines()[-1])


def _computes_bfloat16() -> bool:
  """Asks a child process (oneDNN on, as the timed ones run) whether this
  CPU computes bfloat16."""
  return subprocess.run(
      [sys.executable, '-c', 'import sys; from behavior_transfer.networks '
       'import q_network; sys.exit(not q_network.cpu_computes_bfloat16())'],
      check=False, capture_output=True,
      env=dict(os.environ, **tf_runtime.environment())).returncode == 0


def main(_):
  if FLAGS.measure:
    print(_time_call(FLAGS.measure), flush=True)
    return
  variants = VARIANTS
  if not _computes_bfloat16():
    print('TF 2.8 computes no bfloat16 here (it needs oneDNN on and a CPU '
          'with AVX-512); its row is skipped.', flush=True)
    variants = tuple(v for v in VARIANTS if not v.startswith('bfloat16'))
  samples = {name: [] for name in variants}
  for round_index in range(FLAGS.rounds):
    for name in variants:
      samples[name].append(_run_pinned(name))
      print(f'round {round_index + 1}: {name}: {samples[name][-1]:.2f} ms '
            'per call', flush=True)
  milliseconds = {name: statistics.median(values)
                  for name, values in samples.items()}
  print(f'\nThe Atari acting call, batch {FLAGS.batch}, one core, median of '
        f'{FLAGS.rounds} rounds of {FLAGS.seconds:.0f} s:\n')
  print('| variant | ms per call | µs per environment step | float32 time / '
        'its time |\n|---|---:|---:|---:|')
  speedups = {name: milliseconds['float32'] / value
              for name, value in milliseconds.items()}
  for name, value in milliseconds.items():
    print(f'| {name} | {value:.2f} | {value * 1e3 / FLAGS.batch:.0f} | '
          f'{speedups[name]:.2f} |')
  figures.write(FLAGS.json, 'benchmarks.acting_precision', {
      'batch': FLAGS.batch, 'seconds': FLAGS.seconds, 'rounds': FLAGS.rounds,
      'milliseconds_per_call': milliseconds, 'samples': samples,
      'float32_over_bfloat16': speedups.get('bfloat16'),
      'float32_over_xla': speedups['float32_xla']})


if __name__ == '__main__':
  app.run(main)
