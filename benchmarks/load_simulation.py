r"""Load simulation: synthetic actors against replay and a cacher, on localhost.

  python -m benchmarks.load_simulation --environment=atari:Pong \
      --actors=1,2,4,8 --seconds=20 [--content=random] [--json=...]

For each number of actors, runs `studies.load_simulation.simulate` (synthetic
actors writing the preset's replay items through Acme's SequenceAdder and
fetching variables of its Q-network's size from a cacher; a sampler drawing
the learner's batches) and prints the measurements, then the knee: the first
count where total steps/s falls below 80% of linear scaling. On this 2-core
machine every process shares two cores, so the knee here is the machine's;
on a real replay host it is replay's.
"""

import json
import os

from absl import app
from absl import flags

from behavior_transfer.studies import load_simulation

FLAGS = flags.FLAGS
flags.DEFINE_string('environment', 'atari:Pong', 'Whose replay signature and '
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


def main(_):
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
  os.makedirs(os.path.dirname(FLAGS.json) or '.', exist_ok=True)
  with open(FLAGS.json, 'w') as f:
    json.dump({'environment': FLAGS.environment, 'preset': FLAGS.preset,
               'content': FLAGS.content, 'knee': knee, 'loads': loads}, f,
              indent=1)


if __name__ == '__main__':
  app.run(main)
