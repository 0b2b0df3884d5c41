"""Aligning with human feedback: on-policy pairs, blind review, preference data, DPO (TRL for
decoder-only models, our own seq2seq loss for encoder-decoder ones), reward models, win-rates."""
