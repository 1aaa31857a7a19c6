#!/usr/bin/env python3
"""Reduces the Kubernetes OpenAPI v3 documents to the compact schema kubeharden validates with.

Usage (from the repository root; needs Go for `go mod download` and Python 3.8+):

    python3 tools/gen-schema/gen_schema.py v1.37.2 > crates/schema/data/kubernetes.json

It downloads two modules through the Go module proxy into the Go module cache:
  - k8s.io/kubernetes@VERSION: api/openapi-spec/v3/*.json, the published OpenAPI v3 documents
    (field names, types, required fields, GVKs);
  - k8s.io/api@v0.MINOR.PATCH: the Go types, for the enumerations (`// +enum` string types and
    their constants), which the OpenAPI documents do not carry.
Or pass the directories yourself: --spec DIR --api DIR.

The output is one line of JSON:
  {"source": "...", "kinds": {"apps/v1/Deployment": "apps.v1.Deployment", ...},
   "types": {"apps.v1.Deployment": {"p": {"spec": "apps.v1.DeploymentSpec", ...}, "r": [...]}, ...}}
A type expression is a string:
  "s" string, "i" integer, "i32" int32, "n" number, "b" boolean, "*" anything,
  "is" int-or-string, "q" quantity (string or number), "e:A|B" one of these strings,
  "[T" a list of T, "{T" a map of string to T, any other string the name of a type in "types".
Descriptions, defaults, formats other than int32 and list/patch metadata are dropped.
"""
import argparse
import glob
import json
import os
import re
import subprocess
import sys
import tempfile


def download(module):
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["go", "mod", "init", "genschema"], cwd=tmp, check=True,
                       capture_output=True)
        out = subprocess.run(["go", "mod", "download", "-json", module], cwd=tmp, check=True,
                             capture_output=True, env=dict(os.environ, GOFLAGS="-mod=mod"))
        return json.loads(out.stdout)["Dir"]


def short(name):
    """io.k8s.api.core.v1.Pod -> core.v1.Pod (group, version, type: unique in the documents)."""
    return ".".join(name.split(".")[-3:])


# Go enumerations: `// +enum` string types, their constants, and the struct fields of that type.
ENUM_TYPE = re.compile(r"^type (\w+) string\b")
CONST = re.compile(r'^\s*(?:const\s+)?(\w+)\s+(\w+)\s*=\s*"([^"]*)"')
STRUCT = re.compile(r"^type (\w+) struct \{")
FIELD = re.compile(r'^\s*(\w+)\s+(\*|\[\])?((?:\w+\.)?\w+)\s+`json:"([^,"]+)')
IMPORT = re.compile(r'^\s*(\w+)?\s*"k8s\.io/api/([\w.]+)/(\w+)"')


def go_enums(api_dir):
    """{(group, version): {struct: {json field: [values]}}} from k8s.io/api's types.go files."""
    enums = {}    # (group, version, type) -> values
    fields = []   # (group, version, struct, json, type ref, imports)
    for path in glob.glob(os.path.join(api_dir, "*", "*", "types.go")):
        group, version = path.split(os.sep)[-3:-1]
        imports = {}
        pending_enum = False
        struct = None
        enum_types = set()
        lines = open(path, encoding="utf-8").read().splitlines()
        for line in lines:
            m = IMPORT.match(line)
            if m:
                imports[m.group(1) or m.group(3)] = (m.group(2), m.group(3))
            if line.strip() == "// +enum":
                pending_enum = True
                continue
            m = ENUM_TYPE.match(line)
            if m:
                if pending_enum:
                    enum_types.add(m.group(1))
                    enums.setdefault((group, version, m.group(1)), [])
                pending_enum = False
                continue
            if not line.startswith("//"):
                pending_enum = False
            m = STRUCT.match(line)
            if m:
                struct = m.group(1)
                continue
            if struct and line.startswith("}"):
                struct = None
                continue
            if struct:
                m = FIELD.match(line)
                if m:
                    fields.append((group, version, struct, m.group(4), m.group(3), imports))
        for line in lines:
            m = CONST.match(line)
            if m and m.group(2) in enum_types:
                values = enums[(group, version, m.group(2))]
                if m.group(3) not in values:
                    values.append(m.group(3))
    out = {}
    for group, version, struct, json_name, ref, imports in fields:
        if "." in ref:
            alias, name = ref.split(".", 1)
            if alias not in imports:
                continue
            key = (*imports[alias], name)
        else:
            key = (group, version, ref)
        values = enums.get(key)
        if values:
            out.setdefault(f"{group}.{version}.{struct}", {})[json_name] = sorted(values)
    return out


