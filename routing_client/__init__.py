"""Producer and consumer helpers for regional services, driven by a routing contract.

A region's routing contract (the stack output, or `RoutingContract.to_dict()`)
says where to produce each event for each destination and what to consume;
with the bootstrap address of each cluster it names, that is all a service
needs. The helpers read the contract and never look at the architecture:
header routing, a topic per region and regional clusters differ only in the
contract's contents. Depends on confluent-kafka only.

    producer = RoutingProducer(contract, bootstrap)
    producer.send("create_account", "gcp/europe-west1", b"...")
    consumer = RoutingConsumer(contract, bootstrap, group_id="accounts")
    received = consumer.poll(1.0)   # only messages for this region
"""

from routing_client.contract import Contract, Route, RoutingError
from routing_client.consumer import Received, RoutingConsumer
from routing_client.producer import RoutingProducer

__all__ = ["Contract", "Received", "Route", "RoutingConsumer", "RoutingError", "RoutingProducer"]
