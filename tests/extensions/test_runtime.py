"""The runtime: fresh state per call, limits that stop runaways while the process keeps answering,
errors with their lines, legacy ``for each``, console.log, and synchronous host calls by replay."""

from __future__ import annotations

import time

import pytest

from extensions import runtime
from extensions.errors import ExtensionFailed
from extensions.runtime import Call, HostError, compile_check, invoke, invoke_many

SPLIT_AND_TRIM = """
var inputTypes = 'String';
var outputTypes = ['String', 'String'];

function transform(context, input) {
  if (input) {
    var values = input.split('/');
    if (values.length != 2) {
      throw 'Unexpected value ' + input;
    }
    return values.map(function(s) {
      return s.trim();
    });
  }
}
"""


def test_an_entry_point_returns_its_value():
    assert invoke(SPLIT_AND_TRIM, "transform", [{}, " web / api "]).value == ["web", "api"]


def test_returning_nothing_is_undefined_not_null():
    result = invoke(SPLIT_AND_TRIM, "transform", [{}, ""])
    assert result.undefined and result.value is None


def test_a_thrown_string_fails_with_17011E_and_its_message():
    with pytest.raises(ExtensionFailed) as failure:
        invoke(SPLIT_AND_TRIM, "transform", [{}, "a/b/c"])
    assert failure.value.code == "CCRRTT-17011E"
    assert "Unexpected value a/b/c" in failure.value.message


def test_a_thrown_error_names_its_line():
    script = "function transform(c, i) {\n  var x = 1;\n  throw new Error('bad input ' + i);\n}"
    with pytest.raises(ExtensionFailed) as failure:
        invoke(script, "transform", [{}, "q"])
    assert "bad input q" in failure.value.message
    assert failure.value.line == 3


def test_a_syntax_error_names_its_line():
    with pytest.raises(ExtensionFailed) as failure:
        compile_check("var inputTypes = 'String';\nfunction transform(c, i) {\n  return i +;\n}")
    assert failure.value.line == 3
    assert "SyntaxError" in failure.value.message or "Unexpected" in failure.value.message


def test_declarations_are_read_without_calling_anything():
    _, found = compile_check(SPLIT_AND_TRIM)
    assert found["inputTypes"] == "String"
    assert found["outputTypes"] == ["String", "String"]
    assert found["transform"] == "function"
    assert found["transitionArtifact"] is None


def test_a_missing_entry_point_fails():
    with pytest.raises(ExtensionFailed, match="no function transitionArtifact"):
        invoke(SPLIT_AND_TRIM, "transitionArtifact", [{}, []])


def test_globals_do_not_survive_between_calls():
    script = """
    var counter = 0;
    function transform(c, i) {
      counter = counter + 1;
      leaked = (typeof leaked === 'undefined' ? 0 : leaked) + 1;
      return [counter, leaked];
    }"""
    assert invoke(script, "transform", [{}, None]).value == [1, 1]
    assert invoke(script, "transform", [{}, None]).value == [1, 1]


def test_a_call_sees_nothing_another_extension_s_call_left():
    writer = "function transform(c, i) { shared = 'from the other artifact'; globalThis.also = 1; return 0; }"
    reader = "function transform(c, i) { return [typeof shared, typeof also]; }"
    assert invoke(writer, "transform", [{}, None]).value == 0
    assert invoke(reader, "transform", [{}, None]).value == ["undefined", "undefined"]


