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
