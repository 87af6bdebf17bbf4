r"""What writing a step to replay costs an actor: Acme's SequenceAdder next to
the structured adder the programs use, on the same steps, in one run.

  python -m benchmarks.adder_overhead [--steps=20000] [--rounds=3]

For each agent and domain, the steps have the shapes of the program's replay
table (its signature under the `standard` preset: observation, action,
reward, discount and the agent's extras, LSTM state included) and random
contents; episodes end every `--episode_length` steps. Each adder writes
them to a Reverb server in its own process pinned to core 0 (the server's
threads included, so the figure is what one actor core pays); rounds
alternate between the adders and the median is kept. Figures also go to
--json.
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time

from absl import app
from absl import flags

from benchmarks import figures

FLAGS = flags.FLAGS
flags.DEFINE_integer('steps', 20_000, 'Steps written per measurement.')
flags.DEFINE_integer('rounds', 3, 'Alternating rounds; the median is kept.')
flags.DEFINE_integer('episode_length', 500, 'Steps per episode.')
flags.DEFINE_string('json', 'docs/adder_overhead.json',
                    'Where to write the figures.')
flags.DEFINE_string('measure', '',
                    'Internal: run one measurement in this process.')

CASES = {
    'R2D2, MiniGrid': ('r2d2', 'minigrid:MiniGrid-MultiRoom-N4-S5-v0'),
    'BT, MiniGrid': ('bt', 'minigrid:MiniGrid-MultiRoom-N4-S5-v0'),
    'R2D2, Atari': ('r2d2', 'atari:montezuma_revenge'),
}
ADDERS = ('acme SequenceAdder', 'structured')


def _steps(signature, count: int, episode_length: int):
  """(first timestep, [(action, timestep, extras)]) episodes of random
  contents with the per-step shapes of `signature`."""
  import dm_env  # pylint: disable=g-import-not-at-top
  import numpy as np  # pylint: disable=g-import-not-at-top
  import tree  # pylint: disable=g-import-not-at-top
  rng = np.random.RandomState(0)

  def sample(spec):
    shape, dtype = spec.shape[1:], spec.dtype.as_numpy_dtype
    values = np.asarray(rng.rand(*shape))
    return values < 0.5 if dtype == np.bool_ else (values * 10).astype(dtype)

  episodes = []
  for _ in range(max(1, count // episode_length)):
    first = dm_env.restart(tree.map_structure(sample, signature.observation))
    steps = []
    for t in range(episode_length):
      observation = tree.map_structure(sample, signature.observation)
      reward = sample(signature.reward)
      last = t == episode_length - 1
      timestep = dm_env.TimeStep(
          dm_env.StepType.LAST if last else dm_env.StepType.MID, reward,
          np.asarray(0. if last else 1., signature.discount.dtype.as_numpy_dtype),
          observation)
      steps.append((sample(signature.action), timestep,
                    tree.map_structure(sample, signature.extras)))
    episodes.append((first, steps))
  return episodes


def measure(what: str) -> None:
  """Prints microseconds per step of one adder (`<adder>|<case>`)."""
  from acme.adders import reverb as adders  # pylint: disable=g-import-not-at-top
  import reverb  # pylint: disable=g-import-not-at-top
  from behavior_transfer import experiments  # pylint: disable=g-import-not-at-top
  from behavior_transfer.acting import structured_adder  # pylint: disable=g-import-not-at-top
  adder_name, case = what.split('|')
  agent, environment = CASES[case]
  spec = experiments.from_preset(agent, environment, 10**9,
                                 pretrained='random' if agent == 'bt' else None)
  layout = experiments.make_layout(spec, tempfile.mkdtemp())
  tables = layout.replay()
  table = tables[0]
  # A queue as big as the rate-limited table: the writer is never blocked.
  server = reverb.Server([reverb.Table.queue(
      table.name, 10**6, signature=table.info.signature)])
  client = reverb.Client(f'localhost:{server.port}')
  config = layout.builder.r2d2_config
  args = (client, config.sequence_length, config.replay_period)
  kwargs = dict(priority_fns={table.name: None})
  adder = (adders.SequenceAdder(*args, **kwargs) if adder_name == ADDERS[0]
           else structured_adder.StructuredSequenceAdder(*args, **kwargs))
  episodes = _steps(table.info.signature, FLAGS.steps, FLAGS.episode_length)
  count = 0
  start = time.perf_counter()
  for first, steps in episodes:
    adder.add_first(first)
    for action, timestep, extras in steps:
      adder.add(action, timestep, extras)
      count += 1
  del adder  # Flushes what is in flight, inside the timing.
  elapsed = time.perf_counter() - start
  items = client.server_info()[table.name].current_size
  server.stop()
  print(f'{elapsed / count * 1e6} {items}', flush=True)


HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run_pinned(what: str):
  output = subprocess.run(
      ['taskset', '-c', '0', sys.executable, '-m', 'benchmarks.adder_overhead',
       f'--measure={what}', f'--steps={FLAGS.steps}',
       f'--episode_length={FLAGS.episode_length}'],
      check=True, capture_output=True, text=True, cwd=HERE).stdout
  micros, items = output.strip().splitlines()[-1].split()
  return float(micros), int(items)


def main(_):
  if FLAGS.measure:
    measure(FLAGS.measure)
    return
  samples = {case: {adder: [] for adder in ADDERS} for case in CASES}
  items = {case: {} for case in CASES}
  for round_index in range(FLAGS.rounds):
    for case in CASES:
      for adder in ADDERS:
        micros, items[case][adder] = _run_pinned(f'{adder}|{case}')
        samples[case][adder].append(micros)
        print(f'round {round_index + 1}: {case}, {adder}: {micros:.1f} us '
              f'per step, {items[case][adder]} items', flush=True)
  per_step = {case: {adder: statistics.median(values)
                     for adder, values in by_adder.items()}
              for case, by_adder in samples.items()}
  print(f'\nOne core; median of {FLAGS.rounds} rounds of {FLAGS.steps:,} '
        f'steps in episodes of {FLAGS.episode_length}.')
  print('\n| agent, domain | Acme SequenceAdder (us/step) | structured '
        '(us/step) | Acme / structured | items (both) |\n|---|---:|---:|---:|---|')
  ratios = {}
  for case, by_adder in per_step.items():
    ratios[case] = by_adder[ADDERS[0]] / by_adder[ADDERS[1]]
    print(f'| {case} | {by_adder[ADDERS[0]]:.1f} | {by_adder[ADDERS[1]]:.1f} |'
          f' {ratios[case]:.2f} | {items[case][ADDERS[0]]} / '
          f'{items[case][ADDERS[1]]} |')
  figures.write(FLAGS.json, 'benchmarks.adder_overhead', {
      'steps': FLAGS.steps, 'rounds': FLAGS.rounds,
      'episode_length': FLAGS.episode_length,
      'microseconds_per_step': per_step, 'samples': samples,
      'items': items, 'acme_over_structured': ratios})


if __name__ == '__main__':
  app.run(main)
