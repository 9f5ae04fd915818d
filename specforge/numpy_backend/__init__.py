"""NumPy reference backend: runs compiled specs without Keras, agreeing with Keras 3 to float32 precision."""
