r"""Actor node throughput on one core, next to the raw environment's, in one run.

  python -m benchmarks.actor_throughput [--seconds=8] [--rounds=2] [--rows=REGEX]
      [--baseline_dir=/path/to/other/checkout] [--baseline_env=NAME=VALUE,...]

Each measurement runs in its own process pinned to one CPU core (core 0), so
figures are per core and do not disturb each other; measurements alternate
over `--rounds` and the median is reported. An actor node is measured as the
programs build it (`layout.actor(...)`: batched environments, the agent's
actor, one replay adder per environment writing to a Reverb server in the
same process, CSV episode logs), stepping for `--seconds` after a warm-up.

Rows: raw MiniGrid steps/s (gymnasium, random actions), the actor node of
R2D2, BT (Q and a TF pi_p of the same network in one call, flights
and a+) and NGU pre-training
(embedding, RND and k-NN novelty online) at 1 and at `--envs` environments;
the R2D2 node at `--envs` with adders that discard their steps (what replay
writing costs), and with its Reverb server in a process of its own on core 1
(as a program runs its replay node apart from its actors; the other rows
charge the node's core with the server's work too), and that node's action
selection alone (below); Atari env-only steps/s,
the Atari R2D2 actor node (also with its server apart), and that
node's action selection alone (its batched Q-network call on fixed
observations; with env-only it bounds what the node could reach), and both
again with the Q-network acting in bfloat16 (`R2D2Config.acting_dtype`).
Figures also go to --json.
"""

import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from typing import Dict, Mapping, Optional

from absl import app
from absl import flags

from behavior_transfer import tf_runtime
from benchmarks import figures

FLAGS = flags.FLAGS
flags.DEFINE_float('seconds', 8., 'Timed seconds per measurement.')
flags.DEFINE_float('warmup_seconds', 4., 'Untimed seconds before each one.')
flags.DEFINE_integer('rounds', 2, 'Alternating rounds; the median is kept.')
flags.DEFINE_integer('envs', 32, 'Environments per actor node (batched).')
flags.DEFINE_integer('atari_envs', 16,
                     'Environments per Atari actor node (batched).')
flags.DEFINE_string('minigrid', 'MiniGrid-MultiRoom-N2-S4-v0',
                    'MiniGrid level to act in.')
flags.DEFINE_string('game', 'montezuma_revenge', 'Atari game to act in.')
flags.DEFINE_bool('skip_atari', False, 'Measure MiniGrid only.')
flags.DEFINE_string(
    'rows', '',
    'A regular expression: measure only the rows whose names it finds (e.g. '
    '"raw|r2d2 actor node|Atari"); comparisons whose rows are left out are '
    'not printed.')
flags.DEFINE_string('json', 'docs/actor_throughput.json',
                    'Where to write the figures.')
flags.DEFINE_string('measure', '',
                    'Internal: run one measurement in this process.')
flags.DEFINE_string(
    'baseline_dir', '',
    'Another checkout of this repository (e.g. a `git worktree` of the '
    'previous commit): every actor node is also measured on its code, '
    'alternating with this one\'s, and current/baseline ratios printed.')
flags.DEFINE_list(
    'baseline_env', [],
    'NAME=VALUE pairs: every actor node is also measured in processes with '
    'these variables set (on --baseline_dir\'s code if given, else this '
    'checkout\'s), alternating, and current/baseline ratios printed; e.g. '
    'TF_ENABLE_ONEDNN_OPTS=0 measures what oneDNN gives the same code.')

def _report_rate(step_count, seconds: float, warmup: float) -> None:
  """Prints the steps/s of the worker running in the main thread, read from
  `step_count()`, and ends the process."""
  time.sleep(warmup)
  while not step_count():  # Slow starts (traces, loads) do not count.
    time.sleep(0.5)
  steps, start = step_count(), time.time()
  time.sleep(seconds)
  print((step_count() - steps) / (time.time() - start), flush=True)
  os._exit(0)  # The worker runs on; do not wait for it.


