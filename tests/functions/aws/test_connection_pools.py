"""Each client and each pynamodb model keeps ``POOL_CONNECTIONS`` connections to its service
(``functions.aws.clients``): more threads than botocore's default 10 call one service at once (the run
search's 16 shard readers), and a call over the pool opened a connection and threw it away."""

from __future__ import annotations


def test_clients_and_models_keep_enough_connections_for_the_run_search(platform):
    from functions.aws.clients import POOL_CONNECTIONS
    from functions.stores.run_search import POOL_THREADS
    from functions.stores.runs import RunModel

    assert POOL_CONNECTIONS >= POOL_THREADS
    platform.run("hello_world", {"name": "Ada"})  # the runs model's connection now exists
    client = RunModel._get_connection().connection.client
    assert client.meta.config.max_pool_connections == POOL_CONNECTIONS
    sqs = platform.core.clients.get("sqs")
    assert sqs.meta.config.max_pool_connections == POOL_CONNECTIONS
