"""Vertex AI launch without a cloud account: per-group resources, the plan
Launchpad's own `vertex_ai` path makes (the dry run), and bad input."""

import datetime
import json
import os
import subprocess
import sys
import tempfile
from unittest import mock

from absl.testing import absltest
import cloudpickle

from behavior_transfer import experiments
from behavior_transfer.distributed import nodes
from behavior_transfer.launching import prices
from behavior_transfer.launching import resources
from behavior_transfer.launching import runs
from behavior_transfer.launching import vertex
from behavior_transfer.policies import bundled

MINIGRID = 'minigrid:MiniGrid-Empty-5x5-v0'
ATARI = 'atari:pong'
BUNDLED_LEVEL = 'minigrid:MiniGrid-MultiRoom-N4-S5-v0'


def make_layout(environment=MINIGRID, run_dir='/gcs/bucket/run', r2d2=None,
                **program):
  """R2D2's layout on `environment` under its preset, with `r2d2` and
  `program` fields replaced."""
  return experiments.make_layout(experiments.override(
      experiments.from_preset('r2d2', environment, 1000), r2d2=r2d2,
      program=program), run_dir)


class ResourcesTest(absltest.TestCase):

  def test_replay_step_bytes_follow_the_replay_signature(self):
    # One step: the observation, the previous action and reward (OAR), the
    # action, reward and discount, start_of_episode, and the LSTM state.
    lstm_bytes = 2 * 64 * 4  # The small preset's LSTM: 64 units, float32.
    self.assertEqual(resources.step_bytes(make_layout()),
                     7 * 7 * 3 + 4 + 4 + 4 + 4 + 4 + 1 + lstm_bytes)
    self.assertEqual(resources.step_bytes(make_layout(ATARI)),
                     84 * 84 + 4 + 4 + 4 + 4 + 4 + 1 + 2 * 512 * 4)

  def test_replay_asks_for_the_smallest_highmem_machine_that_holds_it(self):
    needed = resources.PROCESS_GIB + resources.REPLAY_OVERHEAD * (
        resources.replay_bytes(make_layout(ATARI)) / resources.GIB)
    replay = resources.group_resources(make_layout(ATARI))['replay']
    self.assertGreaterEqual(replay.ram_gib, needed)
    smaller = [gib for _, gib in resources.HIGHMEM_MACHINES
               if gib < replay.ram_gib]
    self.assertLess(max(smaller), needed)
    with self.assertRaisesRegex(ValueError, 'lower max_replay_size'):
      resources.group_resources(make_layout(ATARI, r2d2=dict(max_replay_size=10**7)))

  def test_replay_memory_grows_with_the_table_and_is_asked_for(self):
    small = make_layout(ATARI, r2d2=dict(max_replay_size=1000))
    large = make_layout(ATARI, r2d2=dict(max_replay_size=100_000))
    def steps_held(**fields):
      layout = make_layout(ATARI, r2d2=dict(max_replay_size=100_000, **{
          k: v for k, v in fields.items() if k == 'share_replay_writer'}),
                           envs_per_actor=fields['envs_per_actor'])
      return resources.replay_bytes(layout) // resources.step_bytes(layout)
    # Sequences of 121 steps every 40 share chunks: 40 steps each.
    self.assertEqual(steps_held(envs_per_actor=1), 100_000 * 40 + 121)
    self.assertEqual(steps_held(envs_per_actor=16, share_replay_writer=False),
                     100_000 * 40 + 121)
    # Sent whole through one writer per actor: 121 steps each.
    self.assertEqual(steps_held(envs_per_actor=16), 100_000 * 121 + 121)
    asked = resources.group_resources(large)['replay'].ram_gib
    self.assertGreaterEqual(asked * resources.GIB,
                            resources.REPLAY_OVERHEAD *
                            resources.replay_bytes(large))
    self.assertLess(resources.group_resources(small)['replay'].ram_gib, asked)

  def test_actors_are_sized_by_their_environments(self):
    one = resources.group_resources(make_layout(envs_per_actor=1))['actor']
    many = resources.group_resources(make_layout(envs_per_actor=64))['actor']
    self.assertLess(one.cpu, many.cpu)
    self.assertLess(one.ram_gib, many.ram_gib)
    self.assertIsNone(many.accelerator)

  def test_the_learner_gets_the_accelerator_asked_for(self):
    layout = make_layout()
    self.assertEqual(resources.group_resources(layout, 'A100')['learner']
                     .accelerator, 'A100')
    self.assertIsNone(resources.group_resources(layout, None)['learner']
                      .accelerator)
    requirements = resources.group_resources(layout, 'V100')[
        'learner'].job_requirements()
    self.assertEqual(requirements.accelerator.name.upper(), 'V100')

  def test_every_program_fits_vertex_four_worker_pools(self):
    for environment in (MINIGRID, ATARI):
      for num_actors in (1, 3, 256):
        for envs_per_actor in (1, 16, 64):
          sizes = resources.group_resources(make_layout(
              environment, num_actors=num_actors,
              envs_per_actor=envs_per_actor))
          self.assertLessEqual(len(set(sizes.values())), 4,
                               (environment, num_actors, envs_per_actor))

  def test_the_staged_code_imports_and_installs_the_pinned_stack(self):
    with tempfile.TemporaryDirectory() as directory:
      resources.stage_code(directory)
      package = os.path.join(directory, 'behavior_transfer')
      for module in ('distributed/layout.py', 'launching/vertex.py',
                     'policies/bundled/ngu_multiroom/saved_model.pb'):
        self.assertTrue(os.path.exists(os.path.join(package, module)), module)
      for left_out in ('tests', 'benchmarks', 'runs', '.venv', '.git'):
        self.assertFalse(os.path.exists(os.path.join(package, left_out)))
      with open(os.path.join(directory, 'requirements.txt')) as f:
        requirements = f.read()
      for pin in ('tensorflow==2.8.0', 'dm-launchpad==0.5.0',
                  'protobuf==3.19.6', 'xmanager==0.3.0'):
        self.assertIn(pin, requirements)
      # Every other package at the locked version.
      self.assertIn('-c requirements.lock', requirements)
      with open(os.path.join(directory, 'requirements.lock')) as f:
        self.assertIn('numpy==1.23.5', f.read())


