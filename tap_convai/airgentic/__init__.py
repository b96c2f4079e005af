"""Airgentic: the Insights raw-records API."""

from singer_sdk import typing as th

from tap_convai.airgentic.streams import AirgenticRecordsStream
from tap_convai.settings import Vendor, base_url_property, id_list_property, lookback_property

VENDOR = Vendor(
    key="airgentic",
    title="Airgentic",
    description="Airgentic Insights API (raw records). Present = enabled.",
    settings=th.ObjectType(
        th.Property("api_key", th.StringType, required=True, secret=True,
                    description="Insights API key (Security screen), sent as `api-key`."),
        th.Property("account_id", th.StringType, required=True,
                    description="Airgentic account id."),
        id_list_property("service_ids", "Service ids to extract"),
        base_url_property(AirgenticRecordsStream.default_base_url),
        lookback_property(3, "for late taxonomy/cluster/theme enrichment"),
        additional_properties=False,
    ),
    streams=(AirgenticRecordsStream,),
    partition_setting="service_ids",
    partition_key="service_id",
)