def _raw_minigrid(level: str):
  import gymnasium  # pylint: disable=g-import-not-at-top
  import minigrid  # pylint: disable=g-import-not-at-top,unused-import
  import numpy as np  # pylint: disable=g-import-not-at-top
  env = gymnasium.make(level)
  env.reset(seed=0)
  rng = np.random.RandomState(0)
  count = [0]

  def work():
    while True:
      _, _, terminated, truncated, _ = env.step(rng.randint(7))
      if terminated or truncated:
        env.reset()
      count[0] += 1
  return work, lambda: count[0]


def _atari_env(game: str):
  import numpy as np  # pylint: disable=g-import-not-at-top
  from behavior_transfer import environments  # pylint: disable=g-import-not-at-top
  env = environments.make_environment(f'atari:{game}')
  rng = np.random.RandomState(0)
  count = [0]
  num_actions = env.action_spec().num_values

  def work():
    timestep = env.reset()
    while True:
      timestep = env.step(np.int32(rng.randint(num_actions)))
      if timestep.last():
        timestep = env.reset()
      count[0] += 1
  return work, lambda: count[0]


class _DiscardingAdder:
  """An adder that writes nothing: the node minus its replay writing."""

  def add_first(self, timestep):
    del timestep

  def add(self, action, next_timestep, extras=()):
    del action, next_timestep, extras

  def reset(self):
    pass


def _layout(agent: str, environment: str, envs: int, run_dir: str):
  """The layout of the `agent` program with one actor node of `envs`
  environments and no learner demand on replay."""
  from behavior_transfer import experiments  # pylint: disable=g-import-not-at-top
  agent_name = agent.split('-')[0]
  spec = experiments.from_preset(
      agent_name, environment, 10**9,
      pretrained='random' if agent_name == 'bt' else None)
  return experiments.make_layout(experiments.override(
      spec, r2d2=dict(replay_ratio=0., acting_dtype=(
          'bfloat16' if agent.endswith('-bfloat16') else None)),
      program=dict(envs_per_actor=envs, num_actors=1)), run_dir)


def _serve_replay(agent: str, environment: str, envs: int, run_dir: str):
  """Serves the node's replay tables in this process (pinned to core 1 by
  its parent, the measured node) until that parent ends; prints the port."""
  import reverb  # pylint: disable=g-import-not-at-top
  parent = os.getppid()
  server = reverb.Server(_layout(agent, environment, envs, run_dir).replay())
  print(server.port, flush=True)
  while os.getppid() == parent:
    time.sleep(1.)
  os._exit(0)


def _replay_apart(what: str) -> str:
  """Starts `_serve_replay` for `what` in its own process on core 1, as a
  program's replay node runs apart from its actors; its address."""
  server = subprocess.Popen(
      ['taskset', '-c', '1', sys.executable, '-m',
       'benchmarks.actor_throughput', f'--measure=replay:{what}'],
      stdout=subprocess.PIPE, text=True, env=dict(os.environ))
  return f'localhost:{int(server.stdout.readline())}'


def _actor_node(agent: str, environment: str, envs: int, run_dir: str):
  """The actor node the `agent` program builds, with its own replay
  (`agent` 'r2d2-no-replay': R2D2 whose adders discard every step;
  '<agent>-replay-apart': the replay server in its own process on core 1,
  as in a program, instead of in the node's process;
  '<agent>-bfloat16': the agent acting in bfloat16)."""
  from acme.utils import counting  # pylint: disable=g-import-not-at-top
  import reverb  # pylint: disable=g-import-not-at-top
  from acme.tf import utils as tf2_utils  # pylint: disable=g-import-not-at-top
  from behavior_transfer import environments  # pylint: disable=g-import-not-at-top
  from behavior_transfer import networks  # pylint: disable=g-import-not-at-top
  from behavior_transfer.policies import pretrained  # pylint: disable=g-import-not-at-top

  agent_name = agent.split('-')[0]
  layout = _layout(agent, environment, envs, run_dir)
  if agent_name == 'bt':  # pi_p a TF-backed greedy policy of the Q-network.
    spec = layout.environment_spec
    domain = environments.parse(environment).domain
    pi_network = networks.make_q_network(domain, spec)
    tf2_utils.create_variables(pi_network, [spec.observations])
    layout.builder._pretrained_factory = lambda spec: (  # pylint: disable=protected-access
        pretrained.GreedyNetworkPolicy(pi_network, spec.actions.num_values))
  if agent == 'r2d2-no-replay':
    layout.builder.make_adder = lambda replay: _DiscardingAdder()
    layout.builder.make_adders = lambda replay, count: [
        _DiscardingAdder() for _ in range(count)]
  server = None
  if agent.endswith('-replay-apart'):
    address = _replay_apart(f'{agent}:{envs}:{environment}')
  else:
    server = reverb.Server(layout.replay())
    address = f'localhost:{server.port}'
  loop = layout.actor(reverb.Client(address), None, counting.Counter(), 0)
  loop.replay_server = server  # Lives as long as the loop.
  return loop.run, lambda: loop.steps


