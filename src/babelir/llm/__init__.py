"""Language models behind an OpenAI-compatible endpoint (vLLM, llama.cpp server, Ollama, TGI, OpenAI).

:class:`babelir.llm.client.LLMClient` sends chat completions; the judging pre-labels, and the LLM
rerankers and abstention, use it. Nothing here is imported by ``import babelir``.
"""
