"""A load simulation of many actors against replay and variable serving.

Synthetic actors have no environment and no network. Each writes steps of
the preset's replay signature (observation, action, reward, discount, LSTM
state) through the actors' own adder (`acting.structured_adder`), and every
`fetch_period` steps fetches variables of the preset's Q-network size from a
cacher. They run against:
* a replay process: a Reverb server with the preset's prioritised table
  (its rate limiter relaxed to a minimum size, so that capacity, not the
  replay ratio, limits);
* a cacher process: this project's `VariableCache` served over Courier, as
  the program's cacher node is, over a stand-in learner holding variables of
  the preset's shapes;
* a sampler process: the learner's dataset, sampling as fast as it can.
Every process is on this machine (the simulation refuses other hosts), and
counts and times are bounded. Per number of actors it measures steps,
items and bytes per second into replay and per replay core, fetches per
second, their latency and bytes per second per cacher core, and the
sampler's batches per second while loaded. `knee` finds where adding actors
stops adding throughput, and `capacity_plan` turns the per-core capacities
measured into the replay cores and cachers a larger program needs.
"""

import dataclasses
import math
import multiprocessing
import os
import time
from typing import Any, Callable, Dict, List, Optional, Sequence

import numpy as np

MAX_ACTORS = 64
MAX_SECONDS = 300.
LOCAL_HOSTS = ('localhost', '127.0.0.1')
_START_SECONDS = 600.  # How long processes may take to come up.


@dataclasses.dataclass
class LoadSettings:
  """One simulated load."""
  environment: str  # e.g. 'atari:pong' or 'minigrid:MiniGrid-Empty-5x5-v0'.
  preset: str = 'standard'
  actors: int = 1
  seconds: float = 10.
  # Variable fetches every this many steps of an actor (the R2D2 config's
  # variable_update_period when None).
  fetch_period: Optional[int] = None
  # 'random' observations do not compress (the worst case); 'zeros' do.
  content: str = 'random'
  host: str = 'localhost'

  def __post_init__(self):
    if self.host not in LOCAL_HOSTS:
      raise ValueError(f'The load simulation runs on this machine only; '
                       f'{self.host!r} is not one of {LOCAL_HOSTS}.')
    if not 1 <= self.actors <= MAX_ACTORS:
      raise ValueError(f'Between 1 and {MAX_ACTORS} synthetic actors, got '
                       f'{self.actors}.')
    if not 0 < self.seconds <= MAX_SECONDS:
      raise ValueError(f'A load runs for at most {MAX_SECONDS:g} s, got '
                       f'{self.seconds}.')
    if self.content not in ('random', 'zeros'):
      raise ValueError(f'content is random or zeros, not {self.content!r}.')


def _preset_pieces(settings: LoadSettings):
  """(environment spec, R2D2 config, replay table signature, network
  variable shapes) of the settings' preset; imported here, in each process."""
  from behavior_transfer import environments  # pylint: disable=g-import-not-at-top
  from behavior_transfer import experiments  # pylint: disable=g-import-not-at-top
  spec = experiments.from_preset('r2d2', settings.environment, 1,
                                 settings.preset)
  builder = experiments.make_builder(spec)
  environment = environments.make_environment(settings.environment, 'game')
  environment_spec = builder.make_environment_spec(environment)
  environment.close()
  network = builder.make_network(environment_spec)
  shapes = [tuple(v.shape) for v in network.variables]
  return (environment_spec, builder.r2d2_config,
          builder.replay_signature(environment_spec), shapes)


def _cpu_seconds(pid: int) -> float:
  """User + system CPU seconds of process `pid` so far (Linux)."""
  with open(f'/proc/{pid}/stat') as f:
    fields = f.read().rsplit(')', 1)[1].split()
  return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def _replay_process(settings, port_queue, shutdown):
  import reverb  # pylint: disable=g-import-not-at-top
  _, config, signature, _ = _preset_pieces(settings)
  table = reverb.Table(
      name='priority_table',
      sampler=reverb.selectors.Prioritized(config.priority_exponent),
      remover=reverb.selectors.Fifo(), max_size=config.max_replay_size,
      rate_limiter=reverb.rate_limiters.MinSize(1), signature=signature)
  server = reverb.Server([table])
  port_queue.put(server.port)
  shutdown.wait()
  server.stop()


