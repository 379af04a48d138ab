"""Write template.yaml as CloudFormation receives it (after the SAM transform, with samconfig.toml's
prod parameters), for checkov: on the SAM template alone it cannot see the IAM roles and Function URL
permissions SAM generates. Usage: python -m local_cloud.transformed OUT.json"""

from __future__ import annotations

import json
import sys
import tomllib

from local_cloud.stack import ROOT, load_template, translate


def main(out: str) -> None:
    template = load_template()
    for resource in template["Resources"].values():
        properties = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if isinstance(properties.get(key), str):  # what `sam package` puts there
                properties[key] = f"s3://deployment-bucket/{properties[key]}"
        if "DefinitionUri" in properties:
            properties["DefinitionUri"] = {"Bucket": "deployment-bucket", "Key": properties["DefinitionUri"]}
    overrides = tomllib.loads((ROOT / "samconfig.toml").read_text())["prod"]["deploy"]["parameters"]
    parameters = dict(pair.split("=", 1) for pair in overrides["parameter_overrides"].split())
    with open(out, "w") as file:
        json.dump(translate(template, parameters), file, indent=1)


if __name__ == "__main__":
    main(sys.argv[1])
