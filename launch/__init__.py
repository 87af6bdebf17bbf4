"""absl-flag entry points that build and launch the Launchpad programs.

TensorFlow's C++ notices (no GPU, CUDA libraries missing) stay out of the
launcher's terminal.
"""

import os

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
