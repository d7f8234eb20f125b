// Evaluated once in every V8 context of the pool, before any extension. It defines the host APIs
// as synchronous functions over answers Python supplies (see docs/extensions.md, "Host calls"):
// a call whose answer is not known yet records itself and stops the script; Python computes the
// answer and runs the entry point again from the start with that answer known.
(function () {
  "use strict";
  const g = globalThis;
  let answers = {};
  let pending = null;
  let logs = [];

  function HostPending() {}

  function makeException(name) {
    function E(message) {
      const error = new Error(message);
      Object.setPrototypeOf(error, E.prototype);
      return error;
    }
    E.prototype = Object.create(Error.prototype, {
      constructor: { value: E },
      name: { value: name },
    });
    return E;
  }
  const exceptions = {
    NotFoundException: makeException("NotFoundException"),
    PersonNotFoundException: makeException("PersonNotFoundException"),
    TooManyPersonsFoundException: makeException("TooManyPersonsFoundException"),
    HostException: makeException("HostException"),
  };

  function host(api, args) {
    if (pending !== null) throw new HostPending(); // already waiting for an answer: stop here
    const key = JSON.stringify([api, args]);
    if (Object.prototype.hasOwnProperty.call(answers, key)) {
      const answer = answers[key];
      if (answer.error) {
        const Kind = exceptions[answer.error.name] || exceptions.HostException;
        throw new Kind(answer.error.message);
      }
      // A fresh copy each time: the script may change what it got.
      return answer.value === undefined ? undefined : JSON.parse(answer.value);
    }
    pending = key;
    throw new HostPending();
  }

  function text(value) {
    if (typeof value === "string") return value;
    if (value === undefined) return "undefined";
    try {
      return String(value);
    } catch (e) {
      return Object.prototype.toString.call(value);
    }
  }

  const api = {
    console: {
      log: function (message) {
        if (logs.length < 1000) logs.push(text(message).slice(0, 10000));
      },
    },
    html: {
      escape: function (value) {
        return text(value === null || value === undefined ? "" : value)
          .replace(/&/g, "&amp;")
          .replace(/</g, "&lt;")
          .replace(/>/g, "&gt;")
          .replace(/"/g, "&quot;")
          .replace(/'/g, "&#39;");
      },
    },
    store: {
      retrieveValue: function (store, key) {
        return host("store.retrieveValue", [text(store), text(key)]);
      },
      retrievePairs: function (store) {
        return host("store.retrievePairs", [text(store)]);
      },
    },
    persons: {
      listPersonSearchFields: function () {
        return host("persons.listPersonSearchFields", []);
      },
      searchPerson: function (field, value) {
        return host("persons.searchPerson", [text(field), text(value)]);
      },
    },
    artifacts: {
      retrieveArtifact: function (relationship) {
        return host("artifacts.retrieveArtifact", [relationship === undefined ? null : relationship]);
      },
      listSearchTypes: function () {
        return host("artifacts.listSearchTypes", []);
      },
      getSearchDefinition: function (searchType) {
        return host("artifacts.getSearchDefinition", [text(searchType)]);
      },
      search: function (searchType, definition) {
        return host("artifacts.search", [text(searchType), definition || {}]);
      },
      getFormattedIdSearchDefinition: function () {
        return { "formatted-id": null };
      },
      searchByFormattedId: function (definition) {
        return host("artifacts.searchByFormattedId", [definition || {}]);
      },
      toContainer: function (relationship, summary) {
        return host("artifacts.toContainer", [relationship || null, summary === undefined ? null : text(summary)]);
      },
      toRelationship: function (container) {
        if (!container) throw new exceptions.HostException("toRelationship needs a container");
        // A raw artifact's container field (artifacts.retrieveArtifact(...)['parent']) holds its id.
        if (typeof container !== "object") return { id: text(container), "repository-id": null };
        return { id: container.id, "repository-id": container["repository-id"] || null };
      },
      getAssociatedRelationship: function (relationship) {
        return host("artifacts.getAssociatedRelationship", [relationship || null]);
      },
      getAssociatedContainer: function (container) {
        return host("artifacts.getAssociatedContainer", [container || null]);
      },
    },
    ldap: {
      connect: function (url, principal, password) {
        // Nothing to keep open in the script: Hub pools the connection under these credentials.
        connection = { url: text(url), principal: text(principal), password: text(password) };
      },
      search: function (base, filter, fields) {
        if (connection === null) throw new exceptions.HostException("ldap.search before ldap.connect");
        return host("ldap.search", [connection, text(base), text(filter), fields || null]);
      },
      escape: function (value) {
        return text(value).replace(/[\\*()\u0000]/g, function (c) {
          return "\\" + ("0" + c.charCodeAt(0).toString(16)).slice(-2);
        });
      },
    },
    httpClient: {
      request: function () {
        const spec = { uri: null, parameters: [], headers: [], proxy: null, method: "GET" };
        const builder = {
          uri: function (uri) { spec.uri = text(uri); return builder; },
          parameter: function (k, v) { spec.parameters.push([text(k), text(v)]); return builder; },
          header: function (k, v) { spec.headers.push([text(k), text(v)]); return builder; },
          proxy: function (host_, port, username, password) {
            spec.proxy = {
              host: text(host_),
              port: Number(port),
              username: username === undefined ? null : text(username),
              password: password === undefined ? null : text(password),
            };
            return builder;
          },
          GET: function () {
            spec.method = "GET";
            return {
              response: function () {
                const r = host("httpClient.send", [spec]);
                return {
                  statusCode: function () { return r.status; },
                  content: function () { return r.content; },
                  headers: function () { return JSON.parse(JSON.stringify(r.headers)); },
                };
              },
            };
          },
        };
        return builder;
      },
    },
  };
  let connection = null;

  const factories = {};
  // Globals a script made (an assignment without var) are deleted after every call.
  function cleanGlobals() {
    const names = Object.getOwnPropertyNames(g);
    if (names.length === baseline.size) return;
    for (const name of names) if (!baseline.has(name)) delete g[name];
  }
  function describe(error) {
    if (error instanceof Error) {
      const stack = String(error.stack || "");
      const match = /<anonymous>:(\d+):\d+/.exec(stack) || /:(\d+):\d+\)?\s*$/m.exec(stack);
      return { message: String(error.message), name: error.name, line: match ? Number(match[1]) : null };
    }
    return { message: text(error), name: "", line: null };
  }

  // One invocation of an entry point: a fresh instance of the script (its top-level variables
  // and functions made anew), the answers known so far, and nothing from earlier calls.
  function runOne(id, entry, args, knownAnswers) {
    answers = knownAnswers;
    pending = null;
    logs = [];
    connection = null;
    const out = { logs: logs, pending: null, error: null, missing: false };
    try {
      const instance = factories[id]();
      const fn = instance[entry];
      if (typeof fn !== "function") {
        out.missing = true;
      } else {
        const result = fn.apply(null, args);
        if (pending === null) {
          out.undefined = result === undefined;
          if (!out.undefined) out.result = result;
        }
      }
    } catch (error) {
      if (!(error instanceof HostPending) && pending === null) out.error = describe(error);
    }
    out.pending = pending;
    pending = null;
    cleanGlobals();
    return out;
  }

  Object.defineProperty(g, "__hub", {
    value: Object.freeze({
      define: function (id, factory) {
        factories[id] = factory;
      },
      has: function (id) {
        return Object.prototype.hasOwnProperty.call(factories, id);
      },
      // One invocation (see runOne).
      run: function (id, entry, argsJson, answersJson) {
        return JSON.stringify(runOne(id, entry, JSON.parse(argsJson), JSON.parse(answersJson)));
      },
      // Several invocations for one artifact (the mapping lines of one direction) in one round
      // trip: each is run as if it were alone — its own instance, its own answers and logs, the
      // globals it made deleted before the next one starts.
      // ``sharedJson``: JSON texts the calls name in call[4] as [key, index] — the artifacts every
      // line of the artifact sees, sent once per batch. Each call parses its own copies (nothing
      // one call does to them reaches the next); keys naming the same text share one copy.
      // sharedTexts: an array of JSON texts, each call parsing its own copies of those it names.
      runMany: function (callsJson, sharedTexts) {
        const shared = sharedTexts === undefined ? [] : sharedTexts;
        return JSON.stringify(JSON.parse(callsJson).map(function (call) {
          const refs = call[4] || [];
          if (refs.length) {
            const copies = {};
            for (const ref of refs) {
              if (!(ref[1] in copies)) copies[ref[1]] = JSON.parse(shared[ref[1]]);
              call[2][0][ref[0]] = copies[ref[1]];
            }
          }
          return runOne(call[0], call[1], call[2], call[3]);
        }));
      },
      // Declarations a type needs, without calling anything (checked on save).
      declarations: function (id, names) {
        answers = {};
        pending = null;
        logs = [];
        const instance = factories[id]();
        const found = {};
        for (const name of names) found[name] = instance[name] === undefined ? null : typeof instance[name] === "function" ? "function" : instance[name];
        cleanGlobals();
        return JSON.stringify(found);
      },
      cleanGlobals: function () {
        cleanGlobals();
      },
    }),
  });
  // Nashorn's `for each (x in xs)` iterates values, of arrays and of plain objects alike; Hub
  // rewrites it to `for (x of __hubEach(xs))` (see extensions/runtime/legacy.py).
  Object.defineProperty(g, "__hubEach", {
    value: function (xs) {
      if (xs === null || xs === undefined) return [];
      if (typeof xs[Symbol.iterator] === "function") return xs;
      return Object.keys(xs).map(function (k) { return xs[k]; });
    },
  });
  for (const name of Object.keys(api)) Object.defineProperty(g, name, { value: Object.freeze(api[name]), enumerable: false });
  for (const name of Object.keys(exceptions)) Object.defineProperty(g, name, { value: exceptions[name] });
  // The intrinsics are shared by every call in this context: frozen, so no call can change them
  // for the next one.
  for (const intrinsic of [Object, Array, String, Number, Boolean, Function, Date, RegExp, JSON, Math, Error, Promise, Map, Set, Symbol]) {
    Object.freeze(intrinsic);
    if (intrinsic.prototype) Object.freeze(intrinsic.prototype);
  }
  const baseline = new Set(Object.getOwnPropertyNames(g));
})();
