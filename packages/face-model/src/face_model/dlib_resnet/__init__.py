"""dlib's public-domain face-recognition ResNet, read from its ``.dat`` without dlib."""