def _action_selection(agent: str, environment: str, envs: int, run_dir: str):
  """The node's actor choosing actions for its environments' first
  observations again and again: its batched Q-network call and what wraps it,
  without stepping, replay writing or logging."""
  run, _ = _actor_node(agent, environment, envs, run_dir)
  loop = run.__self__
  loop.run(num_steps=envs)  # One step of every environment: real inputs.
  actor = loop._actor  # pylint: disable=protected-access
  observations = [t.observation for t in loop._timesteps]  # pylint: disable=protected-access
  count = [0]

  def work():
    while True:
      actor.select_actions(observations)
      count[0] += envs
  return work, lambda: count[0]


def measure(what: str) -> None:
  """One measurement in this (pinned) process; prints steps/s. The worker
  runs in the main thread (TF functions restored from a SavedModel failed
  when first called from another thread under absl's app.run)."""
  kind, _, rest = what.partition(':')
  run_dir = tempfile.mkdtemp()
  if kind == 'replay':
    agent, envs, environment = rest.split(':', 2)
    _serve_replay(agent, environment, int(envs), run_dir)
  if kind == 'raw':
    work, count = _raw_minigrid(rest)
  elif kind == 'atari_env':
    work, count = _atari_env(rest)
  else:  # node|select:<agent>:<envs>:<environment>
    agent, envs, environment = rest.split(':', 2)
    make = _actor_node if kind == 'node' else _action_selection
    work, count = make(agent, environment, int(envs), run_dir)
  threading.Thread(target=_report_rate, daemon=True,
                   args=(count, FLAGS.seconds, FLAGS.warmup_seconds)).start()
  work()


HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _baseline_environment() -> Dict[str, str]:
  """--baseline_env as a dict; refuses an entry without a name and '='."""
  pairs = [entry.partition('=') for entry in FLAGS.baseline_env]
  malformed = [f'{name}{equals}{value}' for name, equals, value in pairs
               if not equals or not name]
  if malformed:
    raise app.UsageError(f'--baseline_env takes NAME=VALUE pairs; got '
                         f'{", ".join(malformed)}.')
  return {name: value for name, _, value in pairs}


def _measurable(what: str, root: str) -> bool:
  """Whether the benchmark of the checkout `root` measures `what` as this one
  does (older checkouts put every replay server in the node's process, and
  older still did not time action selection alone)."""
  kind, agent = what.split(':')[:2]
  needs = ('-replay-apart' if agent.endswith('-replay-apart') else
           'def _action_selection' if kind == 'select' else '')
  with open(os.path.join(root, 'benchmarks', 'actor_throughput.py')) as f:
    return needs in f.read()


def run_pinned(what: str, root: str = HERE,
               extra_env: Optional[Mapping[str, str]] = None) -> float:
  """`measure(what)` in a new process on core 0, by the benchmark and code of
  the checkout `root` (this one by default), imported as behavior_transfer
  through a symlink placed ahead of any installed copy, with `extra_env`
  set on top."""
  root = os.path.abspath(root)
  env = (dict(os.environ) if root == HERE
         else tf_runtime.for_another_checkout(os.environ))
  env.update(extra_env or {})
  with tempfile.TemporaryDirectory() as shim:
    os.symlink(root, os.path.join(shim, 'behavior_transfer'))
    env['PYTHONPATH'] = os.pathsep.join([shim, root])
    output = subprocess.run(
        ['taskset', '-c', '0', sys.executable, '-m',
         'benchmarks.actor_throughput', f'--measure={what}',
         f'--seconds={FLAGS.seconds}',
         f'--warmup_seconds={FLAGS.warmup_seconds}'],
        check=True, capture_output=True, text=True, env=env,
        cwd=root).stdout
  return float(output.strip().splitlines()[-1])


