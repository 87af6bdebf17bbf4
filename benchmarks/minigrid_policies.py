"""How the MiniGrid benchmarks name the pi_p they study: a bundled name (its
level from its provenance) or `exported:<dir>@<level>` (a pre-training run's
<run_dir>/policy on the level it was trained on)."""

from typing import Tuple

from behavior_transfer import environments
from behavior_transfer.policies import bundled
from behavior_transfer.policies import sources


def resolve(policy: str) -> Tuple[str, str]:
  """(SavedModel directory, environment name) of a --policies entry."""
  source, at, level = policy.partition('@')
  if not at:
    level = bundled.provenance(source)['environment']
  if environments.parse(level).domain != 'minigrid':
    raise ValueError(f'{policy}: MiniGrid levels only, got {level!r}.')
  return sources.saved_model_path(source), level
