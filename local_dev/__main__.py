"""``python -m local_dev``: start the platform locally (same as ``wfp dev``)."""

from .cli import main

if __name__ == "__main__":
    main(["dev", *__import__("sys").argv[1:]])
