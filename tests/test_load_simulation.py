"""The load simulation's accounting, bounds and refusals."""

import pytest

from behavior_transfer.studies import load_simulation as simulation

ENVIRONMENT = 'minigrid:MiniGrid-Empty-5x5-v0'


def _report(steps, seconds=2., latencies=(0.001, 0.003), step_bytes=100):
  return {'steps': steps, 'seconds': seconds, 'step_bytes': step_bytes,
          'fetches': len(latencies), 'latencies': list(latencies),
          'fetched_bytes': 1000 * len(latencies), 'items': steps // 10}


def test_accounting_of_hand_made_reports():
  settings = simulation.LoadSettings(ENVIRONMENT, actors=2, seconds=2.)
  load = simulation.summarise(
      settings, [_report(400), _report(600),
                 {'sampler_batches_per_second': 7.}],
      {'replay': 0.5, 'cacher': 0.25})
  assert load['steps_per_second'] == 500.
  assert load['steps_per_second_per_actor'] == 250.
  assert load['items_per_second'] == 50.
  assert load['replay_bytes_per_second'] == 50_000.
  assert load['replay_bytes_per_second_per_core'] == 100_000.
  assert load['fetches_per_second'] == 2.
  assert load['fetch_bytes_per_second'] == 2000.
  assert load['fetch_bytes_per_second_per_core'] == 8000.
  assert load['fetch_latency_ms_p50'] == pytest.approx(2.)
  assert load['sampler_batches_per_second'] == 7.


def test_knee_is_where_scaling_drops_below_eighty_percent():
  loads = [{'actors': n, 'steps_per_second': rate,
            'steps_per_second_per_actor': rate / n}
           for n, rate in ((1, 100.), (2, 190.), (4, 330.), (8, 400.))]
  assert simulation.knee(loads) == 8  # 330 >= 320, 400 < 640.
  assert simulation.knee(loads[:3]) is None


def test_bounds_and_other_hosts_are_refused():
  with pytest.raises(ValueError, match='this machine only'):
    simulation.LoadSettings(ENVIRONMENT, host='replay.example.com')
  with pytest.raises(ValueError, match='Between 1 and 64'):
    simulation.LoadSettings(ENVIRONMENT, actors=65)
  with pytest.raises(ValueError, match='at most 300'):
    simulation.LoadSettings(ENVIRONMENT, seconds=3600.)


def test_a_tiny_load_writes_fetches_and_samples():
  load = simulation.simulate(simulation.LoadSettings(
      ENVIRONMENT, actors=1, seconds=4., fetch_period=50))
  assert load['steps_per_second'] > 0
  # One item per replay period once a sequence is full.
  assert load['items_per_second'] == pytest.approx(
      load['steps_per_second'] / 10, rel=0.1)
  assert load['fetches_per_second'] == pytest.approx(
      load['steps_per_second'] / 50, rel=0.1)
  assert load['fetch_latency_ms_p50'] > 0
  assert load['sampler_batches_per_second'] > 0


def _load(actors, replay_cores, cacher_cores, steps_per_second=1000.,
          fetches_per_second=2.):
  return {'actors': actors, 'replay_cores': replay_cores,
          'cacher_cores': cacher_cores, 'steps_per_second': steps_per_second,
          'replay_bytes_per_second': steps_per_second * 10_000,
          'replay_bytes_per_second_per_core':
              steps_per_second * 10_000 / replay_cores,
          'fetches_per_second': fetches_per_second,
          'fetch_bytes_per_second': fetches_per_second * 25e6,
          'fetch_bytes_per_second_per_core':
              fetches_per_second * 25e6 / cacher_cores}


def test_capacity_comes_from_the_busiest_load():
  capacity = simulation.measured_capacity(
      [_load(1, 0.2, 0.1), _load(4, 0.8, 0.4, 4000., 8.)])
  assert capacity['replay_measured_at_actors'] == 4
  assert capacity['replay_bytes_per_second_per_core'] == 4000 * 10_000 / 0.8
  assert capacity['step_bytes'] == 10_000
  assert capacity['fetch_bytes'] == 25e6
  with pytest.raises(ValueError, match='No measured load'):
    simulation.measured_capacity([])


def test_plan_scales_replay_with_steps_and_cachers_with_fetches():
  """50 MB/s per replay core and 500 MB/s per cacher core: 256 actors of
  one environment at 400 steps/s, fetching every 400 steps, write 1,024 MB/s
  (20.5 cores) and fetch 256 x 25 MB/s = 6.4 GB/s (12.8 cacher cores; 10
  cachers of 2 vCPUs at 70%, but egress of 0.5 GB/s each needs 13)."""
  capacity = {'replay_bytes_per_second_per_core': 50e6,
              'fetch_bytes_per_second_per_core': 500e6,
              'step_bytes': 10_000, 'fetch_bytes': 25e6}
  plan = simulation.capacity_plan(capacity, simulation.PlanTarget(
      'paper', 256, 1, 400., 400))
  assert plan['environment_steps_per_second'] == 102_400
  assert plan['replay_cores'] == pytest.approx(20.48)
  assert plan['replay_vcpus'] == 30  # 20.48 / 0.7, rounded up.
  assert plan['fetches_per_second'] == 256
  assert plan['cacher_cores'] == pytest.approx(12.8)
  assert plan['cachers'] == 13 and plan['cachers_limited_by'] == 'egress'
  assert plan['actors_per_cacher'] == 20
  # 16 actors of 16 environments fetch once per 16 x 400 steps.
  wide = simulation.capacity_plan(capacity, simulation.PlanTarget(
      'wide', 16, 16, 6400., 400))
  assert wide['replay_cores'] == plan['replay_cores']
  assert wide['fetches_per_second'] == 16
  assert wide['cachers'] == 1
  # Actors whose environments share a writer send each step in every item.
  shared = simulation.capacity_plan(capacity, simulation.PlanTarget.parse(
      '16x16@6400', 400, lambda envs: 3.025 if envs > 1 else 1.))
  assert shared['replay_cores'] == pytest.approx(3.025 * plan['replay_cores'])
  assert len(simulation.plan_table([plan, wide])) == 4


def test_plan_targets_parse_and_malformed_ones_are_refused():
  target = simulation.PlanTarget.parse('256x1@324', 400)
  assert target == simulation.PlanTarget('256 x 1', 256, 1, 324., 400)
  assert simulation.PlanTarget.parse('16x16@997.5', 50).envs_per_actor == 16
  for bad in ('256x1', '256@324', '256x1@fast', 'x1@324', '0x1@324',
              '4x4@-3', '4x4x4@3'):
    with pytest.raises(ValueError, match='--plan takes'):
      simulation.PlanTarget.parse(bad, 400)