class Reducer:
    def __init__(self, defs, enums):
        self.defs = defs
        self.enums = enums
        self.types = {}

    def ref(self, name):
        d = self.defs[name]
        fmt = d.get("format")
        if name.endswith("intstr.IntOrString") or fmt == "int-or-string":
            return "is"
        if name.endswith("resource.Quantity"):
            return "q"
        if "properties" not in d:
            # Time, MicroTime (strings), RawExtension, FieldsV1, JSON, Patch... : anything
            # a client may write there that the documents do not describe field by field.
            return "s" if d.get("type") == "string" else "*"
        s = short(name)
        if s not in self.types:
            self.types[s] = None  # recursion guard (JSONSchemaProps refers to itself)
            t = {"p": {}}
            enums = self.enums.get(s, {})
            for prop, sub in sorted(d["properties"].items()):
                t["p"][prop] = self.expr(sub, enums.get(prop))
            required = sorted(d.get("required", []))
            if required:
                t["r"] = required
            self.types[s] = t
        return s

    def expr(self, e, enum=None):
        if "$ref" in e:
            return self.ref(e["$ref"].rsplit("/", 1)[1])
        if "allOf" in e and len(e["allOf"]) == 1:
            return self.expr(e["allOf"][0], enum)
        if e.get("x-kubernetes-preserve-unknown-fields") or e.get("x-kubernetes-int-or-string"):
            return "is" if e.get("x-kubernetes-int-or-string") else "*"
        t = e.get("type")
        if t == "string":
            if enum:
                return "e:" + "|".join(enum)
            return "s"
        if t == "integer":
            return "i32" if e.get("format") == "int32" else "i"
        if t == "number":
            return "n"
        if t == "boolean":
            return "b"
        if t == "array":
            return "[" + self.expr(e.get("items", {}), enum)
        if t == "object":
            if "additionalProperties" in e:
                ap = e["additionalProperties"]
                return "{" + (self.expr(ap, enum) if isinstance(ap, dict) else "*")
            return "*"
        return "*"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("version", help="Kubernetes release, e.g. v1.37.2")
    p.add_argument("--spec", help="api/openapi-spec/v3 directory (default: downloaded)")
    p.add_argument("--api", help="k8s.io/api module directory (default: downloaded)")
    a = p.parse_args()
    spec = a.spec or os.path.join(download(f"k8s.io/kubernetes@{a.version}"),
                                  "api", "openapi-spec", "v3")
    api = a.api or download("k8s.io/api@v0." + a.version.split(".", 1)[1])
    defs = {}
    for f in sorted(glob.glob(os.path.join(spec, "*.json"))):
        with open(f, encoding="utf-8") as fh:
            defs.update(json.load(fh).get("components", {}).get("schemas", {}))
    r = Reducer(defs, go_enums(api))
    kinds = {}
    for name, d in sorted(defs.items()):
        gvks = d.get("x-kubernetes-group-version-kind", [])
        if len(gvks) != 1 or "properties" not in d:
            continue  # DeleteOptions, WatchEvent: in every group, never a manifest
        g = gvks[0]
        if name.split(".")[-1] != g["kind"]:
            continue
        api_version = f"{g['group']}/{g['version']}" if g["group"] else g["version"]
        kinds[f"{api_version}/{g['kind']}"] = r.ref(name)
    out = {
        "source": f"k8s.io/kubernetes {a.version} api/openapi-spec/v3; enums from k8s.io/api",
        "kinds": kinds,
        "types": dict(sorted(r.types.items())),
    }
    json.dump(out, sys.stdout, separators=(",", ":"))
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
