"""Pre-trained policies pi_p, below every agent: NGU pre-training exports
them, Behavior Transfer explores with them.

The interface (`PretrainedPolicy`), its sources (exported SavedModels,
learner checkpoints, callables, scripted and random policies, policies
shipped with the package in `bundled`), source strings as launchers name
them (`policy_factory`), export, and the zero-shot and exploration
evaluation next to a random policy.
"""

from behavior_transfer.policies import bundled
from behavior_transfer.policies.evaluation import compare_with_random
from behavior_transfer.policies.evaluation import format_comparison
from behavior_transfer.policies.evaluation import policy_measures
from behavior_transfer.policies.pretrained import CallablePolicy
from behavior_transfer.policies.pretrained import check_action_spec
from behavior_transfer.policies.pretrained import export_policy
from behavior_transfer.policies.pretrained import ExportedPolicy
from behavior_transfer.policies.pretrained import from_checkpoint
from behavior_transfer.policies.pretrained import GreedyNetworkPolicy
from behavior_transfer.policies.pretrained import PretrainedPolicy
from behavior_transfer.policies.pretrained import RandomPolicy
from behavior_transfer.policies.scripted import DoorSeekingPolicy
from behavior_transfer.policies.sources import policy_factory
