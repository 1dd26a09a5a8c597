"""models"""

# Registers the 'default-int8' spec with load_encoder; imports no ONNX code until it is used.
from analysis.models import int8_encoder  # noqa: F401