def test_arguments_with_line_breaks_tabs_and_separators_arrive_intact():
    # The request line carries the code after a tab (sandbox.serve): text values must not break it.
    text = "a\tb\nc\r\u2028d\u2029e \\ \" ' </script> \x00 é 😀"
    script = "function transform(c, i) { return [i, c.note, i.length]; }"
    result = invoke(script, "transform", [{"note": text}, text])
    assert result.value == [text, text, len(text.encode("utf-16-le")) // 2]


LEAKY = """
var counter = 0;
function transform(c, i) {
  counter = counter + 1;
  leaked = (typeof leaked === 'undefined' ? 0 : leaked) + 1;
  return [counter, leaked, i];
}"""


def test_the_calls_of_one_batch_share_no_state_with_each_other(monkeypatch):
    exchanges = []
    request = runtime.SANDBOX.request
    monkeypatch.setattr(runtime.SANDBOX, "request", lambda *a, **k: exchanges.append(1) or request(*a, **k))
    results = invoke_many([Call(LEAKY, "transform", [{}, n]) for n in ("a", "b", "c")])
    assert [r.value for r in results] == [[1, 1, "a"], [1, 1, "b"], [1, 1, "c"]]
    assert len(exchanges) == 1  # one round trip for the three lines of an artifact


def test_a_failing_call_of_a_batch_fails_alone_with_its_own_message():
    def host(api, args):
        if args[1] == "gone":
            raise HostError("NotFoundException", "no such key")
        return args[1].upper()

    lookup = (
        "function transform(c, i) { try { return store.retrieveValue('S', i); } catch (e) { return e.name } }"
    )
    results = invoke_many(
        [
            Call(lookup, "transform", [{}, "web"], host),
            Call("function transform(c, i) { throw 'bad ' + i; }", "transform", [{}, "x"]),
            Call(lookup, "transform", [{}, "gone"], host),
        ]
    )
    assert results[0].value == "WEB"
    assert isinstance(results[1], ExtensionFailed) and "bad x" in results[1].message
    assert results[2].value == "NotFoundException"


def test_a_runaway_in_a_batch_is_the_runaway_call_s_failure_alone():
    results = invoke_many(
        [
            Call(SPLIT_AND_TRIM, "transform", [{}, "a/b"]),
            Call("function transform(c, i) { while (true) {} }", "transform", [{}, None]),
        ]
    )
    assert results[0].value == ["a", "b"]
    assert isinstance(results[1], ExtensionFailed) and "time limit" in results[1].message


def test_a_call_cannot_change_the_builtins_for_the_next():
    script = "function transform(c, i) { Array.prototype.hacked = 1; return [].hacked === undefined; }"
    assert invoke(script, "transform", [{}, None]).value is True
    assert invoke(script, "transform", [{}, None]).value is True


@pytest.mark.parametrize(
    "body, expected",
    [
        ("while (true) {}", "time limit"),
        ("var a = []; while (true) { a.push(new Array(1e6).fill(1)); }", "memory"),
        # V8 fills this sparse array slowly: the time limit or the heap limit stops it first.
        ("var a = new Array(1e9).fill(0); return a.length;", "time limit|memory"),
        ("function r(n) { return r(n + 1) + 1; } return r(0);", "Maximum call stack"),
        ("throw 'runaway';", "runaway"),
    ],
    ids=["endless loop", "growing memory", "new Array(1e9)", "deep recursion", "throw"],
)
def test_a_runaway_script_fails_and_the_next_call_still_works(body, expected):
    # Generous for the memory cases: filling the heap takes a while on a loaded machine.
    limit = 30.0 if expected == "memory" else 2.0
    with pytest.raises(ExtensionFailed, match=expected) as failure:
        invoke(f"function transform(c, i) {{ {body} }}", "transform", [{}, None], time_limit=limit)
    assert failure.value.code == "CCRRTT-17011E"
    assert invoke(SPLIT_AND_TRIM, "transform", [{}, "a/b"]).value == ["a", "b"]


def test_the_documented_legacy_for_each_runs():
    script = """
    function transitionArtifact(context, transitions) {
        var transition = findTransitionWithLabel(transitions, 'Resolve');
        return transition.id;
    }
    function findTransitionWithLabel(transitions, label) {
        for each(var transition in transitions) {
            if (transition.label === label) {
                return transition;
            }
        }
    }"""
    transitions = [{"id": "1", "label": "Start"}, {"id": "2", "label": "Resolve"}]
    assert invoke(script, "transitionArtifact", [{}, transitions]).value == "2"
    compiled, _ = compile_check(script)
    assert "rewrote 1 legacy" in compiled.notice


def test_for_each_in_a_string_or_comment_is_left_alone():
    script = "// for each (var x in y)\nfunction transform(c, i) { return 'for each (var a in b)'; }"
    compiled = runtime.Compiled.of(script)
    assert compiled.notice == ""
    assert invoke(script, "transform", [{}, None]).value == "for each (var a in b)"


def test_for_each_over_an_object_iterates_its_values():
    script = "function transform(c, i) { var s = []; for each (var v in i) { s.push(v); } return s; }"
    assert invoke(script, "transform", [{}, {"a": "x", "b": "y"}]).value == ["x", "y"]


def test_console_log_collects_one_argument_as_text():
    script = "function transform(c, i) { console.log({a: 1}); console.log(42); console.log('x', 'ignored'); }"
    assert invoke(script, "transform", [{}, None]).logs == ["[object Object]", "42", "x"]


def test_dot_and_bracket_property_access():
    script = "function transform(c, i) { return i.email + ' ' + i['person-id']; }"
    assert invoke(script, "transform", [{}, {"email": "a@b", "person-id": "7"}]).value == "a@b 7"


def test_host_calls_are_synchronous_and_answered_once():
    asked = []

    def host(api, args):
        asked.append((api, args))
        return {"store.retrieveValue": "v-" + "".join(args)}.get(api)

    script = """function transform(c, i) {
        var a = store.retrieveValue('s', 'k1');
        var b = store.retrieveValue('s', 'k2');
        var again = store.retrieveValue('s', 'k1');
        return [a, b, again];
    }"""
    result = invoke(script, "transform", [{}, None], host)
    assert result.value == ["v-sk1", "v-sk2", "v-sk1"]
    assert asked == [("store.retrieveValue", ["s", "k1"]), ("store.retrieveValue", ["s", "k2"])]
    assert [call.api for call in result.host_calls] == ["store.retrieveValue"] * 2


def test_a_host_exception_can_be_caught_by_the_script():
    def host(api, args):
        raise HostError("PersonNotFoundException", "nobody")

    script = """function transform(c, i) {
        try { persons.searchPerson('email', 'x'); return 'found'; }
        catch (e) { return e.name + ': ' + e.message + ' ' + (e instanceof PersonNotFoundException); }
    }"""
    assert invoke(script, "transform", [{}, None], host).value == "PersonNotFoundException: nobody true"


def test_a_script_catching_everything_still_gets_its_host_answer():
    script = """function transform(c, i) {
        var v;
        try { v = store.retrieveValue('s', 'k'); } catch (e) { v = 'caught ' + e; }
        return v;
    }"""
    assert invoke(script, "transform", [{}, None], lambda api, args: "real").value == "real"


def test_html_escape():
    script = "function transform(c, i) { return html.escape(i); }"
    escaped = invoke(script, "transform", [{}, '<a href="x">&\'']).value
    assert escaped == "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"


def test_a_sandbox_that_dies_mid_call_fails_only_that_call():
    import os
    import signal
    import threading

    invoke(SPLIT_AND_TRIM, "transform", [{}, "a/b"])  # the sandbox is up
    pid = runtime.SANDBOX.pid()
    failures = []

    def endless():
        try:
            invoke("function transform(c, i) { while (true) {} }", "transform", [{}, None], time_limit=60)
        except ExtensionFailed as error:
            failures.append(error)

    worker = threading.Thread(target=endless)
    worker.start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not runtime.SANDBOX.busy():
        time.sleep(0.01)  # polling for the call to be under way
    os.kill(pid, signal.SIGKILL)
    worker.join(timeout=60)
    assert failures and failures[0].code == "CCRRTT-17011E"
    assert invoke(SPLIT_AND_TRIM, "transform", [{}, "c/d"]).value == ["c", "d"]
    assert runtime.SANDBOX.pid() != pid


@pytest.mark.django_db
def test_a_worker_starts_its_sandbox_early_only_where_extensions_exist(make_extension):
    from extensions.services import start_sandbox_if_used

    runtime.SANDBOX.close()
    assert start_sandbox_if_used() is False
    assert runtime.SANDBOX.pid() is None  # no extension: no V8 child for this worker
    make_extension("Plain", SPLIT_AND_TRIM)
    assert start_sandbox_if_used() is True
    started = runtime.SANDBOX.pid()
    assert started is not None
    assert invoke(SPLIT_AND_TRIM, "transform", [{}, "a/b"]).value == ["a", "b"]
    assert runtime.SANDBOX.pid() == started  # the first call used the child started early


def test_shared_artifacts_are_sent_once_yet_each_call_gets_its_own_copy():
    artifact = {"summary": "Login", "labels": ["a"]}
    changer = (
        "function transform(c, i) { c.source.summary = 'changed'; c.source.labels.push('b'); "
        "return c.source.summary; }"
    )
    reader = "function transform(c, i) { return [c.source.summary, c.source.labels, c.alias === c.target]; }"
    shared = {"source": artifact, "target": {"x": 1}}
    shared["alias"] = shared["target"]
    calls = [Call(script, "transform", [{}, None], shared=shared) for script in (changer, reader)]
    first, second = invoke_many(calls)
    assert first.value == "changed"
    assert second.value == ["Login", ["a"], True]  # the first call's changes did not reach it
    assert artifact == {"summary": "Login", "labels": ["a"]}  # nor Python's object