class PlanTest(absltest.TestCase):
  """What Launchpad's vertex_ai path would submit, recorded."""

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.layout = make_layout(num_actors=3)
    cls.program = cls.layout.build()
    cls.plan = vertex.plan(cls.program, resources.docker_configs(
        cls.layout, cls.program.groups, 'V100'))

  def test_pools_hold_one_replica_per_node(self):
    pools = self.plan.pools
    self.assertLessEqual(len(pools), 4)
    self.assertEqual(pools[0].replicas, 1)  # Vertex's rule for pool 0.
    nodes_per_group = {group: len(members)
                       for group, members in self.program.groups.items()}
    placed = {}
    for pool in pools:
      for group in pool.nodes:
        placed[group] = placed.get(group, 0) + 1
    self.assertEqual(placed, nodes_per_group)
    [actors] = [pool for pool in pools if 'actor' in pool.nodes]
    self.assertEqual(actors.nodes, ['actor'] * 3)
    self.assertEqual(actors.requirements.replicas, 3)

  def test_machines_are_what_vertex_receives(self):
    [learner] = [pool for pool in self.plan.pools if 'learner' in pool.nodes]
    self.assertEqual(learner.nodes, ['learner'])
    self.assertEqual(learner.machine_spec['accelerator_type'].name,
                     'NVIDIA_TESLA_V100')
    self.assertEqual(learner.machine_spec['accelerator_count'], 1)
    # n1-standard-8 takes one V100 on Vertex.
    self.assertEqual(learner.machine_spec['machine_type'], 'n1-standard-8')
    [replay] = [pool for pool in self.plan.pools if 'replay' in pool.nodes]
    self.assertTrue(replay.machine_spec['machine_type'].startswith(
        'n1-highmem-'), replay.machine_spec)
    for pool in self.plan.pools:
      self.assertTrue(pool.machine_spec['machine_type'].startswith('n1-'))

  def test_each_pool_context_holds_its_pickled_nodes_and_entry_point(self):
    for pool in self.plan.pools:
      context = pool.container.path
      self.assertEqual(pool.entrypoint(),
                       ['python', '-m', 'process_entry',
                        '--data_file=job.pkl'])
      for name in ('process_entry.py', 'requirements.txt',
                   'behavior_transfer/__init__.py'):
        self.assertTrue(os.path.exists(os.path.join(context, name)), name)
      with open(os.path.join(context, 'job.pkl'), 'rb') as f:
        functions = cloudpickle.load(f)
      self.assertLen(functions, pool.replicas)
      self.assertEqual(pool.container.base_image, 'python:3.10')

  def test_nodes_resolve_each_other_through_cluster_spec(self):
    addresses = {pool.name: [f'10.0.{index}.{replica}:2222'
                             for replica in range(pool.replicas)]
                 for index, pool in enumerate(self.plan.pools)}
    expected = {}
    for index, pool in enumerate(self.plan.pools):
      for replica, group in enumerate(pool.nodes):
        expected.setdefault(group, []).append(f'10.0.{index}.{replica}:2222')
    spec = self.plan.cluster_spec(addresses, 'workerpool0', 0)
    os.environ['CLUSTER_SPEC'] = json.dumps(spec)
    try:
      for group, members in self.program.groups.items():
        resolved = [node.addresses[0].resolve() for node in members]
        self.assertEqual(resolved, expected[group], group)
    finally:
      del os.environ['CLUSTER_SPEC']

  def test_describe_names_pools_machines_and_groups(self):
    text = self.plan.describe()
    for words in ('4 worker pools', '9 replicas',
                  'workerpool0', 'NVIDIA_TESLA_V100', 'actor x3',
                  'process_entry', 'pip install -r requirements.txt',
                  f'${self.plan.hourly_cost():.2f} per hour', 'check at',
                  f'written on {prices.WRITTEN_ON}'):
      self.assertIn(words, text)

  def test_the_job_costs_every_replica_of_every_pool(self):
    [learner] = [pool for pool in self.plan.pools if 'learner' in pool.nodes]
    # n1-standard-8 (8 vCPUs, 30 GB) and one V100.
    self.assertAlmostEqual(learner.replica_hour(),
                           8 * prices.N1_VCPU_HOUR + 30 * prices.N1_GB_HOUR +
                           prices.ACCELERATOR_HOUR['NVIDIA_TESLA_V100'])
    # Every node of the program is one replica, priced by its pool's machine:
    # counted from the program's groups, not from the pools.
    price_of = {group: pool.replica_hour() for pool in self.plan.pools
                for group in pool.nodes}
    self.assertAlmostEqual(
        self.plan.hourly_cost(),
        sum(len(nodes) * price_of[group]
            for group, nodes in self.program.groups.items()))


