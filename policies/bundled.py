"""Pre-trained policies shipped inside the package, loadable by a short name.

Each bundled policy is a folder `policies/bundled/<name>/` holding a
self-contained SavedModel written by `pretrained.export_policy`, the
Q-network's weights as a TF checkpoint in `weights/` (for weight transfer,
`--weight_init`), and a `provenance.json`: the command that made it, the
commit, seed, budget, wall time, and its measured exploration next to a
uniformly random policy's. `run_ngu --bundle_as=<name>` (library:
`studies/bundle.py`; `make bundled-policy` for `ngu_multiroom`) writes one.

  --pretrained=bundled:<name>     run_bt: pi_p
  --weights=bundled:<name>        run_bt: its weights, for --weight_init
  --bundled=<name>                run_pipeline: instead of pre-training
"""

import json
import os
import re
from typing import Any, Dict, List

from behavior_transfer.environments import names
from behavior_transfer.policies import pretrained

BUNDLED_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                           'bundled')
PROVENANCE_FILE = 'provenance.json'
WEIGHTS_DIR = 'weights'


def bundled_names(directory: str = BUNDLED_DIR) -> List[str]:
  """Names of the policies shipped with this copy of the package, sorted."""
  if not os.path.isdir(directory):
    return []
  return sorted(
      name for name in os.listdir(directory)
      if os.path.isfile(os.path.join(directory, name, PROVENANCE_FILE)))


def check_new_name(name: str) -> str:
  """Returns `name` if it can name a bundled policy's folder."""
  if not re.fullmatch(r'[a-z0-9][a-z0-9_-]*', name):
    raise ValueError(f'A bundled policy name must be lower-case letters, '
                     f'digits, "_" or "-" (got {name!r}).')
  return name


def policy_path(name: str, directory: str = BUNDLED_DIR) -> str:
  """The SavedModel folder of bundled policy `name`; an unknown name raises an
  error naming the shipped ones."""
  return os.path.join(directory, names.check_name(
      'bundled policy', name, bundled_names(directory)))


def weights_path(name: str, directory: str = BUNDLED_DIR) -> str:
  """The checkpoint directory of bundled policy `name`'s Q-network weights."""
  return os.path.join(policy_path(name, directory), WEIGHTS_DIR)


def provenance(name: str, directory: str = BUNDLED_DIR) -> Dict[str, Any]:
  """How bundled policy `name` was made and how it explores."""
  path = os.path.join(policy_path(name, directory), PROVENANCE_FILE)
  try:
    with open(path) as f:
      return json.load(f)
  except (OSError, ValueError) as e:
    raise ValueError(f'Cannot read the provenance file {path}: {e}') from e


def load(name: str, directory: str = BUNDLED_DIR) -> pretrained.ExportedPolicy:
  """Bundled policy `name` as a frozen pi_p."""
  return pretrained.ExportedPolicy(policy_path(name, directory))
