"""MTCNN face detection on ONNX Runtime and numpy, converted from facenet-pytorch's weights."""