class PricesTest(absltest.TestCase):

  def test_n1_machines_are_priced_by_vcpus_and_memory(self):
    # The rate card's per-machine prices that the per-vCPU and per-GB
    # rates must reproduce.
    for machine, listed in (('n1-standard-4', 0.2185), ('n1-standard-8', 0.4370),
                            ('n1-highmem-2', 0.1360), ('n1-highmem-16', 1.0884)):
      self.assertAlmostEqual(prices.machine_hour(machine), listed, places=3,
                             msg=machine)
    self.assertAlmostEqual(prices.replica_hour('n1-standard-8',
                                               'NVIDIA_TESLA_T4', 2),
                           0.4370 + 2 * 0.4025, places=3)

  def test_what_the_table_does_not_hold_is_unknown_not_guessed(self):
    self.assertIsNone(prices.machine_hour('a2-highgpu-1g'))
    self.assertIsNone(prices.machine_hour('n1-ultramem-40'))
    self.assertIsNone(prices.replica_hour('n1-standard-8', 'TPU_V3', 8))
    self.assertEqual(prices.replica_hour('n1-highmem-2', None, 0),
                     prices.machine_hour('n1-highmem-2'))

  def test_the_prices_say_how_old_they_are(self):
    later = prices.WRITTEN_ON + datetime.timedelta(days=40)
    self.assertEqual(prices.age_note(later),
                     f'list prices as written on {prices.WRITTEN_ON}, '
                     '40 days ago')
    self.assertIn('1 day ago', prices.age_note(
        prices.WRITTEN_ON + datetime.timedelta(days=1)))


