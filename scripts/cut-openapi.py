#!/usr/bin/env python3
"""Cut a stand-alone OpenAPI document out of GitHub's REST API description.

Usage:
    scripts/cut-openapi.py --source api.github.com.json --out ghapitest/api/openapi-X.json \
        [--examples ghapitest/api/examples] OPERATION_ID...

The source is `generated/api.github.com.json` of the npm package
`@octokit/openapi` (get it with `npm pack @octokit/openapi@23.0.2` and
untar it; see ghapitest/api/SOURCE.md). The output keeps only the named
operations (by operationId, e.g. `repos/get-pages`) with their path-level
parameters, plus every component they reference, followed transitively;
`x-octokit` keys are dropped and `info` says what the file is. Every request
and response example of the operations is resolved and written to the
examples folder as `<operationId with / -> -->.<status|request>.<name>.json`.

It reads JSON and writes JSON: nothing fetched is executed. Running it twice
gives the same bytes.
"""

import argparse
import json
import os
import sys

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def strip_octokit(v):
    if isinstance(v, dict):
        return {k: strip_octokit(x) for k, x in v.items() if k != "x-octokit"}
    if isinstance(v, list):
        return [strip_octokit(x) for x in v]
    return v


def refs(v, out):
    """Collect every "#/components/<kind>/<name>" reference in v."""
    if isinstance(v, dict):
        r = v.get("$ref")
        if isinstance(r, str) and r.startswith("#/components/"):
            out.add(tuple(r[len("#/components/"):].split("/", 1)))
        for x in v.values():
            refs(x, out)
    elif isinstance(v, list):
        for x in v:
            refs(x, out)


def resolve(doc, v):
    """Follow a $ref chain to the referenced value."""
    while isinstance(v, dict) and isinstance(v.get("$ref"), str):
        kind, name = v["$ref"][len("#/components/"):].split("/", 1)
        v = doc["components"][kind][name]
    return v


def write_examples(doc, op_id, op, folder):
    base = op_id.replace("/", "--")
    written = []

    def emit(where, content):
        for media in (content or {}).values():
            for name, ex in sorted((media.get("examples") or {}).items()):
                ex = resolve(doc, ex)
                if "value" not in ex:
                    continue
                written.append((f"{base}.{where}.{name}.json", ex["value"]))
            if "example" in media:
                written.append((f"{base}.{where}.default.json", media["example"]))

    body = resolve(doc, op.get("requestBody") or {})
    emit("request", body.get("content"))
    for status, resp in sorted(op.get("responses", {}).items()):
        emit(status, resolve(doc, resp).get("content"))
    os.makedirs(folder, exist_ok=True)
    for name, value in written:
        with open(os.path.join(folder, name), "w", encoding="utf-8") as f:
            json.dump(value, f, indent=2, ensure_ascii=False)
            f.write("\n")
    return [n for n, _ in written]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--source", required=True, help="generated/api.github.com.json of @octokit/openapi")
    ap.add_argument("--out", required=True, help="the stand-alone document to write")
    ap.add_argument("--examples", help="folder for the examples (default: examples/ beside --out)")
    ap.add_argument("--version", default="23.0.2", help="the @octokit/openapi version, for info")
    ap.add_argument("operations", nargs="+", help="operationIds, e.g. repos/get-pages")
    a = ap.parse_args()

    with open(a.source, encoding="utf-8") as f:
        doc = json.load(f)
    want = set(a.operations)
    paths = {}
    found = {}
    for path, item in doc["paths"].items():
        for method in METHODS:
            op = item.get(method)
            if op is None or op.get("operationId") not in want:
                continue
            out = paths.setdefault(path, {k: v for k, v in item.items() if k not in METHODS})
            out[method] = op
            found[op["operationId"]] = (method.upper(), path, op)
    missing = want - set(found)
    if missing:
        sys.exit("cut-openapi: no such operation: " + ", ".join(sorted(missing)))

    paths = strip_octokit(paths)
    components = {}
    todo = set()
    refs(paths, todo)
    done = set()
    while todo:
        kind, name = todo.pop()
        if (kind, name) in done:
            continue
        done.add((kind, name))
        v = strip_octokit(doc["components"][kind][name])
        components.setdefault(kind, {})[name] = v
        refs(v, todo)
    components = {k: dict(sorted(v.items())) for k, v in sorted(components.items())}

    ops = ", ".join(sorted(want))
    out = {
        "openapi": doc["openapi"],
        "info": {
            "title": "GitHub v3 REST API (trimmed)",
            "version": a.version,
            "description": "Subset of GitHub's REST API description (github/rest-api-description, via the "
            f"@octokit/openapi npm package {a.version}, x-octokit keys removed): the operations {ops}, "
            "plus every component they reference. Cut by scripts/cut-openapi.py.",
            "license": {"name": "MIT", "url": "https://spdx.org/licenses/MIT"},
        },
        "servers": doc.get("servers", [{"url": "https://api.github.com"}]),
        "paths": dict(sorted(paths.items())),
        "components": components,
    }
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "w", encoding="utf-8") as f:
        json.dump(out, f, indent=2, ensure_ascii=False)
        f.write("\n")

    folder = a.examples or os.path.join(os.path.dirname(os.path.abspath(a.out)), "examples")
    for op_id in sorted(found):
        method, path, op = found[op_id]
        statuses = ", ".join(sorted(op.get("responses", {})))
        names = write_examples(doc, op_id, strip_octokit(op), folder)
        print(f"| {method} | {path} | {op_id} | {statuses} | {len(names)} examples")


if __name__ == "__main__":
    main()
