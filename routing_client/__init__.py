"""Producer and consumer helpers for regional services, driven by a routing contract.

A region's routing contract (the stack output, or `RoutingContract.to_dict()`)
says where to produce each event for each destination and what to consume;
with the bootstrap address of each cluster it names, that is all a service
needs. The helpers read the contract and never look at the architecture:
header routing, a topic per region and regional clusters differ only in the
contract's contents. Depends on confluent-kafka only. See README.md here.

    with RoutingProducer(contract, bootstrap) as producer:   # exit: flush, DeliveryError if any failed
        producer.send("create_account", "gcp/europe-west1", b"...")
    with RoutingConsumer(contract, bootstrap, group_id="accounts") as consumer:
        consumer.process(handle, timeout=1.0)   # confirmed when handle() returns; redelivered if it raises
"""

from routing_client.consumer import Received, RoutingConsumer, Unroutable
from routing_client.contract import Contract, Route, RoutingError
from routing_client.failover import FailoverConsumer, FailoverProducer
from routing_client.producer import DeliveryError, FailedMessage, RoutingProducer

__all__ = [
    "Contract",
    "DeliveryError",
    "FailedMessage",
    "FailoverConsumer",
    "FailoverProducer",
    "Received",
    "Route",
    "RoutingConsumer",
    "RoutingError",
    "RoutingProducer",
    "Unroutable",
]
