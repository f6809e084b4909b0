"""Progress measures: quantities that move before the visible metric does, one module per
family of models (e.g. Fourier measures for modular arithmetic, attention scores for
induction heads, weight measures for sparse parity)."""