class PortableNodesTest(absltest.TestCase):

  def test_nodes_name_the_bundled_policy_not_this_machines_path(self):
    # The package lives elsewhere in the image, so a node pickled with this
    # checkout's path to the bundled pi_p or its weights would not find them.
    spec = experiments.from_preset(
        'bt', BUNDLED_LEVEL, 1000, task='reach_third_room',
        pretrained='bundled:ngu_multiroom', weight_init='partial',
        weights_checkpoint='bundled:ngu_multiroom')
    layout = experiments.make_layout(
        experiments.override(spec, program=dict(num_actors=1)),
        '/gcs/bucket/run')
    program = layout.build()
    plan = vertex.plan(program, resources.docker_configs(
        layout, program.groups, None))
    for pool in plan.pools:
      with open(os.path.join(pool.container.path, 'job.pkl'), 'rb') as f:
        pickled = f.read()
      self.assertNotIn(resources.PACKAGE_DIR.encode(), pickled, pool.nodes)
      self.assertNotIn(bundled.BUNDLED_DIR.encode(), pickled, pool.nodes)


class BadInputTest(absltest.TestCase):

  def test_a_local_run_directory_is_refused_for_vertex(self):
    with tempfile.TemporaryDirectory() as directory:
      run_dir = os.path.join(directory, 'run')
      with self.assertRaisesRegex(ValueError, '/gcs/<bucket>'):
        experiments.run(experiments.from_preset('r2d2', MINIGRID, 1000),
                        run_dir, launch_type=vertex.VertexLaunch('submit'))
      self.assertFalse(os.path.exists(run_dir))

  def test_unknown_mode_and_accelerator_are_refused_naming_valid_ones(self):
    with self.assertRaisesRegex(ValueError, 'submit, dry_run, rehearsal'):
      vertex.VertexLaunch('cluster')
    with self.assertRaisesRegex(ValueError, "'V200'; valid: .*V100.*A100"):
      vertex.VertexLaunch('submit', 'V200')

  def test_submission_hands_over_and_blocks_a_second_launch(self):
    # Everything but the cloud: the shared-storage and credentials checks
    # and Launchpad's submission are replaced; what runs.py does around them
    # is real.
    submitted = []
    with tempfile.TemporaryDirectory() as directory, \
        mock.patch.object(vertex, 'check_run_dir'), \
        mock.patch.object(vertex, 'check_cloud_setup'), \
        mock.patch.object(vertex, 'submit', lambda program, xm_resources:
                          submitted.append((program, xm_resources))):
      run_dir = os.path.join(directory, 'run')
      spec = experiments.from_preset('r2d2', MINIGRID, 1000)
      launch = vertex.VertexLaunch('submit')
      with self.assertRaisesRegex(runs.Handover, 'Submitted to Vertex AI'):
        experiments.run(spec, run_dir, launch_type=launch)
      [(program, xm_resources)] = submitted
      self.assertEqual(set(xm_resources), set(program.groups))
      self.assertTrue(os.path.exists(os.path.join(run_dir,
                                                  runs.SUBMITTED_FILE)))
      with self.assertRaisesRegex(ValueError, 'has not ended'):
        experiments.run(spec, run_dir, launch_type=launch)
      self.assertLen(submitted, 1)

  def test_a_submitted_run_is_not_launched_again_until_it_ended(self):
    with tempfile.TemporaryDirectory() as run_dir:
      runs.check_not_submitted(run_dir)
      nodes.write_atomically(os.path.join(run_dir, runs.SUBMITTED_FILE),
                             'agent submitted today\n')
      with self.assertRaisesRegex(ValueError, 'has not ended'):
        runs.check_not_submitted(run_dir)
      nodes.write_atomically(os.path.join(run_dir, nodes.FINISHED_FILE), '')
      runs.check_not_submitted(run_dir)