def _cacher_process(settings, port_queue, shutdown):
  import courier  # pylint: disable=g-import-not-at-top
  from behavior_transfer.distributed import variable_cache  # pylint: disable=g-import-not-at-top
  _, _, _, shapes = _preset_pieces(settings)
  cache = variable_cache.VariableCache(variable_cache.FixedVariables(
      [np.random.randn(*shape).astype(np.float32) for shape in shapes]))
  server = courier.Server()
  server.Bind('get_variables', cache.get_variables)
  server.Start()
  port_queue.put(server.port)
  shutdown.wait()
  server.Stop()


def _sampler_process(settings, replay_port, ready, start, stop, results):
  from acme.datasets import reverb as datasets  # pylint: disable=g-import-not-at-top
  _, config, _, _ = _preset_pieces(settings)
  dataset = iter(datasets.make_reverb_dataset(
      server_address=f'localhost:{replay_port}',
      batch_size=config.batch_size, prefetch_size=1))
  ready.put(True)
  start.wait()
  began, batches = time.time(), 0
  while not stop.is_set():
    next(dataset)
    batches += 1
  results.put({'sampler_batches_per_second': batches / (time.time() - began)})


def _actor_process(settings, replay_port, cacher_port, ready, start, stop,
                   results):
  """One synthetic actor: writes steps through the actors' adder and fetches
  variables every fetch_period steps; reports its counts."""
  import courier  # pylint: disable=g-import-not-at-top
  from behavior_transfer.acting import structured_adder  # pylint: disable=g-import-not-at-top
  import dm_env  # pylint: disable=g-import-not-at-top
  import reverb  # pylint: disable=g-import-not-at-top
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  import tree  # pylint: disable=g-import-not-at-top
  environment_spec, config, signature, _ = _preset_pieces(settings)
  rng = np.random.RandomState(os.getpid())

  def sample(spec):
    if settings.content == 'zeros':
      return np.zeros(spec.shape, spec.dtype.as_numpy_dtype)
    if spec.dtype.is_integer:
      return np.asarray(rng.randint(0, 255, size=spec.shape)).astype(
          spec.dtype.as_numpy_dtype)
    return np.asarray(rng.randn(*spec.shape)).astype(
        spec.dtype.as_numpy_dtype)
  # The signature is of sequences: [sequence_length, ...] per field.
  step_spec = tree.map_structure(
      lambda s: tf.TensorSpec(s.shape[1:], s.dtype), signature)
  observations = [tree.map_structure(sample, step_spec.observation)
                  for _ in range(8)]
  extras = {'core_state': tree.map_structure(
      sample, step_spec.extras['core_state'])}
  step_bytes = sum(int(np.prod(s.shape)) * s.dtype.size
                   for s in tree.flatten(step_spec))
  client = reverb.Client(f'localhost:{replay_port}')
  adder = structured_adder.make_sequence_adder(
      client, config.sequence_length, config.replay_period)
  cacher = courier.Client(f'localhost:{cacher_port}')
  cacher.get_variables(['policy'])  # Connected and warm.
  period = settings.fetch_period or config.variable_update_period
  episode_length = 400
  ready.put(True)
  start.wait()
  began, steps, latencies, fetched_bytes = time.time(), 0, [], 0
  while not stop.is_set():
    if steps % episode_length == 0:
      adder.add_first(dm_env.restart(observations[0]))
    observation = observations[steps % len(observations)]
    last = steps % episode_length == episode_length - 1
    timestep = dm_env.TimeStep(
        dm_env.StepType.LAST if last else dm_env.StepType.MID,
        np.float32(0.), np.float32(0. if last else 1.), observation)
    adder.add(np.int32(steps % environment_spec.actions.num_values),
              timestep, extras)
    steps += 1
    if steps % period == 0:
      fetch_began = time.time()
      variables = cacher.get_variables(['policy'])
      latencies.append(time.time() - fetch_began)
      fetched_bytes += sum(v.nbytes for v in tree.flatten(variables))
  seconds = time.time() - began
  results.put({'steps': steps, 'seconds': seconds, 'step_bytes': step_bytes,
               'fetches': len(latencies), 'latencies': latencies,
               'fetched_bytes': fetched_bytes,
               'items': max(0, (steps - config.sequence_length) //
                            config.replay_period + 1)})


