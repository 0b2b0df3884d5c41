"""Generation: model loading, decoding presets -> GenerationConfig, the batched engine."""
