"""Adapters for retrieval frameworks, each an optional extra:
vidx.integrations.langchain (pip install "vidx[langchain]") and
vidx.integrations.llamaindex (pip install "vidx[llamaindex]")."""