def run_launcher(*flags, env=None):
  return subprocess.run(
      [sys.executable, '-m', 'behavior_transfer.launch.run_r2d2',
       f'--environment={MINIGRID}', '--launch_type=vertex_ai'] + list(flags),
      capture_output=True, text=True, timeout=300,
      env=dict(os.environ, **(env or {})))


class LauncherTest(absltest.TestCase):

  def test_dry_run_prints_the_job_and_touches_nothing(self):
    run_dir = '/gcs/bt-dry-run-test/run'
    result = run_launcher('--vertex_mode=dry_run', f'--run_dir={run_dir}',
                          '--num_actors=3', '--learner_accelerator=T4',
                          '--num_cachers=2')
    self.assertEqual(result.returncode, 0, result.stderr[-3000:])
    self.assertIn('Dry run; nothing was submitted', result.stdout)
    self.assertIn('NVIDIA_TESLA_T4', result.stdout)
    self.assertIn('actor x3', result.stdout)
    self.assertIn('cacher x2', result.stdout)
    self.assertFalse(os.path.exists(run_dir))

  def test_presets_and_replay_size_reach_the_program(self):
    # --preset=paper starts 256 actors; --max_replay_size shrinks replay's
    # machine from the n1-highmem-16 a full 100k-sequence table needs.
    result = run_launcher('--vertex_mode=dry_run', '--environment=atari:pong',
                          '--preset=paper', '--max_replay_size=1000',
                          '--run_dir=/gcs/bt-dry-run-test/paper')
    self.assertEqual(result.returncode, 0, result.stderr[-3000:])
    self.assertIn('actor x256', result.stdout)
    [replay] = [line for line in result.stdout.splitlines()
                if line.endswith('<- replay')]
    self.assertIn('n1-highmem-8 (asked: cpu=8, memory=52 GiB; $', replay)

  def test_vertex_mode_without_vertex_is_refused(self):
    result = subprocess.run(
        [sys.executable, '-m', 'behavior_transfer.launch.run_r2d2',
         '--vertex_mode=dry_run', '--run_dir=/nonexistent/run'],
        capture_output=True, text=True, timeout=300)
    self.assertEqual(result.returncode, 2, result.stderr[-3000:])
    self.assertIn('--vertex_mode applies only with --launch_type=vertex_ai',
                  result.stderr)

  def test_submission_without_a_cloud_setup_says_what_is_missing(self):
    run_dir = '/gcs/bt-submit-test/run'
    env = {name: '' for name in ('GOOGLE_CLOUD_BUCKET_NAME',)}
    env['GOOGLE_APPLICATION_CREDENTIALS'] = '/nonexistent/credentials.json'
    result = run_launcher(f'--run_dir={run_dir}', env=env)
    self.assertEqual(result.returncode, 2, result.stderr[-3000:])
    self.assertIn('GOOGLE_CLOUD_BUCKET_NAME', result.stderr)
    self.assertFalse(os.path.exists(run_dir))


if __name__ == '__main__':
  absltest.main()