def _get(queue, processes, timeout: float = _START_SECONDS):
  """The next value from `queue`; raises as soon as one of `processes`
  has died instead of waiting out the timeout."""
  deadline = time.time() + timeout
  while True:
    try:
      return queue.get(timeout=1.)
    except Exception:  # pylint: disable=broad-except  (queue.Empty)
      dead = [p for p in processes if p.exitcode not in (None, 0)]
      if dead:
        raise RuntimeError(f'A load simulation process failed (exit code '
                           f'{dead[0].exitcode}); its error is above.')
      if time.time() > deadline:
        raise TimeoutError('The load simulation\'s processes did not '
                           f'answer within {timeout:g} s.')


def simulate(settings: LoadSettings) -> Dict[str, Any]:
  """Runs one load; returns its measurements (see the module docstring)."""
  context = multiprocessing.get_context('spawn')
  # Actors and sampler stop on `stop`; the servers only on `shutdown`, once
  # every report is in (a stopped server leaves its clients waiting).
  stop, start, shutdown = context.Event(), context.Event(), context.Event()
  ports, ready, results = context.Queue(), context.Queue(), context.Queue()
  replay = context.Process(target=_replay_process,
                           args=(settings, ports, shutdown), daemon=True)
  replay.start()
  replay_port = _get(ports, [replay])
  cacher = context.Process(target=_cacher_process,
                           args=(settings, ports, shutdown), daemon=True)
  cacher.start()
  cacher_port = _get(ports, [replay, cacher])
  actors = [context.Process(
      target=_actor_process,
      args=(settings, replay_port, cacher_port, ready, start, stop, results),
      daemon=True) for _ in range(settings.actors)]
  sampler = context.Process(
      target=_sampler_process,
      args=(settings, replay_port, ready, start, stop, results), daemon=True)
  processes = [replay, cacher, sampler] + actors
  try:
    for process in actors + [sampler]:
      process.start()
    for _ in range(settings.actors + 1):
      _get(ready, processes)
    cpu = {name: _cpu_seconds(p.pid)
           for name, p in (('replay', replay), ('cacher', cacher))}
    start.set()
    began = time.time()
    time.sleep(settings.seconds)
    stop.set()
    reports = [_get(results, processes)
               for _ in range(settings.actors + 1)]
    wall = time.time() - began
    cores = {name: (_cpu_seconds(p.pid) - cpu[name]) / wall
             for name, p in (('replay', replay), ('cacher', cacher))}
  finally:
    stop.set()
    shutdown.set()
    for process in processes:
      process.join(timeout=30)
      if process.is_alive():
        process.kill()
  return summarise(settings, reports, cores)


def summarise(settings: LoadSettings, reports: Sequence[Dict[str, Any]],
              cores: Dict[str, float]) -> Dict[str, Any]:
  """One load's figures from the actors' and the sampler's reports and the
  replay and cacher processes' CPU use (cores)."""
  actors = [r for r in reports if 'steps' in r]
  sampler = [r for r in reports if 'sampler_batches_per_second' in r]
  seconds = float(np.mean([r['seconds'] for r in actors]))
  steps = sum(r['steps'] for r in actors)
  latencies = [latency for r in actors for latency in r['latencies']]
  step_bytes = actors[0]['step_bytes']
  steps_per_second = steps / seconds
  fetch_bytes_per_second = sum(r['fetched_bytes'] for r in actors) / seconds
  return {
      'actors': settings.actors, 'seconds': round(seconds, 2),
      'content': settings.content,
      'steps_per_second': steps_per_second,
      'steps_per_second_per_actor': steps_per_second / settings.actors,
      'items_per_second': sum(r['items'] for r in actors) / seconds,
      'replay_bytes_per_second': steps_per_second * step_bytes,
      'replay_cores': cores['replay'],
      'replay_bytes_per_second_per_core':
          steps_per_second * step_bytes / max(cores['replay'], 1e-3),
      'fetches_per_second': len(latencies) / seconds,
      'fetch_latency_ms_p50': 1e3 * float(np.median(latencies))
                              if latencies else float('nan'),
      'fetch_latency_ms_p95': 1e3 * float(np.percentile(latencies, 95))
                              if latencies else float('nan'),
      'fetch_bytes_per_second': fetch_bytes_per_second,
      'cacher_cores': cores['cacher'],
      'fetch_bytes_per_second_per_core':
          fetch_bytes_per_second / max(cores['cacher'], 1e-3),
      'sampler_batches_per_second':
          sampler[0]['sampler_batches_per_second'] if sampler else 0.,
  }


