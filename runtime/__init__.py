"""Process helpers for bulk work, shared by linkage, storage and the pipeline; no hub logic.

parallel      threads for numpy passes, worker processes for pure-Python work
gc_pause      the cyclic garbage collector paused while a bulk step builds millions of objects
memory        freed heap memory handed back to the operating system
crashpoints   named points where the crash-consistency tests kill the process
"""
