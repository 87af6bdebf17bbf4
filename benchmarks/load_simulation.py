r"""Load simulation: synthetic actors against replay and a cacher, on localhost.

  python -m benchmarks.load_simulation --environment=atari:pong \
      --actors=1,2,4,8 --seconds=20 [--content=random] [--json=...]

For each number of actors, runs `studies.load_simulation.simulate` (synthetic
actors writing the preset's replay items through the actors' own adder and
fetching variables of its Q-network's size from a cacher; a sampler drawing
the learner's batches) and prints the measurements, then the knee: the first
count where total steps/s falls below 80% of linear scaling. On this 2-core
machine every process shares two cores, so the knee here is the machine's;
on a real replay host it is replay's.

Then it plans, from the per-core capacities measured, the replay cores and
the cachers of larger programs (`--plan`: actors x environments per actor @
one actor node's measured steps/s; by default the paper's 256 single-
environment actors and 16 actors of 16 environments, at the Atari actor
node rates of docs/results.md). Actors of several environments send each
step once per item that holds it (`R2D2Config.stored_steps_per_step`); the
synthetic actors, of one environment each, send it once.
"""

import json
import os

from absl import app
from absl import flags

from behavior_transfer import experiments
from behavior_transfer.studies import load_simulation

FLAGS = flags.FLAGS
flags.DEFINE_string('environment', 'atari:pong', 'Whose replay signature and '
                    'network size the synthetic actors use.')
flags.DEFINE_string('preset', 'standard', 'Preset of that domain.')
flags.DEFINE_list('actors', ['1', '2', '4'], 'Numbers of synthetic actors, at '
                  f'most {load_simulation.MAX_ACTORS}.')
flags.DEFINE_float('seconds', 20., 'Seconds each load runs.')
flags.DEFINE_integer('fetch_period', None, 'Steps between variable fetches '
                     '(default: the preset\'s variable_update_period).')
flags.DEFINE_enum('content', 'random', ['random', 'zeros'], 'Observation '
                  'content: random (incompressible) or zeros.')
flags.DEFINE_string('json', 'docs/load_simulation.json', 'Where the '
                    'measurements go.')
flags.DEFINE_list('plan', ['256x1@324', '16x16@1117'], 'Programs to plan '
                  'from the measurements: <actors>x<environments per actor>@'
                  '<one actor node\'s environment steps/s>. The defaults: '
                  'the Atari node of docs/results.md, 324 steps/s with one '
                  'environment, and 997 with 16 x 1.12, what one replay '
                  'writer per actor gained it.')


def main(_):
  # Bad --plan values are refused before minutes of measuring, not after.
  config = experiments.from_preset('r2d2', FLAGS.environment, 1,
                                  FLAGS.preset).config
  fetch_period = FLAGS.fetch_period or config.variable_update_period
  try:
    targets = [load_simulation.PlanTarget.parse(
        spec, fetch_period, config.stored_steps_per_step)
               for spec in FLAGS.plan]
  except ValueError as e:
    raise app.UsageError(str(e)) from None
  loads = []
  for count in [int(a) for a in FLAGS.actors]:
    loads.append(load_simulation.simulate(load_simulation.LoadSettings(
        FLAGS.environment, FLAGS.preset, count, FLAGS.seconds,
        FLAGS.fetch_period, FLAGS.content)))
    print(f'{count} actors done', flush=True)
  knee = load_simulation.knee(loads)
  print('\n'.join(load_simulation.load_table(loads)))
  print(f'\nknee: {knee if knee else "none up to " + FLAGS.actors[-1]} '
        'actors', flush=True)
  capacity = load_simulation.measured_capacity(loads)
  plans = [load_simulation.capacity_plan(capacity, target)
           for target in targets]
  replay_rate = capacity['replay_bytes_per_second_per_core'] / 1e6
  print(f'\nPlanned from {replay_rate:,.0f} MB/s per replay core and '
        f'{capacity["fetch_bytes_per_second_per_core"] / 1e6:,.0f} MB/s per '
        f'cacher core (fetch every {fetch_period} batched steps):')
  print('\n'.join(load_simulation.plan_table(plans)), flush=True)
  os.makedirs(os.path.dirname(FLAGS.json) or '.', exist_ok=True)
  with open(FLAGS.json, 'w') as f:
    json.dump({'environment': FLAGS.environment, 'preset': FLAGS.preset,
               'content': FLAGS.content, 'knee': knee, 'loads': loads,
               'capacity': capacity, 'plans': plans}, f, indent=1)


if __name__ == '__main__':
  app.run(main)
