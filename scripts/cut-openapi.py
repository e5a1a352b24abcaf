#!/usr/bin/env python3
"""Cut operations out of GitHub's REST API description into a stand-alone
OpenAPI document for ghapitest (see ghapitest/api/SOURCE.md).

Input: generated/api.github.com.json of the npm package @octokit/openapi
(fetch it with `npm pack @octokit/openapi@23.0.2` and untar it; the package
is data, nothing in it is run). Output: the document with only the named
operations (other methods of their paths are left out), every component they
reference, followed transitively, `x-octokit` keys removed; and every request
and response example of those operations, resolved, one per file in the
examples folder, named

    <operationId with / as -->.<status|request>.<example name>.json

Usage:

    scripts/cut-openapi.py --from package/generated/api.github.com.json \
        --out ghapitest/api/openapi-apps.json --examples ghapitest/api/examples \
        --title "GitHub App manifests" apps/create-from-manifest

The output is deterministic (paths and components sorted by name, the
operations as upstream writes them, two-space indent, a final newline): run
again on the same input it writes the same bytes.
"""

import argparse
import copy
import json
import os
import sys

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def strip_octokit(node):
    if isinstance(node, dict):
        return {k: strip_octokit(v) for k, v in node.items() if k != "x-octokit"}
    if isinstance(node, list):
        return [strip_octokit(v) for v in node]
    return node


def refs(node, out):
    if isinstance(node, dict):
        r = node.get("$ref")
        if isinstance(r, str) and r.startswith("#/components/"):
            out.add(r)
        for v in node.values():
            refs(v, out)
    elif isinstance(node, list):
        for v in node:
            refs(v, out)


def lookup(doc, ref):
    node = doc
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def resolve(doc, node):
    while isinstance(node, dict) and "$ref" in node:
        node = lookup(doc, node["$ref"])
    return node


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--from", dest="src", required=True, help="generated/api.github.com.json")
    ap.add_argument("--out", required=True, help="the document to write")
    ap.add_argument("--examples", required=True, help="the folder examples are written to")
    ap.add_argument("--title", required=True, help="what the document holds, for info.title")
    ap.add_argument("ops", nargs="+", help="operationIds to keep, e.g. apps/create-from-manifest")
    args = ap.parse_args()

    with open(args.src, encoding="utf-8") as f:
        upstream = json.load(f)

    wanted = set(args.ops)
    paths = {}
    found = {}
    for p, item in upstream["paths"].items():
        for m in METHODS:
            op = item.get(m)
            if isinstance(op, dict) and op.get("operationId") in wanted:
                paths.setdefault(p, {})[m] = strip_octokit(op)
                found[op["operationId"]] = (m.upper(), p)
    missing = wanted - set(found)
    if missing:
        sys.exit("operations not in the description: " + ", ".join(sorted(missing)))

    # Components referenced, transitively.
    seen = set()
    todo = set()
    refs(paths, todo)
    while todo:
        r = todo.pop()
        if r in seen:
            continue
        seen.add(r)
        more = set()
        refs(lookup(upstream, r), more)
        todo |= more - seen
    components = {}
    for r in sorted(seen):
        _, _, kind, name = r.split("/", 3)
        components.setdefault(kind, {})[name] = strip_octokit(lookup(upstream, r))
    components = {k: dict(sorted(v.items())) for k, v in sorted(components.items())}

    version = upstream.get("info", {}).get("version", "")
    doc = {
        "openapi": upstream["openapi"],
        "info": {
            "title": "GitHub v3 REST API (trimmed): " + args.title,
            "version": version,
            "description": "Subset of GitHub's REST API description (github/rest-api-description, via the "
            "@octokit/openapi npm package, x-octokit keys removed), cut by scripts/cut-openapi.py. Only "
            "the operations " + ", ".join(sorted(wanted)) + " are kept, plus every component they reference.",
            "license": {"name": "MIT", "url": "https://spdx.org/licenses/MIT"},
        },
        "servers": upstream.get("servers", []),
        "paths": dict(sorted(paths.items())),
        "components": components,
    }
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2, ensure_ascii=False)
        f.write("\n")

    os.makedirs(args.examples, exist_ok=True)
    written = []

    def write_examples(op_id, where, content):
        for media, body in sorted((content or {}).items()):
            if not media.startswith("application/json"):
                continue
            for name, ex in sorted((body.get("examples") or {}).items()):
                value = resolve(upstream, ex).get("value")
                if value is None:
                    continue
                fname = "%s.%s.%s.json" % (op_id.replace("/", "--"), where, name)
                with open(os.path.join(args.examples, fname), "w", encoding="utf-8") as f:
                    json.dump(copy.deepcopy(value), f, indent=2, ensure_ascii=False)
                    f.write("\n")
                written.append(fname)

    for p, item in paths.items():
        for m, op in item.items():
            op_id = op["operationId"]
            rb = resolve(upstream, op.get("requestBody", {}))
            write_examples(op_id, "request", rb.get("content"))
            for status, resp in op.get("responses", {}).items():
                write_examples(op_id, status, resolve(upstream, resp).get("content"))

    for op_id in sorted(found):
        m, p = found[op_id]
        print("%s %s %s" % (m, p, op_id))
    for k, v in components.items():
        print("components.%s: %d" % (k, len(v)))
    for fname in sorted(written):
        print("example " + fname)


if __name__ == "__main__":
    main()
