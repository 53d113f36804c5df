"""Properties of every alarm the layers create."""

from __future__ import annotations

from tests.synth import Synthesis

# Metrics that stop arriving when what they measure is gone: silence is the incident.
LIVENESS_METRICS = {"RunningTaskCount"}


def test_every_alarm_decides_what_missing_data_means(synth: Synthesis) -> None:
    # Error counts are not published when nothing fails: "missing" would leave those alarms in
    # INSUFFICIENT_DATA and "breaching" would page on a quiet night. Liveness is the opposite.
    alarms = [
        (stack, body) for stack, type_, _, body in synth.all_resources() if type_ == "aws_cloudwatch_metric_alarm"
    ]
    assert len(alarms) >= 10
    for stack, alarm in alarms:
        metrics = [alarm.get("metric_name")] + [
            q["metric"]["metric_name"] for q in alarm.get("metric_query", []) if "metric" in q
        ]
        expected = "breaching" if LIVENESS_METRICS & set(metrics) else "notBreaching"
        assert alarm.get("treat_missing_data") == expected, f"{stack}: {alarm['alarm_name']}"
