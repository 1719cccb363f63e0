"""The embedded local model: a llama.cpp server (xllamacpp) as a child process."""
