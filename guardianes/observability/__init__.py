"""Operations: log context and redaction, Prometheus metrics, readiness."""