def knee(loads: Sequence[Dict[str, Any]], efficiency: float = 0.8
         ) -> Optional[int]:
  """The first number of actors at which total throughput falls below
  `efficiency` x linear scaling from the smallest load (None: it scaled
  throughout)."""
  loads = sorted(loads, key=lambda load: load['actors'])
  if not loads:
    return None
  base = loads[0]['steps_per_second_per_actor']
  for load in loads[1:]:
    if load['steps_per_second'] < efficiency * base * load['actors']:
      return load['actors']
  return None


def load_table(loads: Sequence[Dict[str, Any]]) -> List[str]:
  """The measurements as markdown rows."""
  lines = ['| actors | steps/s | steps/s per actor | replay MB/s | replay '
           'cores | MB/s per replay core | fetches/s | fetch ms p50 / p95 | '
           'fetch MB/s | cacher cores | sampler batches/s |',
           '|' + '---:|' * 11]
  for load in loads:
    lines.append(
        f'| {load["actors"]} | {load["steps_per_second"]:,.0f} | '
        f'{load["steps_per_second_per_actor"]:,.0f} | '
        f'{load["replay_bytes_per_second"] / 1e6:,.1f} | '
        f'{load["replay_cores"]:.2f} | '
        f'{load["replay_bytes_per_second_per_core"] / 1e6:,.1f} | '
        f'{load["fetches_per_second"]:.1f} | '
        f'{load["fetch_latency_ms_p50"]:.1f} / '
        f'{load["fetch_latency_ms_p95"]:.1f} | '
        f'{load["fetch_bytes_per_second"] / 1e6:,.1f} | '
        f'{load["cacher_cores"]:.2f} | '
        f'{load["sampler_batches_per_second"]:.1f} |')
  return lines


# Planning from the measurements. A node is planned at this fraction of its
# cores (the rest absorbs bursts, compression and the machine's own work).
PLAN_UTILISATION = 0.7
# What leaves one machine per second per vCPU: Compute Engine's N1 egress
# cap, 2 Gbps per vCPU (up to 32 Gbps). An assumption for the user to check,
# not measured here (this machine has no such network).
EGRESS_BYTES_PER_VCPU = 2e9 / 8


@dataclasses.dataclass(frozen=True)
class PlanTarget:
  """A program to plan: `actors` nodes of `envs_per_actor` environments,
  each node stepping `node_steps_per_second` environment steps per second
  (measured: docs/results.md, "Actor throughput"), fetching variables
  every `fetch_period` of its batched steps, and sending replay each step
  `stored_steps_per_step` times (`R2D2Config.stored_steps_per_step`: more
  than once where its environments share one writer)."""
  name: str
  actors: int
  envs_per_actor: int
  node_steps_per_second: float
  fetch_period: int
  stored_steps_per_step: float = 1.

  @classmethod
  def parse(cls, spec: str, fetch_period: int,
            stored_steps_per_step: Callable[[int], float] = lambda envs: 1.
            ) -> 'PlanTarget':
    """'<actors>x<environments per actor>@<one node's steps/s>', e.g.
    '256x1@324', with `stored_steps_per_step(environments per actor)`; a
    malformed or non-positive spec raises ValueError."""
    try:
      shape, rate = spec.split('@')
      actors, envs = (int(n) for n in shape.split('x'))
      steps_per_second = float(rate)
    except ValueError:
      steps_per_second = actors = envs = 0
    if min(actors, envs, steps_per_second) <= 0:
      raise ValueError('--plan takes <actors>x<envs>@<steps/s> with positive '
                       f'numbers, e.g. 256x1@324; got {spec!r}.')
    return cls(f'{actors} x {envs}', actors, envs, steps_per_second,
               fetch_period, stored_steps_per_step(envs))


