"""The run: discovering files, the project index for a run, the worker pool, the result
cache, ``# noqa`` bookkeeping and writing fixes. Imports the engine and below."""
