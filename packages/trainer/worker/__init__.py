"""PyTorch worker for in-place ESFT training of DeepSeek-V2-family models (see README.md)."""
