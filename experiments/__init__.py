"""Experiments: (environment, task, agent config, program settings) as one
typed `ExperimentSpec`, and one `run` for every agent."""

from behavior_transfer.experiments.run_experiment import make_builder
from behavior_transfer.experiments.run_experiment import make_layout
from behavior_transfer.experiments.run_experiment import policy_dir
from behavior_transfer.experiments.run_experiment import run
from behavior_transfer.experiments.run_experiment import weights_dir
from behavior_transfer.experiments.spec import AGENTS
from behavior_transfer.experiments.spec import ExperimentSpec
from behavior_transfer.experiments.spec import from_preset
from behavior_transfer.experiments.spec import override