def measured_capacity(loads: Sequence[Dict[str, Any]]) -> Dict[str, float]:
  """What one replay core and one cacher core carried, from the load in
  which each process was busiest (its per-core figure is then least
  diluted by idle waiting), with the bytes of one step and one fetch."""
  if not loads:
    raise ValueError('No measured load to plan from.')
  replay = max(loads, key=lambda load: load['replay_cores'])
  cacher = max(loads, key=lambda load: load['cacher_cores'])
  if not cacher['fetches_per_second']:
    raise ValueError('No load fetched variables: run longer or with a '
                     'shorter fetch period.')
  return {
      'replay_bytes_per_second_per_core':
          replay['replay_bytes_per_second_per_core'],
      'replay_measured_at_actors': replay['actors'],
      'fetch_bytes_per_second_per_core':
          cacher['fetch_bytes_per_second_per_core'],
      'cacher_measured_at_actors': cacher['actors'],
      'step_bytes': replay['replay_bytes_per_second'] /
                    replay['steps_per_second'],
      'fetch_bytes': cacher['fetch_bytes_per_second'] /
                     cacher['fetches_per_second'],
  }


def capacity_plan(capacity: Dict[str, float], target: PlanTarget,
                  cacher_vcpus: int = 2) -> Dict[str, Any]:
  """Replay cores and cachers `target` needs at the measured capacities:
  replay takes every environment step's bytes (as often as the target's
  actors send each step; the synthetic actors, of one environment each,
  send it once); each cacher serves its
  actors' fetches within its cores (at PLAN_UTILISATION) and within its
  machine's egress (EGRESS_BYTES_PER_VCPU x `cacher_vcpus`)."""
  steps_per_second = target.actors * target.node_steps_per_second
  replay_bytes = (steps_per_second * capacity['step_bytes'] *
                  target.stored_steps_per_step)
  replay_cores = replay_bytes / capacity['replay_bytes_per_second_per_core']
  fetches_per_second = (target.actors * target.node_steps_per_second /
                        target.envs_per_actor / target.fetch_period)
  fetch_bytes = fetches_per_second * capacity['fetch_bytes']
  cacher_cores = fetch_bytes / capacity['fetch_bytes_per_second_per_core']
  by_cores = math.ceil(cacher_cores / (PLAN_UTILISATION * cacher_vcpus))
  by_egress = math.ceil(fetch_bytes / (EGRESS_BYTES_PER_VCPU * cacher_vcpus))
  cachers = max(1, by_cores, by_egress)
  return {
      'target': dataclasses.asdict(target),
      'environment_steps_per_second': steps_per_second,
      'replay_bytes_per_second': replay_bytes,
      'replay_cores': replay_cores,
      'replay_vcpus': math.ceil(replay_cores / PLAN_UTILISATION),
      'fetches_per_second': fetches_per_second,
      'fetch_bytes_per_second': fetch_bytes,
      'cacher_cores': cacher_cores,
      'cachers': cachers,
      'cachers_limited_by': 'egress' if by_egress > by_cores else 'cores',
      'cacher_vcpus': cacher_vcpus,
      'actors_per_cacher': math.ceil(target.actors / cachers),
  }


def plan_table(plans: Sequence[Dict[str, Any]]) -> List[str]:
  """The plans as markdown rows."""
  lines = ['| program | env steps/s | replay MB/s | replay cores (vCPUs at '
           f'{PLAN_UTILISATION:.0%}) | fetches/s | fetch MB/s | cacher cores '
           '| cachers (limited by) | actors per cacher |',
           '|---|' + '---:|' * 8]
  for plan in plans:
    lines.append(
        f'| {plan["target"]["name"]} | '
        f'{plan["environment_steps_per_second"]:,.0f} | '
        f'{plan["replay_bytes_per_second"] / 1e6:,.0f} | '
        f'{plan["replay_cores"]:.1f} ({plan["replay_vcpus"]}) | '
        f'{plan["fetches_per_second"]:,.1f} | '
        f'{plan["fetch_bytes_per_second"] / 1e6:,.0f} | '
        f'{plan["cacher_cores"]:.1f} | {plan["cachers"]} '
        f'({plan["cachers_limited_by"]}) | {plan["actors_per_cacher"]} |')
  return lines
