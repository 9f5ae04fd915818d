"""specforge-onnx: the ``onnx`` backend for specforge (export to ONNX, inference with onnxruntime)."""

__version__ = "0.1.0"