def _writing_micros(rates) -> float:
  """What replay writing adds to an environment step of the R2D2 node."""
  with_writing = rates[f'r2d2 actor node, {FLAGS.envs} env']
  without = rates[f'r2d2 actor node, {FLAGS.envs} env, no replay writing']
  return 1e6 / with_writing - 1e6 / without


def main(_):
  if FLAGS.measure:
    measure(FLAGS.measure)

  minigrid = f'minigrid:{FLAGS.minigrid}'
  atari = f'atari:{FLAGS.game}'
  wanted = {'raw MiniGrid env (gymnasium, random actions)': f'raw:{FLAGS.minigrid}'}
  for agent in ('r2d2', 'bt', 'ngu'):
    for envs in (1, FLAGS.envs):
      wanted[f'{agent} actor node, {envs} env'] = f'node:{agent}:{envs}:{minigrid}'
  wanted[f'r2d2 actor node, {FLAGS.envs} env, no replay writing'] = (
      f'node:r2d2-no-replay:{FLAGS.envs}:{minigrid}')
  wanted[f'r2d2 actor node, {FLAGS.envs} env, replay server apart'] = (
      f'node:r2d2-replay-apart:{FLAGS.envs}:{minigrid}')
  wanted[f'r2d2 action selection alone, {FLAGS.envs} env'] = (
      f'select:r2d2:{FLAGS.envs}:{minigrid}')
  if not FLAGS.skip_atari:
    wanted['Atari env only (random actions)'] = f'atari_env:{FLAGS.game}'
    for envs in (1, FLAGS.atari_envs):
      wanted[f'Atari r2d2 actor node, {envs} env'] = f'node:r2d2:{envs}:{atari}'
    wanted[f'Atari r2d2 action selection alone, {FLAGS.atari_envs} env'] = (
        f'select:r2d2:{FLAGS.atari_envs}:{atari}')
    wanted[f'Atari r2d2 actor node, {FLAGS.atari_envs} env, replay server '
           'apart'] = f'node:r2d2-replay-apart:{FLAGS.atari_envs}:{atari}'
    # The node acting in bfloat16 (`R2D2Config.acting_dtype`).
    wanted[f'Atari r2d2 actor node, {FLAGS.atari_envs} env, bfloat16 acting'] = (
        f'node:r2d2-bfloat16:{FLAGS.atari_envs}:{atari}')
    wanted[f'Atari r2d2 action selection alone, {FLAGS.atari_envs} env, '
           'bfloat16 acting'] = f'select:r2d2-bfloat16:{FLAGS.atari_envs}:{atari}'

  if FLAGS.rows:
    wanted = {name: what for name, what in wanted.items()
              if re.search(FLAGS.rows, name)}
  samples = {name: [] for name in wanted}
  baseline_env = _baseline_environment()
  baseline_root = FLAGS.baseline_dir or HERE
  baseline = {name: [] for name, what in wanted.items()
              if (FLAGS.baseline_dir or baseline_env) and
              what.startswith(('node:', 'select:')) and
              _measurable(what, baseline_root)}
  for round_index in range(FLAGS.rounds):
    for name, what in wanted.items():
      samples[name].append(run_pinned(what))
      print(f'round {round_index + 1}: {name}: {samples[name][-1]:,.0f} '
            'steps/s', flush=True)
      if name in baseline:
        baseline[name].append(run_pinned(what, baseline_root, baseline_env))
        print(f'round {round_index + 1}: {name} (baseline): '
              f'{baseline[name][-1]:,.0f} steps/s', flush=True)
  rates = {name: statistics.median(values) for name, values in samples.items()}
  after_before = {name: rates[name] / statistics.median(values)
                  for name, values in baseline.items()}

  rows = []
  for name, rate in rates.items():
    base_name = ('Atari env only (random actions)' if name.startswith('Atari')
                 else 'raw MiniGrid env (gymnasium, random actions)')
    ratio = (f'{rate / rates[base_name]:.2f} of {base_name.split(" (")[0]}'
             if base_name in rates else '')
    rows.append((name, rate, ratio))
  comparisons = {}

  def compare(name: str, numerator: str, denominator: str) -> None:
    if numerator in rates and denominator in rates:
      comparisons[name] = rates[numerator] / rates[denominator]

  for envs in (1, FLAGS.envs):
    r2d2 = f'r2d2 actor node, {envs} env'
    compare(f'BT / R2D2 step time, {envs} env', r2d2,
            f'bt actor node, {envs} env')
    compare(f'NGU / R2D2 actor steps/s, {envs} env',
            f'ngu actor node, {envs} env', r2d2)
  env_only = 'Atari env only (random actions)'
  selection = f'Atari r2d2 action selection alone, {FLAGS.atari_envs} env'
  if env_only in rates and selection in rates:
    # Stepping and choosing actions, nothing else: the most an Atari node
    # could reach, as a fraction of env-only.
    comparisons[f'Atari node ceiling (env + action selection, '
                f'{FLAGS.atari_envs} env) / env-only'] = 1. / (
                    1. + rates[env_only] / rates[selection])
  compare(f'Atari node, bfloat16 / float32 acting, {FLAGS.atari_envs} env',
          f'Atari r2d2 actor node, {FLAGS.atari_envs} env, bfloat16 acting',
          f'Atari r2d2 actor node, {FLAGS.atari_envs} env')
  compare(f'R2D2 node with / without replay writing, {FLAGS.envs} env',
          f'r2d2 actor node, {FLAGS.envs} env',
          f'r2d2 actor node, {FLAGS.envs} env, no replay writing')

  print(f'\nOne core each; median of {FLAGS.rounds} rounds of '
        f'{FLAGS.seconds:.0f} s; MiniGrid level {FLAGS.minigrid}.')
  print('\n| measurement | steps/s | ratio |\n|---|---:|---|')
  for name, rate, ratio in rows:
    print(f'| {name} | {rate:,.0f} | {ratio} |')
  if comparisons:
    print('\n| comparison | ratio |\n|---|---:|')
  for name, value in comparisons.items():
    print(f'| {name} | {value:.2f} |')
  writing = ({'current': _writing_micros(rates)}
             if any(name.startswith('R2D2 node with / without')
                    for name in comparisons) else {})
  if after_before:
    described = ' '.join([FLAGS.baseline_dir, *FLAGS.baseline_env]).strip()
    print(f'\n| measurement | current / baseline ({described}) |\n'
          '|---|---:|')
    for name, value in after_before.items():
      print(f'| {name} | {value:.2f} |')
    if writing:
      writing['baseline'] = _writing_micros(
          {name: statistics.median(values)
           for name, values in baseline.items()})
  if writing:
    print(f'\nReplay writing per environment step, R2D2 node at {FLAGS.envs} '
          'env (time per step with writing minus without):')
  for code, micros in writing.items():
    print(f'  {code}: {micros:.1f} us')
  if 'baseline' in writing:
    print(f'  baseline / current: {writing["baseline"] / writing["current"]:.2f}')
  figures.write(FLAGS.json, 'benchmarks.actor_throughput', {
      'seconds': FLAGS.seconds, 'rounds': FLAGS.rounds,
      'steps_per_second': rates, 'samples': samples,
      'ratios': {name: ratio for name, _, ratio in rows},
      'comparisons': comparisons,
      'replay_writing_microseconds_per_step': writing,
      **({'baseline_dir': FLAGS.baseline_dir, 'baseline_env': baseline_env,
          'baseline_samples': baseline, 'current_over_baseline': after_before}
         if after_before else {})})


if __name__ == '__main__':
  app.run(main)
