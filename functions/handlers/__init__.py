"""The three Lambda entry points (api, scheduler, worker): thin adapters from AWS events to the engine."""
