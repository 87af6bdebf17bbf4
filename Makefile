# Two commands for a newcomer: `make demo` runs the main job on a small default,
# `make test` runs the test suite. Both create .venv (Python 3.10) when missing.
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
RUN_DIR ?= runs/demo

.PHONY: demo pipeline test lock bundled-policy zoo study bench-throughput bench-learning bench-actors bench-adder bench-precision bench-program bench-learning-speed bench-learner bench-bt-learning bench-pretraining bench-transfer bench-ewc-sweep bench-load bench-faults bench-fault-scenarios bench-atari bench-environments r2d2-demo clean-venv

# Every package at the version of requirements.lock (tested here).
$(STAMP): setup.py requirements.txt requirements-vertex.txt requirements.lock
	@set -e; PYTHON310=$$(scripts/find_python.sh); \
	  test -x $(PY) || $$PYTHON310 -m venv $(VENV); \
	  $(PY) -m pip install --quiet --upgrade 'pip<25' wheel 'setuptools<70'; \
	  $(PY) -m pip install --quiet -c requirements.lock -e '.[test,vertex]'
	@touch $(STAMP)

# Re-pins requirements.lock to what .venv holds (after changing
# requirements*.txt and installing them).
lock: $(STAMP)
	@{ sed -n '/^#/p' requirements.lock; \
	  $(PY) -m pip freeze --exclude-editable | LC_ALL=C sort -f; } > requirements.lock.new
	@mv requirements.lock.new requirements.lock

# Transfer from the bundled pi_p to a sparse task: BT against epsilon-greedy.
demo: $(STAMP)
	$(PY) -m behavior_transfer.launch.run_pipeline --bundled=ngu_multiroom \
	  --task=reach_third_room --out_dir=$(RUN_DIR)

# The whole job: NGU pre-training, then the same transfer.
pipeline: $(STAMP)
	$(PY) -m behavior_transfer.launch.run_pipeline --task=reach_third_room \
	  --out_dir=runs/pipeline

# The pre-training behind the bundled pi_p (policies/bundled/ngu_multiroom);
# about 20 minutes on 2 cores. Its provenance.json records the command. It
# was made before MiniGrid pre-training's defaults became discount 0.95 and
# initial priority 100, so the flags keep its own 0.99 and 1.0.
bundled-policy: $(STAMP)
	$(PY) -m behavior_transfer.launch.run_ngu \
	  --environment=minigrid:MiniGrid-MultiRoom-N4-S5-v0 \
	  --max_actor_steps=2000000 --report_episodes=100 --seed=0 \
	  --discount=0.99 --initial_priority=1 \
	  --run_dir=runs/bundled_ngu_multiroom --bundle_as=ngu_multiroom

# The zoo: one NGU pi_p per suite level, bundled by name (studies/suite.py);
# LEVEL=doorkey makes one. About 12 minutes per million steps on 2 cores.
LEVEL ?= multiroom,doorkey,unlockpickup
zoo: $(STAMP)
	$(PY) -m behavior_transfer.launch.run_zoo --levels=$(LEVEL)

# The transfer study over the suite (docs/transfer_suite.md); resumable,
# sliced by STUDY_FLAGS, e.g. STUDY_FLAGS="--levels=doorkey --tasks=hard".
study: $(STAMP)
	$(PY) -m behavior_transfer.launch.run_study $(STUDY_FLAGS)

r2d2-demo: $(STAMP)
	$(PY) -m behavior_transfer.launch.run_r2d2 --run_dir=runs/r2d2_demo --overwrite

# The suite, modules that launch in-process programs each in a fresh process
# (scripts/run_tests.py says why); PYTEST_ARGS go to every pytest process.
test: $(STAMP)
	$(PY) scripts/run_tests.py $(PYTEST_ARGS)

# Synthetic actors against replay and a cacher on this machine (docs/multi_machine.md).
bench-load: $(STAMP)
	$(PY) -m benchmarks.load_simulation

# Every MiniGrid level and Atari game, reset and stepped under every task that
# applies; hangs and bad measures reported (docs/environments.md).
bench-environments: $(STAMP)
	$(PY) -m benchmarks.environment_sweep

# EWC's lambda, chosen on one suite cell (docs/transfer_suite.md).
bench-ewc-sweep: $(STAMP)
	$(PY) -m benchmarks.ewc_sweep

bench-throughput: $(STAMP)
	$(PY) -m benchmarks.throughput

bench-learning: $(STAMP)
	$(PY) -m benchmarks.r2d2_learning

bench-actors: $(STAMP)
	$(PY) -m benchmarks.actor_throughput

bench-adder: $(STAMP)
	$(PY) -m benchmarks.adder_overhead

bench-precision: $(STAMP)
	$(PY) -m benchmarks.acting_precision

bench-program: $(STAMP)
	$(PY) -m benchmarks.program_throughput --settings=2x16:4,1x32:4

bench-learning-speed: $(STAMP)
	$(PY) -m benchmarks.learning_speed

bench-learner: $(STAMP)
	$(PY) -m benchmarks.learner_cost

bench-bt-learning: $(STAMP)
	$(PY) -m benchmarks.bt_learning

bench-pretraining: $(STAMP)
	$(PY) -m benchmarks.pretraining_study --max_actor_steps=500000

bench-transfer: $(STAMP)
	$(PY) -m benchmarks.transfer_study

bench-atari: $(STAMP)
	$(PY) -m benchmarks.atari_pipeline

bench-faults: $(STAMP)
	$(PY) -m benchmarks.fault_injection --fault_runs=30 --plain_runs=30

# A second launch, a diverging learner, a full disk (needs root for a tmpfs).
bench-fault-scenarios: $(STAMP)
	$(PY) -m benchmarks.fault_scenarios --repeats=3

clean-venv:
	rm -rf $(VENV)
