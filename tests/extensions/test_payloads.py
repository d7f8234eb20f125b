"""The runtime side of payload transformations: the guide's Jenkins example, ignoring a payload,
several artifacts from one payload, parameters and headers as arrays, and bad output (17024E)."""

from __future__ import annotations

import pytest

from extensions.errors import OutputInvalid
from extensions.payloads import transform_payload

pytestmark = pytest.mark.django_db

JENKINS_EXAMPLE = """
function transformPayload(payload) {
  var createdTimestamp = new Date(payload.build.completion_time).toISOString();
  var created = createdTimestamp.substring(0,createdTimestamp.indexOf('T'));
  return [
    {
      'created': created,
      'summary': payload.name + ': '+payload.build.full_url,
      'status': payload.status
    }
  ];
}
"""
JENKINS_PAYLOAD = {
    "name": "Robot Lawnmower",
    "url": "job/Robot%20Lawnmower/",
    "build": {
        "full_url": "http://build.example.com:8081/job/Robot%20Lawnmower/4/",
        "number": 4.0,
        "phase": "COMPLETED",
        "status": "FAILURE",
        "url": "job/Robot%20Lawnmower/4/",
        "scm": {},
        "causes": ["Started by user admin"],
        "duration_string": "9 ms",
        "completion_time": 1.476313762942e12,
    },
}
PUSH_EVENT = """
function transformPayload(payload) {
  var gatewayPayloads = [];
  for each (var commit in payload.commits) {
    gatewayPayloads.push(createCommitPayload(commit));
  }
  return gatewayPayloads;
}
function createCommitPayload(commit) { return { summary: commit.message }; }
"""


def payload_extension(make_extension, script):
    return make_extension("Payload", script, type="payload_transformation")


def test_the_jenkins_example(extensions_licensed, make_extension):
    artifacts = transform_payload(payload_extension(make_extension, JENKINS_EXAMPLE), JENKINS_PAYLOAD)
    assert artifacts == [
        {
            "created": "2016-10-12",
            "summary": "Robot Lawnmower: http://build.example.com:8081/job/Robot%20Lawnmower/4/",
            # the example reads payload.status, which this payload has only under build: undefined,
            # and so no field
        }
    ]


def test_an_empty_array_ignores_the_payload(extensions_licensed, make_extension):
    extension = payload_extension(make_extension, "function transformPayload(p) { return []; }")
    assert transform_payload(extension, {}) == []


def test_one_payload_makes_several_artifacts(extensions_licensed, make_extension):
    extension = payload_extension(make_extension, PUSH_EVENT)
    commits = {"commits": [{"message": "Fix login"}, {"message": "Add tests"}]}
    assert transform_payload(extension, commits) == [{"summary": "Fix login"}, {"summary": "Add tests"}]


def test_parameters_and_headers_arrive_as_arrays(extensions_licensed, make_extension):
    script = "function transformPayload(p, parameters, headers) { return [{summary: parameters.a.join() + headers['X-Event'][0]}]; }"  # noqa: E501
    extension = payload_extension(make_extension, script)
    result = transform_payload(extension, {}, parameters={"a": ["1", "2"]}, headers={"X-Event": "push"})
    assert result == [{"summary": "1,2push"}]


def test_output_that_is_not_an_array_of_objects_is_17024E(extensions_licensed, make_extension):
    extension = payload_extension(make_extension, "function transformPayload(p) { return 'x'; }")
    with pytest.raises(OutputInvalid) as failure:
        transform_payload(extension, {})
    assert failure.value.code == "CCRRTT-17024E"


def test_fields_the_model_lacks_are_17024E(extensions_licensed, make_extension):
    extension = payload_extension(
        make_extension, "function transformPayload(p) { return [{colour: 'red'}]; }"
    )
    with pytest.raises(OutputInvalid, match="colour"):
        transform_payload(extension, {}, model_fields=["summary", "status"])
