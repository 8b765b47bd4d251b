"""Where an SQS queue URL points: endpoint and region, and the URLs that are refused."""

import pytest

from custom_components.wildix.sqs import parse_queue_url


@pytest.mark.parametrize(
    ("url", "endpoint", "region"),
    [
        (
            "https://sqs.eu-central-1.amazonaws.com/123456789012/wildix",
            "https://sqs.eu-central-1.amazonaws.com",
            "eu-central-1",
        ),
        (
            " https://SQS.us-gov-west-1.amazonaws.com/123456789012/wildix.fifo/ ",
            "https://sqs.us-gov-west-1.amazonaws.com",
            "us-gov-west-1",
        ),
        (
            "https://eu-west-1.queue.amazonaws.com/123456789012/pbx-events",
            "https://eu-west-1.queue.amazonaws.com",
            "eu-west-1",
        ),
        (
            "https://sqs.cn-north-1.amazonaws.com.cn/123456789012/wildix",
            "https://sqs.cn-north-1.amazonaws.com.cn",
            "cn-north-1",
        ),
        (
            "http://127.0.0.1:5000/123456789012/wildix",
            "http://127.0.0.1:5000",
            "us-east-1",
        ),
        ("http://[::1]:4566/000000000000/wildix", "http://[::1]:4566", "us-east-1"),
        (
            "http://sqs.eu-south-1.localhost:4566/000000000000/wildix",
            "http://sqs.eu-south-1.localhost:4566",
            "eu-south-1",
        ),
    ],
)
def test_queue_url_gives_endpoint_and_region(
    url: str, endpoint: str, region: str
) -> None:
    """The endpoint and the region come from the queue URL."""
    queue = parse_queue_url(url)
    assert (queue.endpoint_url, queue.region) == (endpoint, region)
    assert queue.url.startswith(endpoint)


@pytest.mark.parametrize(
    "url",
    [
        "sqs.eu-central-1.amazonaws.com/123456789012/wildix",
        "http://sqs.eu-central-1.amazonaws.com/123456789012/wildix",
        "https://sqs.eu-central-1.amazonaws.com/wildix",
        "https://sqs.eu-central-1.amazonaws.com/123456789012/wil dix",
        "https://sqs.eu-central-1.amazonaws.com/123456789012/wildix?Action=x",
        "https://user:pass@sqs.eu-central-1.amazonaws.com/123456789012/wildix",
        "https://sqs.eu-central-1.amazonaws.com:99999/123456789012/wildix",
        "ftp://127.0.0.1/123456789012/wildix",
        "",
    ],
)
def test_malformed_queue_urls_are_refused(url: str) -> None:
    """Anything but an https (or loopback http) queue URL is refused."""
    with pytest.raises(ValueError):
        parse_queue_url(url)
