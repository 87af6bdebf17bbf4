"""Where a benchmark's figures go: a JSON file that names its command."""

import json
import os
import sys
from typing import Any, Dict


def write(path: str, module: str, figures: Dict[str, Any]) -> None:
  """Writes `figures` to `path` with the command line that measured them
  (`python -m <module> <this process's flags>`), and says so."""
  os.makedirs(os.path.dirname(path) or '.', exist_ok=True)
  command = ' '.join([f'python -m {module}'] + sys.argv[1:])
  with open(path, 'w') as f:
    json.dump({'command': command, **figures}, f, indent=2)
  print(f'\nWrote {path}')
