"""The deploy rehearsal (``wfp deploy --rehearse``): the real CDK CLI against moto's server standing in for AWS.

``stand_in`` runs that server with the CloudFormation support our template needs and moto lacks;
``verify`` checks what the stack created against what the platform derives it from.
"""
