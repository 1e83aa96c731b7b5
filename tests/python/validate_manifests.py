"""Validates Kubernetes manifests against the schemas that `kubernetes-validate` ships (offline).

Usage: validate_manifests.py KUBERNETES_VERSION FILE...

Every document of every file is validated in strict mode (unknown fields are errors). Prints one
JSON list on stdout with, for each document, its file, kind, name and result: `valid`, `invalid`
(with the message) or `no_schema` (a kind the package has no schema for, such as a custom resource).
"""

import json
import sys

import kubernetes_validate
from kubernetes_validate import utils


def main() -> None:
    version, files = sys.argv[1], sys.argv[2:]
    report = []
    for path in files:
        for resource in utils.resources_from_file(path):
            if not resource:
                continue
            entry = {
                "file": path,
                "kind": resource.get("kind"),
                "name": (resource.get("metadata") or {}).get("name"),
            }
            try:
                kubernetes_validate.validate(resource, version, strict=True)
                entry["result"] = "valid"
            except utils.SchemaNotFoundError as e:
                entry["result"] = "no_schema"
                entry["message"] = str(e)
            except utils.ValidationError as e:
                entry["result"] = "invalid"
                entry["message"] = "%s: %s" % (".".join(str(p) for p in e.path), e.message)
            report.append(entry)
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
