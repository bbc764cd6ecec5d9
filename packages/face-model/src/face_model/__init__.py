"""face_model."""
