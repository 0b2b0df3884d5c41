"""Making the model cheaper to serve: int8 dynamic quantization with its measured quality cost
(`lifecycle optimize quantize`), and export for vLLM (`lifecycle optimize export`)."""
