"""Running a local GGUF model: chat templates (``chat_template``), the llama.cpp backend (``backend``, the only
user of llama-cpp-python internals) and the batch decoder (``decode``)."""
