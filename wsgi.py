import gc

from portal import create_app

app = create_app()
# The app's own objects (models, routes, catalogues, configuration) live as long as the process: moved out of the
# garbage collector's reach, its full passes no longer walk them, which otherwise stalled one request in a few
# dozen by ~100 ms on the operations centre's pages (docs/BENCHMARKS.md). With gunicorn --preload the workers
# share these pages of memory too.
gc.freeze()
