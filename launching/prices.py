"""List prices per hour of what a Vertex AI custom job asks for.

Vertex AI custom training bills each replica's machine and accelerators per
hour. The figures below are its us-central1 on-demand list prices as
Compute Engine's N1 rates x 1.15 (per vCPU, per GB of memory, per GPU), before
discounts, written from the published rate card without a way to re-read it
from this workspace. Prices change and differ by region: they are the user's
to check at https://cloud.google.com/vertex-ai/pricing before
a job is paid for; a machine or accelerator not listed here is priced as
unknown, never guessed.
"""

import datetime
import re
from typing import Optional

REGION = 'us-central1'
PRICES_URL = 'https://cloud.google.com/vertex-ai/pricing'
# The day the table below was written from the rate card; the dry run says how
# old it is so that a user reading its prices knows how stale they may be.
WRITTEN_ON = datetime.date(2026, 11, 30)
# N1 machines: USD per vCPU-hour and per GB-hour of memory.
N1_VCPU_HOUR = 0.031611 * 1.15
N1_GB_HOUR = 0.004237 * 1.15
# GB of memory per vCPU of each predefined N1 family.
N1_GB_PER_VCPU = {'standard': 3.75, 'highmem': 6.5, 'highcpu': 0.9}
# USD per GPU-hour, by Vertex's accelerator type name.
ACCELERATOR_HOUR = {
    'NVIDIA_TESLA_V100': 2.48 * 1.15,
    'NVIDIA_TESLA_P100': 1.46 * 1.15,
    'NVIDIA_TESLA_T4': 0.35 * 1.15,
    'NVIDIA_TESLA_P4': 0.60 * 1.15,
    'NVIDIA_TESLA_K80': 0.45 * 1.15,
}


def machine_hour(machine_type: str) -> Optional[float]:
  """USD per hour of a predefined N1 machine ('n1-highmem-16'); None for
  a machine type outside the table."""
  match = re.fullmatch(r'n1-(standard|highmem|highcpu)-(\d+)', machine_type)
  if not match:
    return None
  vcpus = int(match.group(2))
  memory_gb = vcpus * N1_GB_PER_VCPU[match.group(1)]
  return vcpus * N1_VCPU_HOUR + memory_gb * N1_GB_HOUR


def replica_hour(machine_type: str, accelerator_type: Optional[str] = None,
                 accelerator_count: int = 0) -> Optional[float]:
  """USD per hour of one replica: its machine and its accelerators; None
  when either is outside the table."""
  machine = machine_hour(machine_type)
  if machine is None:
    return None
  if not accelerator_type or not accelerator_count:
    return machine
  accelerator = ACCELERATOR_HOUR.get(accelerator_type)
  return None if accelerator is None else (
      machine + accelerator_count * accelerator)


def age_note(today: Optional[datetime.date] = None) -> str:
  """Says when the table was written and how many days ago."""
  days = ((today or datetime.date.today()) - WRITTEN_ON).days
  return (f'list prices as written on {WRITTEN_ON.isoformat()}, '
          f'{days} day{"" if days == 1 else "s"} ago')
