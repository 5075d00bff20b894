"""``python -m livecommerce`` runs the CLI."""

from livecommerce.cli import main

if __name__ == "__main__":
    main(prog_name="livecommerce")
