"""A real third-party SOAP client against Rastro's TOTVS R2 service: zeep
loads the WSDL from the running server and calls every operation from it,
without hand-written XML. Prints one JSON object per call.

usage: zeep_r2.py WSDL_URL ENDPOINT TOKEN DESTINATION ORIGIN
"""

import datetime
import json
import sys

import requests
import zeep
from zeep.transports import Transport

wsdl, endpoint, token, destination, origin = sys.argv[1:6]
session = requests.Session()
session.headers["user.token"] = token
client = zeep.Client(wsdl, transport=Transport(session=session))
binding = next(iter(client.wsdl.bindings))
service = client.create_service(binding, endpoint)
brt = datetime.timezone(datetime.timedelta(hours=-3))


def order(identifier, destination_id=destination, priority=5):
    return {
        "regionSourceId": "SP",
        "identifier": identifier,
        "code": f"Pedido {identifier}",
        "shipperId": "ACME",
        "orderTypeSourceId": "VENDA",
        "priority": priority,
        "pickupStart": datetime.datetime(2026, 12, 7, 0, 1, tzinfo=brt),
        "deliveryEnd": datetime.datetime(2026, 12, 9, 23, 59, tzinfo=brt),
        "destinationId": destination_id,
        "integrationDataSource": "PROTHEUS",
        "incoterm": 1,
        "possiblePassingHubsIds": {"id": ["HUB-1", "HUB-2"]},
        "classifications": {"classification": [{"type": "CANAL", "value": "B2B"}]},
        "items": {
            "item": [
                {
                    "orderId": identifier,
                    "sourceId": f"{identifier}-1",
                    "productId": "SKU-9",
                    "originId": origin,
                    "shipmentUnitWrapperCode": "CX",
                    "price": "30.00",
                    "quantity": 3,
                    "quantityInShipmentUnits": 1,
                    "hlwAllow": True,
                }
            ]
        },
    }


def results(answer):
    return {
        "sucess": answer.sucess,
        "results": [
            {
                "identifier": r.identifier,
                "sucess": r.sucess,
                "codes": [c.value for c in (r.errorCodes.errorCode if r.errorCodes else [])],
                "message": r.errorMessage,
            }
            for r in answer.results.result
        ],
    }


created = service.createOrders(orders={"order": [order("Z-1"), order("Z-2"), order("Z-3", destination_id="NOWHERE")]})
print(json.dumps({"call": "createOrders", **results(created)}))
updated = service.updateOrders(orders={"order": [order("Z-1", priority=7)]})
print(json.dumps({"call": "updateOrders", **results(updated)}))
deleted = service.deleteOrders(orders={"order": [{"identifier": "Z-2"}, {"identifier": "Z-404"}]})
print(json.dumps({"call": "deleteOrders", **results(deleted)}))
